"""Whether this process can write the search index, said loudly once per change.

A write that fails (an index folder that cannot be written, a full disk, a lock file that is
not a file) leaves its changes in the change log: nothing is lost, they are applied by the
first write that succeeds. Each failure is not logged per request or per retry: the error is
logged when writing stops working (or fails for another reason), and again, as an
information, when it works again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("services.search.index")

# While writes fail, how often a search in this process tries them again.
RETRY_INTERVAL = 30.0


@dataclass
class _State:
    problem: str | None = None
    last_try: float = 0.0


_states: dict[str, _State] = {}
_lock = threading.Lock()


def _state(folder: str) -> _State:
    return _states.setdefault(folder, _State())


def failed(folder: str, error: BaseException) -> None:
    """A write into the index in `folder` failed with `error` (its changes stay pending)."""
    problem = f"{type(error).__name__}: {error}"
    with _lock:
        state = _state(folder)
        changed, state.problem, state.last_try = state.problem != problem, problem, time.monotonic()
    if changed:
        log.error(
            "search index update failed in %s (%s); the changes stay pending and are written "
            "once it can be written again",
            folder,
            problem,
            exc_info=error,
        )


def succeeded(folder: str, written: int | None) -> None:
    """A write into the index in `folder` worked."""
    with _lock:
        state = _state(folder)
        was, state.problem = state.problem, None
    if was:
        log.warning("search index in %s written again (%s changes)", folder, written or 0)


def problem(folder: str) -> str | None:
    """Why the last write into the index in `folder` failed, None when it worked."""
    with _lock:
        return _state(folder).problem


def retry_due(folder: str) -> bool:
    """True, once per RETRY_INTERVAL, while writes into the index in `folder` fail."""
    with _lock:
        state = _state(folder)
        if state.problem is None or time.monotonic() - state.last_try < RETRY_INTERVAL:
            return False
        state.last_try = time.monotonic()
        return True
