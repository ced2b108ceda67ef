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
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import current_app

from . import semantic

log = logging.getLogger(__name__)

FILENAME = "vectors.sqlite3"
DTYPE = "<f2"  # half precision on disk: 768 bytes a document, ranks as float32 does
# Passages not used by any rebuild for this long leave the cache.
KEEP_DAYS = 90
SHARED_SUFFIX = "vec"  # a segment's vectors as one mapped float32 array (shared_matrix)
SAMPLED = 9  # rows of a mapped file compared with the segment's own column before it is used


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
    width = semantic.DIMENSIONS * numpy.dtype(DTYPE).itemsize
    for docnum, value in enumerate(values):
        if len(value) == width:
            out[docnum] = numpy.frombuffer(value, dtype=DTYPE)
    return out, _rows_with_vectors(out)


def _rows_with_vectors(values) -> int:
    """The bitset of the rows that hold a vector (a unit vector is never all zeros)."""
    import numpy

    with numpy.errstate(invalid="ignore"):  # damaged bytes read as NaN still hold a vector
        has = numpy.packbits(numpy.any(values, axis=1), bitorder="little")
    return int.from_bytes(has.tobytes(), "little")


def shared_matrix(folder: Path, segment: str, column) -> tuple[Any, int, bool]:
    """matrix() of one segment, kept in a file beside the segment's own (`<segment>.vec`,
    float32) and mapped into memory: every worker of a server reads the same pages, so the
    vectors of 50,000 procedures (77 MB) are held once, not once per process. Whoosh names it
    as a part of the segment, so it is deleted with the segment when a merge replaces it.
    `column` is the segment's vector column (random access). Returns (matrix, bitset, shared);
    where the folder cannot be written, the matrix is made in this process's memory.

    The file is derived, never trusted blindly: one of another shape (cut short, a segment of
    another size), or whose sampled rows differ from the column, is made again."""
    import numpy

    path = folder / f"{segment}.{SHARED_SUFFIX}"
    size = len(column)
    found = _open_shared(path, size, column)
    if found is not None:
        return found, _rows_with_vectors(found), True
    made, has = matrix(list(column))
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".vec-", delete=False) as f:
            temporary = f.name
            numpy.save(f, made, allow_pickle=False)
        os.replace(temporary, path)
    except OSError:
        log.warning("search vectors not shared: %s cannot be written", folder, exc_info=True)
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        return made, has, False
    found = _open_shared(path, size, column)
    return (found, has, True) if found is not None else (made, has, False)


def _open_shared(path: Path, size: int, column):
    import numpy

    try:
        mapped = numpy.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):  # missing, cut short, not an array file
        return None
    if mapped.shape != (size, semantic.DIMENSIONS) or mapped.dtype != numpy.float32:
        return None
    width = semantic.DIMENSIONS * numpy.dtype(DTYPE).itemsize
    for docnum in sorted({int(n) for n in numpy.linspace(0, size - 1, SAMPLED)} if size else ()):
        value = column[docnum]
        expected = (
            numpy.frombuffer(value, dtype=DTYPE).astype(numpy.float32)
            if len(value) == width
            else numpy.zeros(semantic.DIMENSIONS, numpy.float32)
        )
        if not numpy.array_equal(mapped[docnum], expected):
            return None
    return mapped
