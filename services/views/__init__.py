"""Blueprints, one per audience: public pages, search, the staff area, the JSON API."""
