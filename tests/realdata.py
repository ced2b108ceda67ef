"""Where the real published TTHC data is (../shared/data/tthc-real beside the checkout, read in
place, never copied into the project): for the tests and the benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def locate() -> Path | None:
    """The tthc-real folder: $TTHC_REAL_DATA, else shared/data/tthc-real beside the checkout or
    beside one of its parents (a git worktree may sit one level deeper), else None."""
    if os.environ.get("TTHC_REAL_DATA"):
        return Path(os.environ["TTHC_REAL_DATA"])
    for parent in ROOT.parents:
        candidate = parent / "shared" / "data" / "tthc-real"
        if candidate.is_dir():
            return candidate
    return None
