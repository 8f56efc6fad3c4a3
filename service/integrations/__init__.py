"""Adapters to the outside systems: verify, parse, translate to engine operations.

- `stripe/`: Stripe webhooks (signature, the few event fields used, one event -> engine
  operations, refunds and their line metadata, which checkout a payment belongs to) and the
  Stripe API lookups (`gateway`), plus the success-page path (`fulfillment`).
- `sanity/`: the Sanity GROQ-powered webhook (signature, document id) and the generated
  Studio schema.
- `alerts/`: low-stock crossings read from the engine's writes, posted to a webhook.
- `errors`, `outcome`: why a delivery was refused, what it did (shared by the webhooks).

HTTP-free: `service.entrypoints.http.webhooks` reads the request and shapes the answer.
Every stock decision is the engine's (`service.engine`), the only package imported here;
the three integrations never import each other (docs/architecture.md, import contracts).
"""

from __future__ import annotations
