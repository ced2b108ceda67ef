"""Open data: the catalogue for machines. schema.org JSON-LD for pages (schema_org), the
CPSV-AP export (cpsv), the record of published changes and its feeds (changes, feeds), the
sitemap and robots.txt (sitemap), the API's description (openapi); links rooted at the
configured base URL (links)."""
