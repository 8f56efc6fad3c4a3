"""Stripe as the tests see it: objects and events shaped from Stripe's published fixtures,
and a small stateful fake of the Stripe API endpoints stocksync calls.

- `reference`: finds `fixtures3.json` (`../shared/reference/stripe/`), skipping when absent.
- `objects`: Checkout Sessions, payment intents, charges and refunds built from the fixtures.
- `events`: webhook events around them (snapshot events per API version, thin v2 events).
- `fake`: `FakeStripe`, the stateful fake: drive a checkout, pay, refund, fail a refund, and
  collect the events Stripe would send; `server` serves it over HTTP (uvicorn in a thread,
  for `STRIPE_API_BASE`) or to an httpx client in-process (respx or an ASGI transport).
"""
