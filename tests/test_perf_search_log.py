"""The search log is written off the request, in batches, and loses no entry: many searches
at once from threads of two processes all reach the table; a busy database is waited for and
retried; what is lost after every retry is counted and said; the page's result links carry the
entry's id although the row is written after the page."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from services import search
from services.db import db
from services.models import SearchLog
from services.search import searchlog

ROOT = str(Path(__file__).resolve().parent.parent)

# A gunicorn worker's share of a burst: several threads searching through the API at once.
SEARCHER = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from services.search import searchlog
    from tests.helpers import make_app

    app = make_app(Path({instance!r}), SQLALCHEMY_DATABASE_URI={url!r}, SEARCH_BACKGROUND=True)
    queries = ["khai sinh", "giay phep xay dung", "ho tich", "dang ky kinh doanh"]

    def burst(n):
        client = app.test_client()
        for i in range({per_thread}):
            q = queries[(n + i) % len(queries)] + f" {{sys.argv[1]}}"
            assert client.get("/api/v1/procedures", query_string={{"q": q}}).status_code == 200

    threads = [threading.Thread(target=burst, args=(n,)) for n in range({threads})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("dropped", searchlog.writer(app).dropped)
    # No explicit flush: the process's exit writes what is still queued.
    """
)


def test_concurrent_searches_of_two_processes_lose_no_entry(demo_app):
    threads, per_thread = 4, 25
    script = SEARCHER.format(
        root=ROOT,
        instance=demo_app.instance_path,
        url=demo_app.config["SQLALCHEMY_DATABASE_URI"],
        threads=threads,
        per_thread=per_thread,
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, name], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for name in ("a", "b")
    ]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert all("dropped 0" in out for out in outputs), outputs
    with demo_app.app_context():
        counts = dict(
            db.session.execute(
                select(func.substr(SearchLog.query, -1), func.count()).group_by(
                    func.substr(SearchLog.query, -1)
                )
            ).all()
        )
        distinct = db.session.execute(select(func.count(func.distinct(SearchLog.id)))).scalar()
    assert counts == {"a": threads * per_thread, "b": threads * per_thread}
    assert distinct == 2 * threads * per_thread


def test_a_search_writes_nothing_itself_and_its_link_names_the_entry(demo_app):
    demo_app.config["SEARCH_BACKGROUND"] = True
    writer = searchlog.writer(demo_app)
    with demo_app.test_request_context():
        page = search.find(search.Params(q="khai sinh"))
        assert not db.session.new  # the request's session wrote nothing
        assert not db.session.dirty
    assert writer.flush(timeout=30)
    with demo_app.app_context():
        entry = db.session.get(SearchLog, page.log_id)
        assert (entry.query, entry.results) == ("khai sinh", page.total)
    # Ids sort by time, as the staff report expects of "the latest search of a query".
    with demo_app.test_request_context():
        later = search.find(search.Params(q="khai sinh"))
    assert later.log_id > page.log_id
    assert writer.flush(timeout=30)
    assert writer.dropped == 0


def _busy_commits(monkeypatch, failures: int) -> list[int]:
    calls: list[int] = []
    commit = db.session.commit

    def flaky():
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        commit()

    monkeypatch.setattr(db.session, "commit", flaky)
    return calls


def test_a_busy_database_is_waited_for_and_the_entry_kept(demo_app, monkeypatch):
    calls = _busy_commits(monkeypatch, failures=3)
    with demo_app.test_request_context():
        page = search.find(search.Params(q="khai sinh"))
    monkeypatch.undo()
    assert page.results[0].procedure.name
    assert len(calls) == 4
    with demo_app.app_context():
        assert db.session.execute(select(SearchLog.query)).scalars().all() == ["khai sinh"]
    assert searchlog.writer(demo_app).dropped == 0


def test_an_entry_lost_after_every_retry_is_counted_and_said(demo_app, monkeypatch, caplog):
    monkeypatch.setattr(searchlog, "RETRIES", 2)
    _busy_commits(monkeypatch, failures=100)
    with demo_app.test_request_context(), caplog.at_level(logging.ERROR):
        page = search.find(search.Params(q="khai sinh"))
    monkeypatch.undo()
    assert page.results  # the search itself goes on
    assert searchlog.writer(demo_app).dropped == 1
    assert "1 entries not logged (the database stayed busy; 1 lost so far)" in caplog.text
    with demo_app.app_context():
        assert db.session.execute(select(SearchLog)).scalars().all() == []
