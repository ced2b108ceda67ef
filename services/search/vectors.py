"""The vectors of search documents: computed when a document is written, kept in its Whoosh
document (so they follow the database exactly as the index does: same generations, same
segments, same deletions), and cached by content beside the index, so a rebuild embeds only the
passages that changed.

A passage is what a vector says about a procedure: its name, its lĩnh vực and a short
description (documents.passage). The content cache is a small SQLite file in the index folder
(`vectors.sqlite3`), keyed by the model's identity and the passage text; only the process that
holds the index's write lock writes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from flask import current_app

from . import semantic

log = logging.getLogger(__name__)

FILENAME = "vectors.sqlite3"
DTYPE = "<f2"  # half precision on disk: 768 bytes a document, ranks as float32 does
# Passages not used by any rebuild for this long leave the cache.
KEEP_DAYS = 90


def cache_path() -> Path:
    """The content cache (`SEARCH_VECTOR_CACHE`, by default in the index folder)."""
    configured = current_app.config.get("SEARCH_VECTOR_CACHE")
    if configured:
        return Path(configured)
    return Path(current_app.config["SEARCH_INDEX_DIR"]) / FILENAME


@contextlib.contextmanager
def _cache() -> Iterator[sqlite3.Connection]:
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS vectors "
            "(key TEXT PRIMARY KEY, vector BLOB NOT NULL, used INTEGER NOT NULL)"
        )
        with connection:
            yield connection
    finally:
        connection.close()


def _key(identity: str, text: str) -> str:
    return hashlib.sha1(f"{identity}\n{text}".encode()).hexdigest()


def encode(passages: list[str]) -> list[bytes]:
    """The vector of each passage as bytes (b"" where none can be made: no model), from the
    cache or embedded now. Call it only while holding the index's write lock."""
    model = semantic.embedder()
    if model is None or not passages:
        return [b""] * len(passages)
    keys = [_key(model.identity, text) for text in passages]
    try:
        return _encode(model, passages, keys)
    except (sqlite3.Error, OSError):
        # A damaged or unwritable cache costs speed, never the document.
        log.exception("vector cache %s unusable: embedding without it", cache_path())
        return [_bytes(v) for v in model.passages(passages)]


def _encode(model: semantic.Embedder, passages: list[str], keys: list[str]) -> list[bytes]:
    now = int(time.time())
    found: dict[str, bytes] = {}
    with _cache() as connection:
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                connection.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
                ).fetchall()
            )
            connection.execute(f"UPDATE vectors SET used = ? WHERE key IN ({marks})", [now, *chunk])
    missing = {k: text for k, text in zip(keys, passages, strict=True) if k not in found}
    if missing:
        made = model.passages(list(missing.values()))
        new = {k: _bytes(v) for k, v in zip(missing, made, strict=True)}
        with _cache() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector, used) VALUES (?, ?, ?)",
                [(k, v, now) for k, v in new.items()],
            )
        found.update(new)
    return [found[k] for k in keys]


def prune() -> None:
    """Forget passages no rebuild has used for KEEP_DAYS days."""
    try:
        with _cache() as connection:
            connection.execute(
                "DELETE FROM vectors WHERE used < ?", (int(time.time()) - KEEP_DAYS * 86400,)
            )
    except (sqlite3.Error, OSError):
        log.exception("vector cache %s unusable", cache_path())


def _bytes(vector) -> bytes:
    return vector.astype(DTYPE).tobytes()


def matrix(values: list[bytes]):
    """One segment's vectors as a float32 matrix (zero rows for documents without one) and the
    bitset of the documents that have one."""
    import numpy

    out = numpy.zeros((len(values), semantic.DIMENSIONS), dtype=numpy.float32)
    data = bytearray((len(values) + 7) // 8)
    width = semantic.DIMENSIONS * numpy.dtype(DTYPE).itemsize
    for docnum, value in enumerate(values):
        if len(value) == width:
            out[docnum] = numpy.frombuffer(value, dtype=DTYPE)
            data[docnum >> 3] |= 1 << (docnum & 7)
    return out, int.from_bytes(data, "little")
