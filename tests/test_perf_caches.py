"""After an edit, the first typo query and the first broad query sorted by name read only the
index's new segment: the spelling vocabulary and the sort orders of the rest are kept in the
process's cache, per segment (asserted through the counters of what was built, not timing),
and what they answer still follows the edit. Over several segments a term's documents are
combined once per state of the index, and searches answer as on a rebuilt index."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from services.catalogue import records, store
from services.db import db
from services.models import Procedure
from services.search import engine, index, snapshot
from tests.helpers import close_app, make_app, procedure_raw


@pytest.fixture
def broad(monkeypatch):
    # The demo catalogue is small: every listing counts as broad, so it reads the sort order.
    monkeypatch.setattr(engine, "SORT_IN_PLACE", 0)


def _typo(client, q: str) -> dict:
    response = client.get("/api/v1/procedures", query_string={"q": q})
    assert response.status_code == 200
    return response.get_json()


def _by_name(client) -> list[str]:
    response = client.get("/api/v1/procedures", query_string={"sort": "name", "per_page": 100})
    assert response.status_code == 200
    return [r["code"] for r in response.get_json()["results"]]


def _edit(app, **fields) -> str:
    with app.app_context():
        procedure, _ = store.store_procedure(records.normalize_procedure(procedure_raw(**fields)))
        db.session.commit()
        return procedure.code


def test_the_first_queries_after_an_edit_read_only_the_new_segment(demo_app, broad):
    client = demo_app.test_client()
    before = snapshot.built.copy()
    assert _typo(client, "giay pheo xay dung")["suggestion"] == "giấy phép xây dựng"
    listed = _by_name(client)
    first = snapshot.built - before
    with demo_app.app_context():
        size = snapshot.current(index.root()).size
    assert size > 50
    assert first["vocabulary"] == size  # a fresh index: its whole vocabulary and order are read
    assert first["order"] == size

    code = _edit(demo_app, name="Aaa cấp phép hoạt động dù lượn")  # first by name
    before = snapshot.built.copy()
    assert _typo(client, "giay pheo xay dung")["suggestion"] == "giấy phép xây dựng"
    # The new segment's words are known at once.
    assert _typo(client, "du luon hoat dongg")["suggestion"] == "dù lượn hoạt động"
    after_edit = _by_name(client)
    read = snapshot.built - before
    assert read["vocabulary"] <= 2  # the new segment's document, not the catalogue
    assert read["order"] == 0
    assert read["order inserted"] >= 1
    assert after_edit[0] == code
    assert after_edit[1:] == listed[: len(after_edit) - 1]


def test_after_an_edit_the_facets_look_up_in_the_new_segment_only_the_values_it_holds(demo_app):
    client = demo_app.test_client()
    assert _typo(client, "giấy phép")["total"] > 0  # the catalogue's facets read
    _edit(demo_app, name="Cấp giấy phép thử nghiệm xây dựng")
    with demo_app.app_context():
        new = min(snapshot.current(index.root()).segments, key=lambda s: s.size)
    assert new.size == 1
    before = set(snapshot.cache._items)
    answer = _typo(client, "giấy phép")
    looked_up = {
        key[3:5]
        for key in set(snapshot.cache._items) - before
        if key[:2] == new.key and key[2] == "t" and key[3] in engine.FACETS
    }
    held = {(facet, term.decode()) for facet in engine.FACETS for term in new.reader.lexicon(facet)}
    assert looked_up == held  # not every value of every facet
    # The new procedure counts in its facets as in any other.
    levels = {value["value"]: value["count"] for value in answer["facets"]["level"]}
    assert sum(levels.values()) >= answer["total"]
    assert all(levels.get(term, 0) >= 1 for facet, term in held if facet == "level")


def test_an_order_kept_across_edits_is_the_order_a_full_sort_gives(demo_app, broad):
    client = demo_app.test_client()
    _by_name(client)
    for name in ("Zzz thủ tục cuối", "Mmm thủ tục giữa", "Aab thủ tục đầu"):
        _edit(demo_app, name=name)
    kept = _by_name(client)
    with demo_app.app_context():
        view = snapshot.current(index.root())
        assert len(view.segments) > 1
        full = view._sorted(view.segments, "sort_name", False)
        column, descending = engine.SORT_COLUMNS["updated"]
        assert list(view.order(column, descending)) == list(
            view._sorted(view.segments, column, descending)
        )
        public = view.bits("status", "published")
        ids = [int(view.stored(d)["id"]) for d in full if public >> d & 1][: len(kept)]
        codes = dict(db.session.execute(select(Procedure.id, Procedure.code)).all())
    assert kept == [codes[i] for i in ids]


def _answers(client, queries: tuple[str, ...]) -> list[tuple[list[str], int]]:
    found = []
    for q in queries:
        page = _typo(client, q)
        found.append(([r["code"] for r in page["results"]], page["total"]))
    return found


def test_searches_over_several_segments_combine_each_term_once_and_answer_as_one(demo_app):
    client = demo_app.test_client()
    queries = ("giấy phép xây dựng", "dang ky khai sinh", "hộ kinh doanh", "cấp lại", "thử")
    with demo_app.app_context():
        first = db.session.execute(select(Procedure.code).order_by(Procedure.code)).scalar()
    for name in ("Cấp giấy phép thử nghiệm xây dựng", "Đăng ký thử kinh doanh"):
        _edit(demo_app, name=name)
    _edit(demo_app, code=first, name="Cấp lại giấy phép thử")  # a document replaced: a deletion
    with demo_app.app_context():
        view = snapshot.current(index.root())
        assert len(view.segments) > 1
        assert view.count < view.size  # and a deletion
    before = snapshot.built.copy()
    over_segments = _answers(client, queries)
    combined = (snapshot.built - before)["combined"]
    assert combined > len(queries)  # each query's terms, over every field it reads
    before = snapshot.built.copy()
    assert _answers(client, queries) == over_segments
    assert (snapshot.built - before)["combined"] == 0  # the same state: nothing combined again

    reindexed = demo_app.test_cli_runner().invoke(args=["search-reindex"])
    assert reindexed.exit_code == 0, reindexed.output
    with demo_app.app_context():
        assert len(snapshot.current(index.root()).segments) == 1
    assert _answers(client, queries) == over_segments


def test_the_search_caches_hold_what_search_cache_mb_allows(demo_app, monkeypatch):
    monkeypatch.setattr(snapshot.cache, "limit", snapshot.cache.limit)  # restored afterwards
    small = make_app(
        Path(demo_app.instance_path),
        SQLALCHEMY_DATABASE_URI=demo_app.config["SQLALCHEMY_DATABASE_URI"],  # the same catalogue
        SEARCH_CACHE_MB=0.02,
    )
    try:
        client = small.test_client()
        for q in ("giấy phép xây dựng", "dang ky khai sinh", "hộ kinh doanh", "cấp lại", "thử"):
            assert _typo(client, q)["total"] > 0
        assert snapshot.cache.limit == int(0.02 * 2**20)
        assert 0 < snapshot.cache.size <= snapshot.cache.limit
    finally:
        close_app(small)
