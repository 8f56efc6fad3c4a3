"""Webhook receivers' logic: Stripe payments and refunds, Sanity product edits.

HTTP-free: `service.entrypoints.http.webhooks` verifies and translates requests, this package
decides what each delivery means for stock and runs it through the engine (`Inventory`).

- `stripe_signature`: verify a Stripe delivery on its raw body (the stripe library,
  imported only when a delivery arrives).
- `stripe_payloads`: the few fields stocksync reads from events, parsed defensively.
- `stripe_events`: one event -> one engine decision, exactly once, in any order.
- `refunds`, `refund_lines`, `held_refunds`: refunds (the metadata format that names the
  lines of a partial one; refunds that arrive before their payment).
- `sessions`: which checkout session a payment intent belongs to.
- `gateway`: the Stripe API lookups (checkout session, session of a payment intent).
- `fulfillment`: the success-page path.
- `sanity_signature`, `sanity_products`: the Sanity GROQ-powered webhook.
- `outcome`, `errors`: what a delivery did, and why one was refused.
"""

from __future__ import annotations
