"""Read models for staff and monitoring: ledger history, reservations, error logs, health.

Reads only (plus resolving an error log, which changes no stock). Queries find what to show;
nothing here decides a stock change, so eventual consistency on Sanity is acceptable.
"""
