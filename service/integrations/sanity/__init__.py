"""Sanity: the product webhook (signature, document id) and the generated Studio schema."""
