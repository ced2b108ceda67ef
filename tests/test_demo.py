"""The demo catalogue shipped with the project: big enough, every structured field filled."""

import json
import unicodedata

from services.catalogue import records
from services.catalogue.transfer import DEMO_CATALOGUE


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_demo_catalogue_is_complete(app):
    document = json.loads(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    procedures = document["procedures"]
    assert len(procedures) >= 60
    assert len(document["agencies"]) >= 10
    implementing = {
        link["agency"]
        for p in procedures
        for link in p["agencies"]
        if link["role"] == "implementing" and link["agency"]
    }
    assert len(implementing) >= 10
    with app.app_context():
        for raw in procedures:
            record = records.normalize_procedure(raw)
            if record["status"] != "published":
                continue
            for key in (
                "steps",
                "channels",
                "dossier",
                "legal_bases",
                "results",
                "levels",
                "fields",
                "subjects",
                "agencies",
            ):
                assert record[key], (record["code"], key)
            assert record["decision_number"], record["code"]
    assert all(unicodedata.is_normalized("NFC", s) for s in _strings(document))
    settings = document["settings"]
    assert settings["portal_name"]
    assert settings["desk_address"]
