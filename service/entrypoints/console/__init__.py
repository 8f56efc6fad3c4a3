"""The staff console at `/console`: server-rendered pages over the engine and the read models.

Sign-in takes a staff key (`ADMIN_API_KEYS`); the session is a signed cookie, every form
carries a CSRF token bound to the session, and roles allow exactly what the staff API
allows. Pages are Jinja2 templates with a small stylesheet and no JavaScript. Stock changes
go through `Inventory.adjust`, the one way stock changes.
"""
