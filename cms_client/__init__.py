"""cms_client."""
