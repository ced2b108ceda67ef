"""Is an index generation damaged? Every file of every segment is read and checked, not only
the list of documents: the table of contents, the term index and every term's postings, the
stored fields, every column (the vectors included).

Whoosh keeps no checksums, so damage is found where it breaks what the files must hold: a file
that cannot be decoded, postings out of order or past the segment's documents, or fewer than
the term index says, stored fields without their id, a column of another length, a summary
that is not UTF-8, a vector of another size. What decodes into plausible values is not found
here; `check()` then finds the documents that differ from the database.
"""

from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path

from whoosh.matching.wrappers import FilterMatcher

from . import pinned, semantic, vectors

log = logging.getLogger(__name__)
TEXT_COLUMNS = ("title", "kw", "ctx", "summary", "sort_name", "code_key")


def problems(folder: Path, name: str) -> list[str]:
    """What is wrong with generation `name` of the index in `folder` (empty when sound)."""
    try:
        ix = pinned.open_index(folder / name)
        with ix.searcher() as searcher:
            found: list[str] = []
            for reader, _ in searcher.reader().leaf_readers():
                if reader.segment() is not None:
                    found.extend(_segment_problems(reader))
            return found
    except TimeoutError:
        raise  # busy, not damaged
    except Exception as error:  # a file that cannot even be opened or decoded
        return [f"{name}: {type(error).__name__}: {error}"]


def unopenable(folder: Path, name: str) -> list[str]:
    """What opening generation `name` and reading its first document finds wrong (a quick
    check: problems() reads everything)."""
    try:
        ix = pinned.open_index(folder / name)
        with ix.searcher() as searcher:
            reader = searcher.reader()
            list(reader.lexicon("status"))
            if reader.doc_count():
                searcher.stored_fields(next(iter(reader.all_doc_ids())))
    except TimeoutError:
        raise  # busy, not damaged
    except Exception as error:
        return [f"{name}: {type(error).__name__}: {error}"]
    return []


def _segment_problems(reader) -> list[str]:
    where = reader.segment().segment_id()
    size = reader.doc_count_all()
    found: list[str] = []
    for check in (_postings, _stored, _columns):
        try:
            found.extend(f"{where}: {problem}" for problem in check(reader, size))
        except Exception as error:
            found.append(f"{where}: {check.__name__[1:]}: {type(error).__name__}: {error}")
    return found


def _postings(reader, size: int) -> list[str]:
    found: list[str] = []
    deletions = reader.has_deletions()
    for fieldname, field in reader.schema.items():
        if not field.indexed:
            continue
        for term in reader.lexicon(fieldname):
            info = reader.term_info(fieldname, term)
            matcher = reader.postings(fieldname, term)
            if isinstance(matcher, FilterMatcher):
                # Past the deleted documents it starts with: the others are all there.
                matcher = matcher.child
            ids = list(matcher.all_ids())
            ordered = all(a < b for a, b in itertools.pairwise(ids))
            frequency = info.doc_frequency()
            count = len(ids) <= frequency if deletions else len(ids) == frequency
            if not (count and ordered) or (ids and ids[-1] >= size):
                found.append(f"postings of {fieldname}:{term!r} do not match the term index")
                if len(found) > 10:
                    return found
    return found


def _stored(reader, size: int) -> list[str]:
    for docnum in range(size):
        if not reader.is_deleted(docnum) and "id" not in reader.stored_fields(docnum):
            return [f"stored fields of document {docnum} hold no id"]
    return []


def _columns(reader, size: int) -> list[str]:
    found: list[str] = []
    for fieldname, field in reader.schema.items():
        if field.column_type is None:
            continue
        values = list(reader.column_reader(fieldname))
        if len(values) != size:
            found.append(f"column {fieldname} holds {len(values)} values for {size} documents")
        elif fieldname in TEXT_COLUMNS:
            for value in values:
                value.decode("utf-8")
        elif fieldname == "vector" and not _unit_vectors(values):
            found.append("column vector holds values that are no unit vectors")
    return found


def without_vectors(searcher) -> int:
    """Live documents without a vector (the semantic ranking cannot see them)."""
    count = 0
    for reader, _ in searcher.reader().leaf_readers():
        column = reader.column_reader("vector")
        for docnum in range(reader.doc_count_all()):
            if not reader.is_deleted(docnum) and not column[docnum]:
                count += 1
    return count


def _unit_vectors(values: list[bytes]) -> bool:
    """True when every value is empty or a unit vector of the model's size (the model's
    vectors are L2-normalised; half precision keeps their norm within a thousandth)."""
    import numpy

    width = semantic.DIMENSIONS * numpy.dtype(vectors.DTYPE).itemsize
    if any(len(value) not in (0, width) for value in values):
        return False
    matrix, _ = vectors.matrix(values)
    with numpy.errstate(all="ignore"):  # what random bytes decode to: inf, nan
        norms = numpy.linalg.norm(matrix[[i for i, value in enumerate(values) if value]], axis=1)
        return bool(numpy.all(numpy.abs(norms - 1.0) < 0.01))


_verdicts: dict[tuple[str, int], list[str]] = {}
_verdicts_lock = threading.Lock()


def damaged(folder: Path, name: str) -> list[str]:
    """problems(), once per state of the generation in this process (a server asks again only
    after the index changed): what is wrong, or an empty list."""
    key = (str(folder / name), pinned.state(folder / name))
    with _verdicts_lock:
        if key not in _verdicts:
            try:
                _verdicts[key] = problems(folder, name)
            except TimeoutError:
                return []  # commits kept coming: nothing proven, asked again next time
            if _verdicts[key]:
                log.error("search index %s is damaged: %s", folder / name, _verdicts[key][:3])
        return _verdicts[key]
