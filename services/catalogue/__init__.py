"""The catalogue: records (input → canonical record), converting records and models, the
queries the public pages read, storing records, and catalogue files (import, export, CSV)."""
