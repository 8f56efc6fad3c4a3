"""Pure data and arithmetic the planners work on: stock counters, reservations (holds),
the shop's states, the plan of one transaction and the snapshot it was read from."""
