"""How the search index follows the database (CONVENTIONS rules 5 and 6).

The database is the truth. Every flush that touches a procedure (or an agency, lĩnh vực, level
or subject it shows) appends its id to the change log (changelog.py) in the same transaction,
and the session remembers it; after the commit, the index applies the log from its mark
(index.drain), in a background thread of the same process, or inline with
`SEARCH_BACKGROUND = False`. A writer that finds the lock busy waits for it off the request. A
failed write is logged and retried; the log keeps the changes, so the next commit, the next
start or `flask search-reindex` repairs it. Imports work in `bulk()`: one rebuild at the end.
Changes committed by another server are seen by a poll (`SEARCH_POLL_SECONDS`, see `Poller`).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from itertools import chain

from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..db import db, reading
from ..models import (
    Agency,
    Channel,
    DossierItem,
    Field,
    LegalBasis,
    Level,
    Procedure,
    ProcedureAgency,
    RelatedProcedure,
    Result,
    Step,
    Subject,
    procedure_field,
    procedure_level,
    procedure_subject,
)
from . import changelog, health, index

log = logging.getLogger(__name__)

# How long a background writer waits for the lock, how long a command that is exiting waits
# for its writer, and how often a failed write is tried again.
BACKGROUND_LOCK_WAIT = 120.0
EXIT_WAIT = 60.0
RETRIES = 5
_PENDING = "search_pending_ids"
_BULK = "search_bulk"

_CHILDREN = (Step, Channel, DossierItem, Result, LegalBasis, RelatedProcedure, ProcedureAgency)
_SHOWN = (
    (Agency, ProcedureAgency.__table__.c.agency_id, ProcedureAgency.__table__.c.procedure_id),
    (Field, procedure_field.c.field_id, procedure_field.c.procedure_id),
    (Level, procedure_level.c.level_id, procedure_level.c.procedure_id),
    (Subject, procedure_subject.c.subject_id, procedure_subject.c.procedure_id),
)


def _changed_procedures(session: Session) -> set[int]:
    ids: set[int] = set()
    shown: dict[type, set[int]] = {}
    dirty = (obj for obj in session.dirty if session.is_modified(obj))
    for obj in chain(session.new, dirty, session.deleted):
        if isinstance(obj, Procedure):
            ids.add(obj.id)
        elif isinstance(obj, _CHILDREN):
            if obj.procedure_id is not None:
                ids.add(obj.procedure_id)
        elif isinstance(obj, Agency | Field | Level | Subject) and obj not in session.new:
            shown.setdefault(type(obj), set()).add(obj.id)
    connection = session.connection()
    for model, key, procedure_key in _SHOWN:
        if shown.get(model):
            ids.update(
                connection.execute(select(procedure_key).where(key.in_(shown[model]))).scalars()
            )
    ids.discard(None)
    return ids


def _after_flush(session: Session, _context) -> None:
    ids = _changed_procedures(session)
    if ids:
        changelog.record(session.connection(), sorted(ids))
        session.info.setdefault(_PENDING, set()).update(ids)


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its changes are not committed yet
    ids = session.info.pop(_PENDING, None)
    if ids and not session.info.get(_BULK):
        app = current_app._get_current_object()
        syncer(app).kick()


def _after_rollback(session: Session) -> None:
    # Only a rollback of the whole transaction undoes every pending row; a savepoint's rollback
    # leaves the outer transaction's changes (and rows) to be committed.
    if session.get_nested_transaction() is None:
        session.info.pop(_PENDING, None)


@contextlib.contextmanager
def bulk(update: bool = True) -> Iterator[None]:
    """Within this block commits do not write the index one by one; at its end the index is
    rebuilt once (or, after only a few changes, updated), unless `update` is False (the caller
    rebuilds). For imports."""
    session = db.session()
    session.info[_BULK] = True
    try:
        yield
    finally:
        session.info.pop(_BULK, None)
        if update:
            catch_up()


@reading()
def catch_up() -> None:
    """Bring the index up to date now: rebuild when much changed, else write what is pending.
    Works in a session of its own: the caller's stays as it was (on SQLite, a read left open
    there would make its next write fail once this one commits)."""
    with current_app.app_context():
        folder = index.root()
        name = index.current_generation(folder)
        pending = index.pending(folder, name)
        # Only a read: it ends here (nothing to commit) rather than stay open through the
        # rebuild or the writes below.
        db.session.rollback()
        if not pending:
            return
        size = 0
        if name is not None:
            with index.open_generation(folder, name).searcher() as searcher:
                size = searcher.doc_count()
        if name is None or pending > max(200, size // 10):
            index.rebuild()
        else:
            index.drain(timeout=index.REBUILD_LOCK_WAIT)


class Syncer:
    """Writes pending changes for one app, off the request: in a background thread that runs
    while there is work, or inline when `SEARCH_BACKGROUND` is off (tests, scripts)."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None
        self._at_exit = False

    def kick(self) -> None:
        """Ask for the pending changes to be written soon."""
        if not self.app.config.get("SEARCH_BACKGROUND", True):
            self._run_once(index.INLINE_LOCK_WAIT)
            return
        with self._lock:
            self._wanted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="search-sync", daemon=True)
                self._thread.start()
                if not self._at_exit:
                    # A command that exits right after its commit still writes its changes.
                    atexit.register(self.wait, EXIT_WAIT)
                    self._at_exit = True

    def _loop(self) -> None:
        failures = 0
        while True:
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    return
                self._wanted = False
            if self._run_once(BACKGROUND_LOCK_WAIT):
                failures = 0
            elif failures < RETRIES:
                # A passing failure (the database busy, a disk hiccup): try again shortly.
                failures += 1
                time.sleep(failures)
                with self._lock:
                    self._wanted = True

    def _run_once(self, timeout: float) -> bool:
        with self.app.app_context():
            folder = str(index.root())
            try:
                written = index.drain(timeout)
            except Exception as error:
                # The rows stay pending: a retry, the next commit, a search a while later
                # (retry_if_due), the next start or a reindex writes them. Logged once.
                health.failed(folder, error)
                return False
        health.succeeded(folder, written)
        return True

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until no write is running or wanted (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            thread.join(max(0.0, deadline - time.monotonic()))
        return False


class Poller:
    """Looks at the change log now and then, in a background thread of a server, and has the
    index apply what other servers committed (this process's own commits kick the syncer
    themselves). A database that cannot be reached is logged once, not at every look."""

    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self._problem: str | None = None

    def start(self) -> None:
        threading.Thread(target=self._loop, name="search-poll", daemon=True).start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            self.look()

    def look(self) -> bool:
        """Kick the syncer when the log has changes the index lacks; True when it did."""
        try:
            with self.app.app_context():
                folder = index.root()
                name = index.current_generation(folder)
                if name is None:
                    return False
                behind = changelog.bounds().last != index.read_mark(folder / name)
        except Exception as error:
            problem = f"{type(error).__name__}: {error}"
            if problem != self._problem:
                log.warning("search change log cannot be read (%s)", problem)
            self._problem = problem
            return False
        self._problem = None
        if behind:
            syncer(self.app).kick()
        return behind


def poll_interval(app: Flask) -> float:
    """Seconds between two looks at the change log (0: no poll). By default a server on
    PostgreSQL looks every second, since other servers may share its database; with SQLite
    every process of the one server shares the index, and commits kick it themselves."""
    interval = app.config.get("SEARCH_POLL_SECONDS")
    if interval is None:
        with app.app_context():
            interval = 0.0 if db.engine.dialect.name == "sqlite" else 1.0
    return float(interval)


def retry_if_due() -> None:
    """While writes into the index fail, try them again now and then (called by searches, so
    that a folder made writable again gets its pending changes without waiting for an edit)."""
    if health.retry_due(str(index.root())):
        syncer(current_app._get_current_object()).kick()


_syncers_lock = threading.Lock()


def syncer(app: Flask) -> Syncer:
    """The one syncer of this app in this process."""
    with _syncers_lock:
        if "search_syncer" not in app.extensions:
            app.extensions["search_syncer"] = Syncer(app)
        return app.extensions["search_syncer"]


_listening = False


def listen() -> None:
    """Follow every session of the portal (once per process)."""
    global _listening
    if not _listening:
        event.listen(db.session, "after_flush", _after_flush)
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)
        _listening = True
