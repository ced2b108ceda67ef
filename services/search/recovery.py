"""What search does when the index cannot be read: a 503 with a kind message instead of an
error page, and a rebuild from the database in the background; and the server's background
reading of the whole index after its start (damage first, then the caches)."""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from flask import Flask, current_app
from flask_babel import gettext as _

from ..errors import ServiceError
from . import engine, health, index, integrity, query, snapshot, sync, vocabulary

log = logging.getLogger("services.search")


class SearchUnavailable(ServiceError):
    """The index cannot be read right now (it is being repaired)."""


def warm(app: Flask) -> None:
    """After a server's start, in its background thread: read the whole index for damage
    (repaired in the background), then fill the caches. What start-up and warming made lives
    as long as the process: it is frozen out of the garbage collector's full passes, which
    would otherwise walk it for a few hundred milliseconds every few hundred requests."""
    try:
        with app.app_context():
            folder = index.root()
            name = index.current_generation(folder)
            if name is not None and (damage := integrity.damaged(folder, name)):
                _repair(RuntimeError(damage[0]))
                return
            snapshot.warm(folder, engine.FACETS, query.ALL_FIELDS)
            view = snapshot.current(folder)
            vocabulary.vocabulary_of(view)
            for column, descending in engine.SORT_COLUMNS.values():
                view.order(column, descending)
        gc.collect()
        gc.freeze()
    except Exception:
        log.exception("search cache warm-up failed (searches still work)")


@contextlib.contextmanager
def reading() -> Iterator[snapshot.View]:
    """The index as this thread sees it. An index that cannot be read (its files gone or
    damaged under a running server) is rebuilt in the background; the caller gets
    SearchUnavailable, never an error page. Any other error is taken for damage only when
    reading the generation's files proves it (integrity.py, once per state of the index):
    else it is a bug of the caller's work, which propagates and rebuilds nothing."""
    folder = index.root()
    try:
        view = snapshot.current(folder)
    except TimeoutError:  # commits kept coming while it was opened: busy, not damaged
        raise SearchUnavailable(_("Tìm kiếm đang bận, xin thử lại sau giây lát.")) from None
    except Exception as error:  # opening reads every segment's metadata: any failure is damage
        unavailable(error)
    try:
        yield view
    except (OSError, EOFError) as error:  # a file of the index gone or cut short
        unavailable(error)
    except Exception as error:
        if integrity.damaged(folder, view.generation):
            unavailable(error)
        raise
    sync.retry_if_due()


def unavailable(error: Exception) -> NoReturn:
    """Repair the index in the background; the caller gets SearchUnavailable."""
    _repair(error)
    raise SearchUnavailable(_("Tìm kiếm đang được khôi phục, xin thử lại sau ít phút.")) from None


_repairing = threading.Lock()
_last_repairs: dict[Path, float] = {}
# A repair that failed (an index folder that cannot be written) is tried again this often.
REPAIR_INTERVAL = 30.0


def _repair(error: Exception) -> None:
    """Rebuild an unreadable index in the background: one repair at a time per process, and
    for each index folder one attempt per REPAIR_INTERVAL."""
    folder = index.root()
    last = _last_repairs.get(folder)
    if last is not None and time.monotonic() - last < REPAIR_INTERVAL:
        return
    if not _repairing.acquire(blocking=False):
        return
    _last_repairs[folder] = time.monotonic()
    log.error("search index unusable (%s: %s): rebuilding", type(error).__name__, error)
    app = current_app._get_current_object()

    def work() -> None:
        try:
            with app.app_context():
                health.succeeded(str(folder), index.rebuild())
        except OSError as failure:  # the folder cannot be written: said once, tried again
            health.failed(str(folder), failure)
        except Exception:
            log.exception("search index rebuild failed")
        finally:
            _repairing.release()

    threading.Thread(target=work, name="search-repair", daemon=True).start()
