"""Low-stock alerts: a message to `LOW_STOCK_WEBHOOK_URL` when stock runs low or out.

Flow: the engine's store is wrapped (`WatchedStore`), so every committed transaction is
seen after it committed, whatever path ran it (API, webhooks, cron, console). The ledger
entries the transaction wrote carry each stock line's counters before and after, from
which `crossings` tells which lines changed state. A line that gets worse (in stock to low
or out, low to out) is claimed in its durable alert document
(`inventory.alert.<product>[.<line>]`, guarded write), so it is announced at most once per
state until it recovers; the claimed message is then posted with bounded retries, and a
delivery that fails is written to the error log. Nothing here can fail or slow the stock
operation: on the HTTP app the work runs after the response has been sent
(`after_response`).
"""
