"""Pure planners: (documents as read, request, now) -> `Plan`. No I/O here."""
