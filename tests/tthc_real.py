"""The real national-portal data in shared/data/tthc-real, found beside the checkout and read in
place by tests and benchmarks (never copied into the project)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATA = Path("shared/data/tthc-real")
PAGES = DATA / "chatbot_tthc" / "data" / "raw"


def data_folder() -> Path | None:
    """The tthc-real folder beside the checkout (CI) or beside any parent (worktrees)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / PAGES).is_dir():
            return folder / DATA
    return None


def pages_folder() -> Path | None:
    """The folder of scraped pages (set (a)), or None."""
    data = data_folder()
    return data / PAGES.relative_to(DATA) if data else None


def read_pages(folder: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every scraped page in the folder with its file, in file name order."""
    for path in sorted(folder.glob("*/*.json")):
        yield path, json.loads(path.read_text(encoding="utf-8"))
