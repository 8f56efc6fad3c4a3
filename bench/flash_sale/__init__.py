"""The flash-sale benchmark: many buyers, few units, several stocksync processes, one store.

`stocksync bench flash-sale` starts a Sanity-compatible lake server with injected latency
(`lake_process`), K `stocksync serve` processes using `SanityClient` against it (`cluster`),
seeds the products, lets N buyers reserve one unit each and then pays (signed Stripe
webhooks) or releases every hold (`shoppers`), checks the store's counters (`verify`) and
prints one JSON object of figures (`figures`) with a chart (`chart`). `run` ties them
together; nothing here is imported by the service.
"""
