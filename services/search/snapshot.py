"""A process's view of the search index, and the data queries derive from it, cached.

Each thread keeps one Whoosh searcher (searchers are not safe to share between threads) and
refreshes it when the index changed: a new generation after a rebuild, or a commit. Opening a
searcher per request would cost more than the query.

Queries work on sets of documents held as bitsets: a Python int with one bit per document
number. Intersections, unions and counts of thousands of documents then take a microsecond or
two in C, which is what makes facet counts over every match cheap. The set of documents that
hold a term is read from Whoosh's postings once and cached per *segment*: Whoosh never changes
a segment's postings (it only marks documents deleted, which the live-documents mask removes),
so after a small commit only the small new segment is read again.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from . import index, pinned, vectors

CACHE_BYTES = 64 * 1024 * 1024
# The combined bits a view of several segments keeps (View.bits); at most one view per thread.
BITS_BYTES = 8 * 1024 * 1024
# Documents after the first segment put into a cached order one by one, at most; more (a big
# merge) and the order is sorted again.
INSERT_LIMIT = 5000
# How many documents each kind of derived cache was built from, in this process (for tests and
# benches: a request after an edit must read only the new segments).
built: Counter[str] = Counter()
# Sort keys (Vietnamese collation keys are long) are compared on this many bytes first.
KEY_PREFIX = 48

_NONZERO = re.compile(rb"[^\x00]")
_BIT_OFFSETS = [tuple(i for i in range(8) if byte >> i & 1) for byte in range(256)]


def members(bits: int) -> list[int]:
    """The document numbers in a bitset, ascending."""
    if not bits:
        return []
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    out: list[int] = []
    for match in _NONZERO.finditer(data):
        base = match.start() * 8
        out.extend([base + i for i in _BIT_OFFSETS[data[match.start()]]])
    return out


def term_text(term: bytes | str) -> str:
    """A term as the lexicon gives it, as text."""
    return term.decode("utf-8") if isinstance(term, bytes) else term


def as_array(bits: int, size: int):
    """A bitset as a numpy array of booleans, one per document number below `size`."""
    import numpy

    data = numpy.frombuffer(bits.to_bytes((size + 7) // 8, "little"), numpy.uint8)
    return numpy.unpackbits(data, bitorder="little")[:size].astype(bool)


class _Cache:
    """A process-wide LRU of derived values, bounded by an estimate of their size in bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, build: Callable[[], tuple[Any, int]]) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
        value, size = build()
        with self._lock:
            if key not in self._items:
                self._items[key] = (value, size)
                self.size += size
                while self.size > self.limit and len(self._items) > 1:
                    _, (_, dropped) = self._items.popitem(last=False)
                    self.size -= dropped
        return value


cache = _Cache(CACHE_BYTES)


class _Segment:
    """One Whoosh segment as this view sees it: where its documents start, how many."""

    def __init__(self, where: str, reader, offset: int):
        self.reader = reader
        self.offset = offset
        self.size = reader.doc_count_all()
        # Keyed by the generation's folder, not only by its name: a copied instance folder
        # (a backup restored beside the original, a test's copy) holds the same segment names.
        self.key = (where, reader.segment().segment_id())
        deleted = reader.deleted_docs_set if reader.has_deletions() else ()
        live = (1 << self.size) - 1
        for docnum in deleted:
            live &= ~(1 << docnum)
        self.live = live

    def term_bits(self, field: str, term: str) -> int:
        def build() -> tuple[int, int]:
            try:
                matcher = self.reader.postings(field, term)
            except TermNotFound:
                return 0, 64
            if isinstance(matcher, FilterMatcher):
                matcher = matcher.child  # every posting: deletions are masked per view
            data = bytearray((self.size + 7) // 8)
            for docnum in matcher.all_ids():
                data[docnum >> 3] |= 1 << (docnum & 7)
            return int.from_bytes(data, "little"), len(data) + 64

        return cache.get((*self.key, "t", field, term), build)

    def terms(self, field: str) -> frozenset[str]:
        """The terms of a field in this segment (for facets: a few hundred at most, and a new
        segment of a few edited documents holds a handful)."""

        def build() -> tuple[frozenset[str], int]:
            found = frozenset(map(term_text, self.reader.lexicon(field)))
            return found, 64 * len(found) + 64

        return cache.get((*self.key, "l", field), build)

    def column(self, name: str) -> list:
        def build() -> tuple[list, int]:
            values = list(self.reader.column_reader(name))
            return values, 64 * len(values)

        return cache.get((*self.key, "c", name), build)

    def vectors(self):
        """This segment's document vectors and which documents have one (vectors.matrix),
        mapped from a file every process of the server shares where the index folder can be
        written (vectors.shared_matrix): then only the bitset counts against this process's
        cache."""

        def build():
            where, segment_id = self.key
            values, has, shared = vectors.shared_matrix(
                Path(where), segment_id, self.reader.column_reader("vector")
            )
            return (values, has), (len(values) + 7) // 8 + 64 + (0 if shared else values.nbytes)

        return cache.get((*self.key, "v"), build)


@dataclass
class Neighbours:
    """Documents nearest to a vector, best first, and how similar the catalogue is overall."""

    hits: list[tuple[int, float]]
    mean: float
    spread: float


class View:
    """The index as one thread sees it now."""

    def __init__(self, folder: Path, generation: str, ix: pinned.FileIndex):
        self.generation = generation
        self.state = ix.storage.pins.toc
        self.searcher = searcher = ix.searcher()
        reader = searcher.reader()
        where = str(folder / generation)
        self.segments = [
            _Segment(where, r, offset)
            for r, offset in reader.leaf_readers()
            if r.segment() is not None  # an index without documents has none
        ]
        self._offsets = [s.offset for s in self.segments]
        self.size = sum(s.size for s in self.segments)
        self.live = self._combine(lambda s: s.live)
        self.count = self.live.bit_count()
        # One segment without deletions (the usual state after a rebuild): cached bits are final.
        self._simple = len(self.segments) == 1 and self.count == self.size
        self._memo: dict[tuple, Any] = {}
        self._bits: dict[tuple[str, str], int] = {}
        self._bits_bytes = 0

    def _combine(self, part: Callable[[_Segment], int]) -> int:
        bits = 0
        for segment in self.segments:
            value = part(segment)
            if value:
                bits |= value << segment.offset
        return bits

    def bits(self, field: str, term: str) -> int:
        """Live documents whose `field` holds `term`. Over several segments (the state after
        any edit) the combined bits are kept for the life of the view, up to BITS_BYTES: a
        search asks for the same terms hundreds of times, and combining each again doubled
        its time."""
        if self._simple:
            return self.segments[0].term_bits(field, term)
        key = (field, term)
        found = self._bits.get(key)
        if found is None:
            found = self._combine(lambda s: s.term_bits(field, term)) & self.live
            built["combined"] += 1
            if self._bits_bytes < BITS_BYTES:
                self._bits[key] = found
                self._bits_bytes += found.bit_length() // 8 + 100  # the int, key and slot
        return found

    def facet(self, field: str) -> list[tuple[str, int]]:
        """Each term of a facet's field with its live documents, in order. Over several
        segments each segment is asked only for the terms it holds: after an edit the new
        small segment is not looked up for every value of every facet."""
        if self._simple:
            return [(term, self.bits(field, term)) for term in self.lexicon(field)]
        held = [(segment, segment.terms(field)) for segment in self.segments]
        out = []
        for term in sorted(frozenset().union(*(terms for _, terms in held))):
            found = 0
            for segment, terms in held:
                if term in terms:
                    found |= segment.term_bits(field, term) << segment.offset
            out.append((term, found & self.live))
        return out

    def column(self, name: str) -> list:
        """A column's values for every document number."""
        key = ("c", name)
        found = self._memo.get(key)
        if found is None:
            found = []
            for segment in self.segments:
                found.extend(segment.column(name))
            self._memo[key] = found
        return found

    def _segment_of(self, docnum: int) -> _Segment:
        return self.segments[bisect.bisect_right(self._offsets, docnum) - 1]

    def order(self, name: str, descending: bool = False) -> array:
        """Every document number, sorted by a column's value (ties by number), once per state
        of the index. The first segment's order (after a rebuild, nearly every document) is
        kept in the process's cache, since segments never change: after an edit only the
        documents of the later, small segments are put into place (a binary search each)."""

        def build() -> array:
            if not self.segments:
                return array("I")
            head = self.segments[0]
            tail = self.size - head.size
            if tail > INSERT_LIMIT:
                return self._sorted(self.segments, name, descending)
            docs = list(
                cache.get(
                    (*head.key, "o", name, descending),
                    lambda: (self._sorted([head], name, descending), 4 * head.size + 64),
                )
            )

            def key(d: int):
                value = self.value(name, d)
                return (-value if descending else value, d)

            built["order inserted"] += tail
            for d in sorted(range(head.size, self.size), key=key):
                bisect.insort(docs, d, key=key)
            return array("I", docs)

        return self.memo(("order", name, descending), build)

    def _sorted(self, segments: list[_Segment], name: str, descending: bool) -> array:
        """The documents of `segments` sorted by a column's value, ties by number. Only a
        prefix of each key is held while sorting, and 4 bytes per document afterwards: the
        name keys of 50,000 procedures would take 130 MB."""
        keyed = []
        for segment in segments:
            built["order"] += segment.size
            reader = segment.reader.column_reader(name)
            for local in range(segment.size):
                value = reader[local]
                if isinstance(value, bytes):
                    value = value[:KEY_PREFIX]
                keyed.append((-value if descending else value, segment.offset + local))
        keyed.sort()
        docs = [d for _, d in keyed]
        # Keys cut at the prefix and equal there are put in order by their whole value.
        start = 0
        while start < len(keyed):
            end = start + 1
            while end < len(keyed) and keyed[end][0] == keyed[start][0]:
                end += 1
            key = keyed[start][0]
            if end - start > 1 and isinstance(key, bytes) and len(key) == KEY_PREFIX:
                docs[start:end] = sorted(docs[start:end], key=lambda d: (self.value(name, d), d))
            start = end
        return array("I", docs)

    def value(self, name: str, docnum: int):
        """One column value of one document."""
        segment = self._segment_of(docnum)
        key = ("r", name, segment.key)
        reader = self._memo.get(key)
        if reader is None:
            reader = self._memo[key] = segment.reader.column_reader(name)
        return reader[docnum - segment.offset]

    def derived(self, kind: str, docnum: int, build: Callable[[int], Any], size: int = 512):
        """A value derived from one document, computed once per process (until its segment
        goes away)."""
        segment = self._segment_of(docnum)
        return cache.get(
            (*segment.key, "d", kind, docnum - segment.offset), lambda: (build(docnum), size)
        )

    def stored(self, docnum: int) -> dict:
        """The stored fields of a document (its id and code)."""
        return self.searcher.stored_fields(docnum)

    def lexicon(self, field: str) -> list[str]:
        """Every term of a field, in order."""
        key = ("l", field)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = list(map(term_text, self.searcher.reader().lexicon(field)))
        return found

    def prefixed(self, field: str, prefix: str, limit: int) -> list[str]:
        """Up to `limit` terms of `field` starting with `prefix`, in order."""
        terms = self.lexicon(field)
        start = bisect.bisect_left(terms, prefix)
        out = []
        for term in terms[start : start + limit]:
            if not term.startswith(prefix):
                break
            out.append(term)
        return out

    def similar(self, vector, bits: int, limit: int) -> Neighbours:
        """The `limit` documents of `bits` whose vectors are nearest to `vector` (cosine), best
        first, with the mean and spread of the similarities over `bits`. Documents without a
        vector are never returned."""
        import numpy

        scores = []
        for segment in self.segments:
            matrix, _ = segment.vectors()
            scores.append(matrix @ vector if len(matrix) else numpy.zeros(0, numpy.float32))
        if not scores:
            return Neighbours([], 0.0, 0.0)
        score = numpy.concatenate(scores)
        allowed = bits & self.with_vectors()
        if not allowed:
            return Neighbours([], 0.0, 0.0)
        mask = as_array(allowed, self.size)
        kept = score[mask]
        score = numpy.where(mask, score, -2.0)
        limit = min(limit, len(kept))
        top = numpy.argpartition(-score, limit - 1)[:limit]
        top = top[numpy.argsort(-score[top], kind="stable")]
        return Neighbours(
            [(int(d), float(score[d])) for d in top], float(kept.mean()), float(kept.std())
        )

    def with_vectors(self) -> int:
        """Live documents that have a vector."""
        return self.memo(
            ("with_vectors",), lambda: self._combine(lambda s: s.vectors()[1]) & self.live
        )

    def memo(self, key: tuple, build: Callable[[], Any]) -> Any:
        """A value derived from this view, computed once."""
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = build()
        return found


def warm(folder: Path, facets: tuple[str, ...], fields: tuple[str, ...], terms: int = 200) -> None:
    """Read into the process's cache the documents of every facet value and of the most common
    terms of `fields`, so the first searches after a start or a rebuild are not the slow ones."""
    view = current(folder)
    for facet in facets:
        view.facet(facet)
    reader = view.searcher.reader()
    for field in fields:
        for _, term in reader.most_frequent_terms(field, terms):
            view.bits(field, term_text(term))


_local = threading.local()


def current(folder: Path) -> View:
    """This thread's up-to-date view of the index in `folder`. Raises FileNotFoundError when
    there is no index (the app builds one at start)."""
    views: dict = getattr(_local, "views", None) or {}
    _local.views = views
    key = (os.getpid(), str(folder))
    view: View | None = views.get(key)
    generation = index.current_generation(folder)
    if generation is None:
        raise FileNotFoundError(f"no search index in {folder}")
    if (
        view is not None
        and view.generation == generation
        and view.state == pinned.state(folder / generation)
    ):
        return view
    if view is not None:
        view.searcher.close()
    # A new searcher, not Searcher.refresh(): whoosh-reloaded 2.7.5's refresh keeps the
    # segments of the old reader (merged-away segments and old deletions come back).
    # The caches are per segment, so a new searcher costs little more. Its files are pinned
    # (pinned.py): writers and rebuilds in any process cannot take them away from under it.
    view = View(folder, generation, pinned.open_index(folder / generation))
    views[key] = view
    return view
