"""The change log every search index follows (CONVENTIONS rule 6: the index follows the
database), so that any number of app servers, each with its own index, can share one database.

A transaction that changes what a procedure's search document shows appends the procedure's
id to `search_change` under a number taken from the one counter row; updating that row locks
it until the transaction ends, so numbers become visible in the order they were handed out
and an index that has applied the log up to number N has seen every change below it. Each
index keeps its high-water mark beside its files (index.py) and reports it in
`search_index_mark`; the log is pruned below the lowest mark of the indexes seen within
`SEARCH_CHANGE_RETENTION_DAYS`, and rows older than that go whatever the marks. An index whose
mark is below what was pruned, or above the last number (an index of another database, or of
a database restored from an older backup), is rebuilt; so is one whose mark names another
database's log (each counter row carries a random token, kept beside the mark).
"""

from __future__ import annotations

import logging
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import Connection, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from ..db import db, transaction, utcnow
from ..models import SearchChange, SearchChangeCounter, SearchIndexMark

log = logging.getLogger(__name__)

COUNTER_ID = 1
NODE_FILE = "NODE"
# How often one process prunes the log at most (seconds).
PRUNE_INTERVAL = 300.0


@event.listens_for(SearchChangeCounter.__table__, "after_create")
def _first_counter(table, connection: Connection, **_kw) -> None:
    """A new database starts with its counter row (migrations insert it themselves)."""
    connection.execute(insert(table).values(_new_counter(0)))


def _new_counter(last: int) -> dict:
    return {"id": COUNTER_ID, "last": last, "pruned_through": 0, "token": secrets.token_hex(16)}


# How often a process says its index's unchanged mark again (seconds): well within the
# retention, so a server that runs keeps its place.
REPORT_EVERY = 3600.0
_reported: dict[str, tuple[int, float]] = {}
_last_prune: dict[str, float] = {}


def record(connection: Connection, ids: list[int]) -> None:
    """Append changes of these procedures to the log, in the caller's transaction."""
    counter = SearchChangeCounter.__table__.c
    last = connection.execute(
        update(SearchChangeCounter)
        .where(counter.id == COUNTER_ID)
        .values(last=counter.last + len(ids))
        .returning(counter.last)
    ).scalar_one_or_none()
    if last is None:  # a database whose counter row was lost: start it again
        last = len(ids)
        connection.execute(insert(SearchChangeCounter).values(_new_counter(last)))
    first = last - len(ids) + 1
    connection.execute(
        insert(SearchChange),
        [{"seq": first + n, "procedure_id": i, "changed_at": utcnow()} for n, i in enumerate(ids)],
    )


@dataclass(frozen=True)
class Bounds:
    """Where the log stands: the last number handed out, the last one pruned, and the token
    that names this database's log."""

    last: int = 0
    pruned: int = 0
    token: str = ""


def bounds() -> Bounds:
    """Where the log stands (all zero and no token without a counter)."""
    row = db.session.execute(
        select(
            SearchChangeCounter.last, SearchChangeCounter.pruned_through, SearchChangeCounter.token
        ).where(SearchChangeCounter.id == COUNTER_ID)
    ).first()
    return Bounds(row.last, row.pruned_through, row.token) if row else Bounds()


def after(mark: int, limit: int) -> list[tuple[int, int]]:
    """The oldest changes after `mark`: (number, procedure id), at most `limit` of them."""
    rows = db.session.execute(
        select(SearchChange.seq, SearchChange.procedure_id)
        .where(SearchChange.seq > mark)
        .order_by(SearchChange.seq)
        .limit(limit)
    ).all()
    return [(row.seq, row.procedure_id) for row in rows]


def count_after(mark: int) -> int:
    """How many changes an index at `mark` has not applied yet."""
    return db.session.execute(
        select(func.count()).select_from(SearchChange).where(SearchChange.seq > mark)
    ).scalar_one()


def node_name(folder: Path) -> str:
    """The name this index goes by in `search_index_mark`: the host and a random token kept in
    the index folder (so two servers, or two instances on one host, never share one)."""
    path = folder / NODE_FILE
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        token = ""
    if not token:
        token = secrets.token_hex(6)
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(token)
    return f"{socket.gethostname()[:150]}:{token}"


def _upsert(node: str, mark: int):
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(SearchIndexMark).values(node=node, mark=mark, seen_at=utcnow())
    return statement.on_conflict_do_update(
        index_elements=[SearchIndexMark.node],
        set_={"mark": statement.excluded.mark, "seen_at": statement.excluded.seen_at},
    )


def report(folder: Path, mark: int) -> None:
    """Say how far the index in `folder` has applied the log (when it moved, or an hour after
    this process last said so), then prune the log now and then. Only advice for pruning: a
    database too busy to take it now (SQLite locked by another process) gets it next time."""
    key = str(folder)
    said = _reported.get(key)
    if said is not None and said[0] == mark and time.monotonic() - said[1] < REPORT_EVERY:
        return
    interval = current_app.config.get("SEARCH_CHANGE_PRUNE_INTERVAL", PRUNE_INTERVAL)
    try:
        with transaction():
            db.session.execute(_upsert(node_name(folder), mark))
        _reported[key] = (mark, time.monotonic())
        if time.monotonic() - _last_prune.get(key, float("-inf")) >= interval:
            _last_prune[key] = time.monotonic()
            prune()
    except OperationalError as error:
        log.info("search index mark not reported or log not pruned now (%s)", error.orig)


def prune() -> int:
    """Delete the changes every index seen recently has applied, and those older than the
    retention whatever the marks (an index that was away that long rebuilds when it returns).
    Returns how many rows were deleted."""
    days = current_app.config.get("SEARCH_CHANGE_RETENTION_DAYS", 7)
    cutoff = utcnow() - timedelta(days=days)
    with transaction():
        db.session.execute(delete(SearchIndexMark).where(SearchIndexMark.seen_at < cutoff))
        lowest = db.session.execute(select(func.min(SearchIndexMark.mark))).scalar_one()
        old = db.session.execute(
            select(func.max(SearchChange.seq)).where(SearchChange.changed_at < cutoff)
        ).scalar_one()
        through = max(lowest or 0, old or 0)
        if not through:
            return 0
        deleted = db.session.execute(delete(SearchChange).where(SearchChange.seq <= through))
        counter = SearchChangeCounter.__table__.c
        db.session.execute(
            update(SearchChangeCounter)
            .where(counter.id == COUNTER_ID, counter.pruned_through < through)
            .values(pruned_through=through)
        )
    if deleted.rowcount:
        log.info("search change log pruned through %s (%s rows)", through, deleted.rowcount)
    return deleted.rowcount
