"""Relevance of search, measured on graded judgments (tests/relevance/): 44 queries over the
demo catalogue, and over the real catalogue (../shared/data/tthc-real, imported once per
session by `flask import`) 79 regression queries and the 440 written from the user's side
(needs.json: both its splits; tune on "train" only, with bench/relevance.py). Each kind of
query must keep the level it reached: nDCG@10 and success@5 (a right answer among the first
five)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from services import search
from tests import relevance
from tests.helpers import close_app, sqlite_app

# The levels reached (rounded down), per kind: (nDCG@10, success@5).
FLOORS = {
    "demo": {
        "abbreviation": (1.0, 1.0),
        "code": (1.0, 1.0),
        "decision": (1.0, 1.0),
        "diacritics": (0.97, 1.0),
        "english": (0.97, 1.0),
        "everyday": (0.97, 1.0),
        "no-diacritics": (0.94, 1.0),
        "phrase": (0.95, 1.0),
        "typo": (1.0, 1.0),
        "all": (0.97, 1.0),
    },
    "needs": {
        "abbreviation": (0.82, 0.92),
        "english": (0.74, 0.95),
        "everyday": (0.62, 0.77),
        "name": (0.95, 1.0),
        "need": (0.55, 0.70),
        "no-diacritics": (0.89, 0.96),
        "typo": (0.87, 0.97),
        "all": (0.75, 0.88),
    },
    "real": {
        "abbreviation": (0.90, 1.0),
        "code": (1.0, 1.0),
        "decision": (1.0, 1.0),
        "diacritics": (0.96, 1.0),
        "english": (0.92, 1.0),
        "everyday": (0.88, 1.0),
        "no-diacritics": (0.97, 1.0),
        "phrase": (0.99, 1.0),
        "typo": (0.95, 1.0),
        "all": (0.94, 1.0),
    },
}


def _measure(app: Flask, name: str) -> dict[str, dict]:
    def ranked(text: str) -> list[str]:
        page = search.find(search.Params(q=text, per_page=10), record=False)
        return [result.procedure.code for result in page.results]

    with app.app_context():
        return relevance.evaluate(relevance.load(name), ranked)


def _check(report: dict[str, dict], floors: dict[str, tuple[float, float]]) -> None:
    table = relevance.table(report)
    misses = "\n".join(f"  {s:.2f} {q!r} → {top}" for q, s, top in report["all"]["misses"])
    for kind, (ndcg, success) in floors.items():
        assert report[kind]["ndcg@10"] >= ndcg, f"{kind}\n{table}\n{misses}"
        assert report[kind]["success@5"] >= success, f"{kind}\n{table}\n{misses}"


@pytest.fixture(scope="module")
def real_app(portal_import) -> Iterator[Flask]:
    """An app on the session's imported real catalogue; searches only read it."""
    application = sqlite_app(portal_import[0])
    yield application
    close_app(application)


def test_every_kind_of_query_is_covered():
    for name in FLOORS:
        queries = relevance.load(name)
        kinds = {q["kind"] for q in queries}
        assert kinds == set(FLOORS[name]) - {"all"}
    assert len(relevance.load("real")) + len(relevance.load("demo")) >= 60
    needs = relevance.load("needs")
    assert len(needs) >= 400
    assert sum(q["kind"] == "need" for q in needs) >= 100
    assert sum(q["kind"] == "english" for q in needs) >= 60
    for kind in {q["kind"] for q in needs}:  # at least 40 % of every kind held out
        of_kind = [q for q in needs if q["kind"] == kind]
        assert sum(q["split"] == "held-out" for q in of_kind) >= 0.4 * len(of_kind) - 0.5


def test_relevance_on_the_demo_catalogue(demo_app):
    _check(_measure(demo_app, "demo"), FLOORS["demo"])


def test_relevance_on_the_real_catalogue(real_app):
    _check(_measure(real_app, "real"), FLOORS["real"])


def test_relevance_of_what_users_type_on_the_real_catalogue(real_app):
    _check(_measure(real_app, "needs"), FLOORS["needs"])
