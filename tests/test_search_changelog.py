"""Several app servers on one database, each with its own index, following the change log:
catching up after a commit elsewhere, after a stop, after the log was pruned past a node, and
the order in which numbers become visible (services/search/changelog.py)."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update

from services import search
from services.db import create_schema, db, utcnow
from services.models import Procedure, SearchChange, SearchChangeCounter, SearchIndexMark
from services.search import changelog, index
from tests.helpers import close_app, make_app
from tests.test_search_index import _found, _restart, _store


def _node(first, folder: Path, **config):
    """Another app server on the same database, with an index of its own."""
    return make_app(
        folder, SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"], **config
    )


def _mark(app) -> int:
    with app.app_context():
        folder = index.root()
        return index.read_mark(folder / index.current_generation(folder))


def _log_rows(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(SearchChange)).scalar_one()


def _eventually(check, seconds: float) -> float:
    """Seconds until `check()` held; fails after `seconds`."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        time.sleep(0.05)
    return time.monotonic() - start


def test_an_edit_on_one_server_is_found_on_another_within_two_seconds(app, tmp_path):
    _store(app, name="Cấp phép khai thác nước mặt")
    other = _node(app, tmp_path / "node-b", SEARCH_BACKGROUND=True, SEARCH_POLL_SECONDS=0.2)
    try:
        assert _found(other, "nước mặt") != []  # built at its start from the database
        code = _store(app, name="Cấp phép xả thải vào nguồn nước")
        took = _eventually(lambda: _found(other, "xả thải") == [code], 2.0)
        assert took < 2.0
        _store(app, code=code, name="Cấp phép khoan giếng thăm dò")
        _eventually(lambda: _found(other, "xả thải") == [], 2.0)
        assert _found(other, "khoan giếng") == [code]
        with other.app_context():
            assert search.check().ok
    finally:
        close_app(other)


def test_a_server_that_was_stopped_catches_up_when_it_returns(app, tmp_path):
    first = _store(app, name="Cấp phép khai thác cát")
    other = _node(app, tmp_path / "node-b")
    assert _found(other, "khai thac cat") == [first]
    close_app(other)  # stopped: it learns of nothing
    added = [_store(app, name=f"Cấp giấy phép nuôi ong mật số {n}") for n in range(3)]
    _store(app, code=first, name="Cấp phép nạo vét kênh mương")
    assert _mark(other) < _mark(app)
    back = _node(app, tmp_path / "node-b")  # the same folder and index, started again
    try:
        assert sorted(_found(back, "nuoi ong mat")) == sorted(added)
        assert _found(back, "nạo vét") == [first]
        assert _mark(back) == _mark(app)
        with back.app_context():
            report = search.check()
        assert report.ok
        assert report.pending == 0
    finally:
        close_app(back)


def test_the_log_is_pruned_below_every_recent_mark(app, tmp_path):
    app.config["SEARCH_CHANGE_PRUNE_INTERVAL"] = 0
    other = _node(app, tmp_path / "node-b", SEARCH_CHANGE_PRUNE_INTERVAL=0)
    try:
        _store(app, name="Cấp phép thứ nhất")
        # Node B has not applied this change yet: the row is kept for it.
        assert _log_rows(app) >= 1
        with other.app_context():
            index.drain()
        code = _store(app, name="Cấp phép thứ hai")  # A applies and prunes what both hold
        with app.app_context():
            kept = list(db.session.execute(select(SearchChange.seq)).scalars())
            marks = dict(
                db.session.execute(select(SearchIndexMark.node, SearchIndexMark.mark))
                .tuples()
                .all()
            )
        assert len(marks) == 2
        assert kept
        assert min(kept) > min(marks.values())
        with other.app_context():
            index.drain()
        assert _found(other, "thu hai") == [code]
        _store(app, name="Cấp phép thứ ba")
        with other.app_context():
            index.drain()
        assert _log_rows(app) == 0  # both marks passed every row
    finally:
        close_app(other)


def test_a_node_away_past_the_retention_rebuilds(app, tmp_path, caplog):
    app.config["SEARCH_CHANGE_PRUNE_INTERVAL"] = 0
    other = _node(app, tmp_path / "node-b")
    _store(app, name="Cấp phép trước khi vắng")
    with other.app_context():
        index.drain()
    close_app(other)
    code = _store(app, name="Cấp phép khi vắng mặt")
    with app.app_context():  # the node was last seen long ago, and the log is that old too
        long_ago = utcnow() - timedelta(days=30)
        db.session.execute(update(SearchIndexMark).values(seen_at=long_ago))
        db.session.execute(update(SearchChange).values(changed_at=long_ago))
        db.session.commit()
        assert changelog.prune() >= 1
        assert db.session.execute(select(SearchIndexMark.node)).scalars().all() == []
    back = _node(app, tmp_path / "node-b")
    try:
        assert "cannot follow the change log" in caplog.text
        assert _found(back, "vang mat") == [code]
        with back.app_context():
            assert search.check().ok
    finally:
        close_app(back)


def test_an_index_ahead_of_its_database_is_rebuilt(app, caplog):
    codes = [_store(app, name=f"Cấp phép số {n}") for n in range(3)]
    with app.app_context():  # the database restored from an older backup, the index kept
        db.session.execute(delete(SearchChange).where(SearchChange.seq > 1))
        db.session.execute(
            update(SearchChangeCounter).values(last=1, pruned_through=0)
        )  # same token
        db.session.execute(
            update(Procedure).where(Procedure.code == codes[2]).values(name="Thăm dò địa nhiệt")
        )
        db.session.commit()
    assert _found(app, "thăm dò") == []
    restarted = _restart(app)
    try:
        assert "cannot follow the change log" in caplog.text
        assert _found(restarted, "thăm dò") == [codes[2]]
        with restarted.app_context():
            assert search.check().ok
    finally:
        close_app(restarted)


def test_numbers_become_visible_in_the_order_they_were_given(app):
    """A transaction that took a number holds the counter until it ends: a later one waits,
    so no index can apply number N+1 while N may still commit."""
    _store(app, name="Cấp phép gốc")
    first_flushed, second_done = threading.Event(), threading.Event()
    release = threading.Event()
    numbers: dict[str, int] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with app.app_context():
                from services.catalogue import records, store
                from tests.helpers import procedure_raw

                store.store_procedure(records.normalize_procedure(procedure_raw(name="Một")))
                db.session.flush()
                numbers["first"] = db.session.scalar(select(func.max(SearchChange.seq)))
                first_flushed.set()
                assert release.wait(30)
                db.session.commit()
        except BaseException as error:
            errors.append(error)
            first_flushed.set()

    def second() -> None:
        try:
            assert first_flushed.wait(30)
            numbers["code"] = _store(app, name="Hai")
        except BaseException as error:
            errors.append(error)
        finally:
            second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_flushed.wait(30)
    # The second transaction waits for the first to end.
    assert not second_done.wait(1.0)
    release.set()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with app.app_context():
        second_number = db.session.scalar(
            select(SearchChange.seq)
            .join(Procedure, Procedure.id == SearchChange.procedure_id)
            .where(Procedure.code == numbers["code"])
        )
    assert second_number > numbers["first"]
    assert _found(app, "hai") == [numbers["code"]]


def test_an_index_of_another_database_is_rebuilt_even_at_the_same_number(app, tmp_path, caplog):
    """An instance folder copied onto another database whose log happens to have reached the
    same number: the mark names the other database's log, so the index is rebuilt."""
    theirs = _store(app, name="Cấp phép nuôi cá lồng")
    other = make_app(tmp_path / "other")  # a database of its own
    with other.app_context():
        create_schema()
    try:
        code = _store(other, name="Cấp phép trồng nấm rơm")
        assert _mark(other) == _mark(app)
        folder = Path(other.config["SEARCH_INDEX_DIR"])
        shutil.rmtree(folder)
        shutil.copytree(app.config["SEARCH_INDEX_DIR"], folder)
    finally:
        close_app(other)
    restarted = _restart(other)
    try:
        assert "cannot follow the change log" in caplog.text
        assert _found(restarted, "nấm rơm") == [code]
        assert theirs not in _found(restarted, "cá lồng")  # only this database's procedures
    finally:
        close_app(restarted)
