"""Blueprints, one per audience: public pages, search, the JSON API, files, printing, and the
staff area's auth, editor and admin; templating registers what every template shares."""
