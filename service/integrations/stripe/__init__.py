"""Stripe: webhook signature and payloads, events translated to engine operations, API lookups."""
