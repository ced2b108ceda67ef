"""The search log, written off the request path: `record` puts the entry in a bounded queue of
the process, which a background thread writes in batches (one transaction per batch, retried
while the database is busy) and flushes when the process exits. Entries older than the
retention period are deleted by the same thread, at most once per RETENTION_INTERVAL, never by
a search.

A search's entry id is made here, before the row is written, so the result links of the page
can carry it (the staff report counts the results opened per search): 63 bits whose high part
is the time in microseconds and low part random (`new_log_id`), so ids of one process or
several never collide in practice and still sort by time (the report reads the latest search
of a query as its highest id).

With `SEARCH_BACKGROUND` off (tests, scripts) the entry is written at once, by the same code.
A queue that stays full (the database gone for long) makes a search wait up to PUT_WAIT;
an entry that still does not fit, or whose batch failed every retry, is counted in `dropped`
and logged as an error: never silently."""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from datetime import timedelta

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import delete, insert
from sqlalchemy.exc import OperationalError

from ..db import db, transaction, utcnow
from ..models import SearchLog
from ..models.search import new_log_id

log = logging.getLogger(__name__)

QUEUE_SIZE = 10_000
BATCH = 500
PUT_WAIT = 2.0
RETRIES = 8
RETENTION_INTERVAL = 3600.0
EXIT_WAIT = 30.0


def forget_old_searches(days: int | None = None) -> int:
    """Delete log entries (and the clicks on their results) older than `days`, by default
    SEARCH_LOG_RETENTION_DAYS: the log keeps no more personal history than configured.
    Flushes only; returns how many entries went."""
    keep = days if days is not None else current_app.config.get("SEARCH_LOG_RETENTION_DAYS", 180)
    cutoff = utcnow() - timedelta(days=int(keep))
    return db.session.execute(delete(SearchLog).where(SearchLog.searched_at < cutoff)).rowcount


class Writer:
    """The search log of one app: a queue, its writer thread, and what was lost (`dropped`)."""

    def __init__(self, app: Flask):
        self.app = app
        self.queue: queue.Queue[dict] = queue.Queue(QUEUE_SIZE)
        self.dropped = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._trimmed_at: float | None = None

    def record(self, query: str, results: int, took_ms: float) -> int:
        """Log one search; returns its entry's id (the row follows within moments). The
        request is marked as logged: its response is not for shared caches (views/caching.py)."""
        if has_request_context():
            g.search_logged = True
        entry = {
            "id": new_log_id(),
            "query": query,
            "results": results,
            "took_ms": took_ms,
            "searched_at": utcnow(),
        }
        if not self.app.config.get("SEARCH_BACKGROUND", True):
            self._write([entry])
            return entry["id"]
        self._start()
        try:
            self.queue.put(entry, timeout=PUT_WAIT)
        except queue.Full:
            self._drop(1, "the queue stayed full")
        return entry["id"]

    def flush(self, timeout: float = EXIT_WAIT) -> bool:
        """Wait until every queued entry is written (or lost and counted); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="search-log", daemon=True)
                self._thread.start()
                # A worker that exits (recycled, stopped) writes what it logged first.
                atexit.register(self.flush)

    def _loop(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except Exception:  # a bug, not a busy database: said, counted, the thread goes on
                log.exception("search log batch failed")
                self._drop(len(batch), "the batch failed")
            finally:
                for _ in batch:
                    self.queue.task_done()

    def _write(self, batch: list[dict]) -> None:
        """Insert a batch in one transaction, and trim the log when due; a busy database is
        waited for (its busy timeout) and tried again RETRIES times."""
        with self.app.app_context():
            for attempt in range(RETRIES + 1):
                try:
                    with transaction():
                        self._trim_if_due()
                        db.session.execute(insert(SearchLog), batch)
                    return
                except OperationalError:
                    if attempt == RETRIES:
                        log.warning("search log: the database stayed busy", exc_info=True)
                        self._drop(len(batch), "the database stayed busy")
                        return
                    time.sleep(min(0.05 * 2**attempt, 2.0))

    def _trim_if_due(self) -> None:
        now = time.monotonic()
        if self._trimmed_at is None or now - self._trimmed_at >= RETENTION_INTERVAL:
            forget_old_searches()
            self._trimmed_at = now

    def _drop(self, count: int, why: str) -> None:
        with self._lock:
            self.dropped += count
            total = self.dropped
        log.error("search log: %d entries not logged (%s; %d lost so far)", count, why, total)


_creating = threading.Lock()


def writer(app: Flask | None = None) -> Writer:
    """The app's search log writer (one per app and process)."""
    app = app or current_app._get_current_object()
    with _creating:
        if "search_log" not in app.extensions:
            app.extensions["search_log"] = Writer(app)
    return app.extensions["search_log"]


def record(query: str, results: int, took_ms: float) -> int:
    return writer().record(query, results, took_ms)
