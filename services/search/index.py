"""The search index on disk: its generations, the write lock, writing what is pending (one
writer at a time, under a lock file shared by every process), rebuilding, checking, and the
repair of a missing or broken index at start. documents.py says what a procedure's document
holds; sync.py decides when to write.

Whoever holds the lock applies the change log (changelog.py) from the generation's mark (the
`MARK` file: the last change its documents hold), its own process's changes and every other
process's and server's, so a busy lock delays an update by the length of one write and loses
none.

The index lives in `SEARCH_INDEX_DIR` as generations: `CURRENT` names the directory in use.
A rebuild writes a new generation beside it, then replaces `CURRENT` atomically, so searches
keep working during a rebuild; the generation before stays for processes that have it open.

On SQLite a transaction that read and then writes fails at once ("database is locked") when
another process committed in between, so every read here ends (a rollback: nothing to keep)
before the write that follows it, and each write is a transaction of its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, inspect, select
from whoosh import formats, index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.util.filelock import FileLock, try_for
from whoosh.writing import SegmentWriter

from ..catalogue.queries import FULL_PROCEDURE
from ..db import db, reading
from ..models import Procedure, SearchChange, SearchChangeCounter
from . import analysis, changelog, documents, health, integrity, semantic, vectors

log = logging.getLogger(__name__)

POINTER = "CURRENT"
MODEL_FILE = "MODEL"  # in a generation: the embedding model its vectors come from ("" none)
MARK_FILE = "MARK"  # in a generation: the number of the last change of the log it holds
LOCK_FILE = "write.lock"
BATCH = 250
# Segments as separate files, not one compound file: Whoosh copies each part of a compound
# file into memory when it opens it (70 MB per searcher for 50,000 procedures).
COMPOUND = False
# How long an inline writer may wait for the lock (a rebuild holds it longer, then writes
# whatever is pending itself), and a rebuild.
INLINE_LOCK_WAIT = 10.0
REBUILD_LOCK_WAIT = 3600.0
# A rebuild: the memory of the writer's pool of postings before it spills a sorted run to
# disk (one writer keeps only the identifier and facet fields there, about ten postings a
# procedure: see _RebuildWriter; several processes keep all); from how many procedures it
# writes with several processes, and how many documents it hands a process at a time.
REBUILD_LIMIT_MB = 256
PARALLEL_FROM = 2000
PARALLEL_BATCH = 250


# --- storage: generations, the pointer, the lock ------------------------------------------------


def root() -> Path:
    """The folder that holds the index generations (`SEARCH_INDEX_DIR`)."""
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def current_generation(folder: Path) -> str | None:
    """The name of the generation in use, or None when there is none."""
    try:
        name = (folder / POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    return name if name and (folder / name).is_dir() else None


def open_generation(folder: Path, name: str) -> index.Index:
    """Open one generation of the index."""
    return index.open_dir(str(folder / name))


def _point_to(folder: Path, name: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".pointer-", delete=False) as f:
        f.write(name)
    os.replace(f.name, folder / POINTER)


def _new_generation(folder: Path) -> tuple[str, index.Index]:
    name = f"v{documents.SCHEMA_VERSION}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    (folder / name).mkdir(parents=True)
    return name, index.create_in(str(folder / name), documents.schema())


def _remove_old_generations(folder: Path, keep: set[str]) -> None:
    for path in folder.iterdir():
        if path.is_dir() and path.name.startswith("v") and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def write_lock(timeout: float) -> Iterator[bool]:
    """Hold the one lock every writer of the index takes (a file lock, so it works across
    processes; keep the index on a local disk). Yields False when `timeout` ran out."""
    folder = root()
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_FILE))
    acquired = try_for(lambda: lock.acquire(blocking=False), timeout, 0.02)
    try:
        yield bool(acquired)
    finally:
        if acquired:
            lock.release()


# --- writing ------------------------------------------------------------------------------------


def _load(ids: list[int]) -> list[Procedure]:
    return list(
        db.session.execute(
            select(Procedure).where(Procedure.id.in_(ids)).options(*FULL_PROCEDURE)
        ).scalars()
    )


def _documents(procedures: list[Procedure]) -> list[dict]:
    """The search documents of procedures, each with the vector of its passage."""
    made = [documents.document(p) for p in procedures]
    for document, vector in zip(
        made, vectors.encode([documents.passage(p) for p in procedures]), strict=True
    ):
        document["vector"] = vector
    return made


def _write(ix: index.Index, ids: list[int]) -> None:
    loaded = _load(ids)
    made = {p.id: d for p, d in zip(loaded, _documents(loaded), strict=True)}
    writer = ix.writer(timeout=INLINE_LOCK_WAIT, compound=COMPOUND)
    try:
        for procedure_id in ids:
            if procedure_id in made:
                writer.update_document(**made[procedure_id])
            else:
                writer.delete_by_term("id", str(procedure_id))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    db.session.expunge_all()


def _read_mark_file(generation: Path) -> tuple[int, str]:
    """(the last change of the log the generation holds, the token of that log's database);
    (0, "") for a generation without a mark."""
    try:
        number, token = (generation / MARK_FILE).read_text().split()
        return int(number), token
    except (FileNotFoundError, ValueError):
        return 0, ""


def read_mark(generation: Path) -> int:
    """The last change of the log the generation holds (0: none)."""
    return _read_mark_file(generation)[0]


def _write_mark(generation: Path, mark: int, token: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=generation, prefix=".mark-", delete=False) as f:
        f.write(f"{mark} {token}")
    os.replace(f.name, generation / MARK_FILE)


def pending(folder: Path, name: str | None) -> int:
    """How many changes of the log the generation `name` has not applied yet."""
    return changelog.count_after(read_mark(folder / name) if name else 0)


class _Behind(Exception):
    """The log no longer holds what the generation lacks: it must be rebuilt."""


def _drain_locked(ix: index.Index, generation: Path) -> int:
    """Apply the log after the generation's mark to `ix` (the caller holds the write lock);
    returns how many procedures were written. Raises _Behind when the mark is of another
    database's log (a copied instance folder, a database made anew), when the log was pruned
    past it, or has not reached it (a database restored from an older backup)."""
    mark, token = _read_mark_file(generation)
    log_now = changelog.bounds()
    db.session.rollback()  # the read ends: nothing to commit (see the module docstring)
    if not token and not mark and not log_now.pruned:
        # Made before the log, or before the tables: the whole log applies, and is all there.
        token = log_now.token
        _write_mark(generation, mark, token)
    if token != log_now.token or mark < log_now.pruned or mark > log_now.last:
        raise _Behind(f"mark {mark} of {token or 'no log'}, log {log_now}")
    written = 0
    while rows := changelog.after(mark, BATCH * 2):
        db.session.rollback()
        ids = sorted({procedure_id for _, procedure_id in rows})
        try:
            _write(ix, ids)
        finally:
            # The read of the procedures ends, after a failed write too: the mark stays, so
            # the next try writes them again.
            db.session.rollback()
        mark = rows[-1][0]
        _write_mark(generation, mark, token)
        written += len(ids)
    changelog.report(generation.parent, mark)
    return written


@reading()
def drain(timeout: float = INLINE_LOCK_WAIT) -> int | None:
    """Write the pending changes into the index. Returns how many procedures were written, or
    None when the lock stayed busy for `timeout` seconds (the holder writes them)."""
    folder = root()
    with write_lock(timeout) as acquired:
        if not acquired:
            return None
        name = current_generation(folder)
        if name is None:
            return None  # no index yet: the rebuild at start writes everything
        try:
            return _drain_locked(open_generation(folder, name), folder / name)
        except _Behind as behind:
            log.warning(
                "search index %s cannot follow the change log (%s): rebuilding", name, behind
            )
    return rebuild()


def procedure_batches() -> Iterator[list[Procedure]]:
    """Every procedure, loaded the ORM way with all it shows, in batches of BATCH (each let go
    of after use): what `check` compares the index with, and what bench/search.py's naive
    builds read."""
    ids = list(db.session.execute(select(Procedure.id).order_by(Procedure.id)).scalars())
    for start in range(0, len(ids), BATCH):
        yield _load(ids[start : start + BATCH])
        db.session.expunge_all()


def _rebuild_codec() -> W3Codec:
    """Whoosh's codec, without the length statistics it keeps per block of postings: they
    serve Whoosh's scorers, which nothing here uses (ranking.py scores), and gathering them
    reads the length column back from disk once per posting (a sixth of a rebuild)."""
    codec = W3Codec()
    codec.length_stats = False
    return codec


class _RebuildWriter(SegmentWriter):
    """Whoosh's segment writer with a shorter way for the fields of terms (documents._terms:
    an analyzer of analysis.py, postings that say only "this document holds the term"). A
    rebuild adds documents in the order of their numbers, so each term's postings are already
    in order: they are kept as an array of document numbers per term, and written term by term
    at the end, instead of as a pool of postings sorted in runs spilled to disk and merged
    back (half of a rebuild of 50,000 procedures went into that pool and its merge). Every
    other field is written as SegmentWriter writes it. tests/test_search_rebuild.py compares
    what it writes with what an edit writes."""

    def __init__(self, ix: index.Index, **options) -> None:
        super().__init__(ix, **options)
        # A field of terms: {term: the numbers of the documents that hold it, in order}.
        self.held: dict[str, dict[bytes, array]] = {}

    def add_document(self, **fields) -> None:
        """SegmentWriter.add_document for the documents of documents.py: no options (`_boost`,
        `_stored_…`), no field with term vectors or a spelling of its own."""
        self._check_state()
        self._check_fields(self.schema, fields)
        perdocwriter = self.perdocwriter
        perdocwriter.start_doc(self.docnum)
        try:
            for fieldname in sorted(fields):
                value = fields[fieldname]
                if value is None:
                    continue
                field = self.schema[fieldname]
                length = self._index_field(fieldname, field, value) if field.indexed else 0
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                if field.column_type:
                    column_value = field.to_column_value(value)
                    perdocwriter.add_column_value(fieldname, field.column_type, column_value)
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _index_field(self, fieldname: str, field, value) -> int:
        """Add the postings of one field of the current document; returns its length."""
        docnum = self.docnum
        if not _plain_terms(field):
            length = 0
            for word, frequency, weight, value_bytes in field.index(value):
                if field.scorable:
                    length += frequency
                self.pool.add((fieldname, word, docnum, weight, value_bytes))
            return length
        if isinstance(value, str):
            words = {term.encode() for term in field.analyzer.terms(value)}
        else:
            words = {word for word, *_ in field.index(value)}
        held = self.held.setdefault(fieldname, {})
        for word in words:
            numbers = held.get(word)
            if numbers is None:
                held[word] = array("I", (docnum,))
            else:
                numbers.append(docnum)
        return len(words)

    def _flush_segment(self) -> None:
        """Write the pool's postings as Whoosh does, then the fields of terms (the two hold
        different fields: a writer of a new generation merges no segment into its pool).
        Postings carry no length: _rebuild_codec keeps no length statistics."""
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        fieldwriter.add_postings(self.schema, None, self.pool.iter_postings())
        for fieldname in sorted(self.held):
            field = self.schema[fieldname]
            boost = field.format.field_boost
            fieldwriter.start_field(fieldname, field)
            held = self.held.pop(fieldname)
            for word in sorted(held):
                fieldwriter.start_term(word)
                for docnum in held.pop(word):
                    fieldwriter.add(docnum, boost, b"", 0)
                fieldwriter.finish_term()
            fieldwriter.finish_field()
        fieldwriter.close()


def _plain_terms(field) -> bool:
    return type(field.format) is formats.Existence and isinstance(
        field.analyzer, analysis.TermAnalyzer
    )


def _rebuild_writer(ix: index.Index, procedures: int):
    """The writer of a rebuild. With `SEARCH_REBUILD_PROCS` above 1 (1 by default), a catalogue
    of PARALLEL_FROM procedures or more is written by that many processes, each writing a
    segment of its own (multisegment: no merge after) through Whoosh's pool of postings: on 2
    cores that takes longer than _RebuildWriter alone (175 s against 111 s for 50,000
    procedures), and equal scores are then ordered by the processes' segments, in the order
    they finished."""
    procs = int(current_app.config.get("SEARCH_REBUILD_PROCS", 1))
    options = {"limitmb": REBUILD_LIMIT_MB, "compound": COMPOUND, "codec": _rebuild_codec()}
    if procs > 1 and procedures >= PARALLEL_FROM:
        return ix.writer(procs=procs, multisegment=True, batchsize=PARALLEL_BATCH, **options)
    return _RebuildWriter(ix, **options)


def _build(ix: index.Index, folder: Path, name: str, tables: bool) -> int:
    """Write every procedure into the new generation `name`; returns how many. On failure the
    generation is removed and the one in use stays."""
    count = 0
    total = db.session.execute(select(func.count(Procedure.id))).scalar_one() if tables else 0
    writer = _rebuild_writer(ix, total)
    try:
        if tables:
            for batch in documents.batches():
                for document in _documents(batch):
                    writer.add_document(**document)
                count += len(batch)
    except BaseException:
        writer.cancel()
        shutil.rmtree(folder / name, ignore_errors=True)
        raise
    try:
        writer.commit()
        # A writer process that died leaves its segment out without a word: count them.
        with index.open_dir(str(folder / name)).searcher() as searcher:
            written = searcher.doc_count()
        if written != count:
            raise RuntimeError(f"search index rebuild wrote {written} of {count} documents")
    except BaseException:
        shutil.rmtree(folder / name, ignore_errors=True)
        raise
    return count


@reading()
def rebuild() -> int:
    """Build a new index generation from the database beside the one in use, switch to it
    atomically and write what changed meanwhile. Returns the number of procedures indexed.
    Searches keep using the old generation until the switch. Raises TimeoutError when another
    writer holds the lock for REBUILD_LOCK_WAIT seconds."""
    folder = root()
    with current_app.app_context(), write_lock(REBUILD_LOCK_WAIT) as acquired:
        if not acquired:
            raise TimeoutError("search index lock stayed busy")
        previous = current_generation(folder)
        name, ix = _new_generation(folder)
        tables = _has_tables()
        # Changes numbered up to here are in what the build reads; later ones are applied
        # after it (writing a document twice does no harm).
        start = changelog.bounds() if tables else changelog.Bounds()
        db.session.rollback()  # the read ends: nothing to commit
        count = _build(ix, folder, name, tables)
        model = semantic.embedder()
        (folder / name / MODEL_FILE).write_text(model.identity if model else "")
        _write_mark(folder / name, start.last, start.token)
        _point_to(folder, name)
        if tables:
            # The long read of the build ends before the log is read again.
            db.session.rollback()
            _drain_locked(ix, folder / name)
        _remove_old_generations(folder, {name, previous or name})
    vectors.prune()
    return count


def _has_tables() -> bool:
    inspector = inspect(db.engine)
    return all(
        inspector.has_table(model.__tablename__)
        for model in (Procedure, SearchChange, SearchChangeCounter)
    )


@reading()
def ensure(thorough: bool = True) -> str:
    """At start: rebuild a missing, damaged or outdated index, and write pending changes.
    `thorough` reads every file of the index for damage (seconds for the real catalogue);
    without it only what opening and a first search read is checked (a server then has its
    background thread read the rest). Returns "rebuilt", "ok" or, when the index cannot be
    written, "unwritable": the site starts all the same (searches use the index there is),
    the error is logged and the changes stay pending until a write succeeds."""
    folder = root()
    try:
        with current_app.app_context():
            return _ensure(folder, thorough)
    except OSError as error:
        health.failed(str(folder), error)
        return "unwritable"


def _ensure(folder: Path, thorough: bool) -> str:
    name = current_generation(folder)
    if name is None:
        log.info("creating the search index in %s", folder)
        rebuild()
        return "rebuilt"
    if not name.startswith(f"v{documents.SCHEMA_VERSION}-"):
        log.warning("search index %s is of another schema: rebuilding", folder / name)
        rebuild()
        return "rebuilt"
    damage = integrity.problems(folder, name) if thorough else integrity.unopenable(folder, name)
    if damage or _is_empty_but_catalogue_is_not(folder, name):
        log.error("search index %s damaged or empty (%s): rebuilding", folder / name, damage[:3])
        rebuild()
        return "rebuilt"
    if _vectors_outdated(folder, name):
        log.warning("search index %s has no vectors of the model in use: rebuilding", name)
        rebuild()
        return "rebuilt"
    if _has_tables():
        health.succeeded(str(folder), drain(timeout=0))
    return "ok"


def _vectors_outdated(folder: Path, name: str) -> bool:
    """True when a model is installed whose vectors the generation does not hold (it was built
    without it, or with another)."""
    model = semantic.embedder()
    if model is None:
        return False
    try:
        built_with = (folder / name / MODEL_FILE).read_text().strip()
    except OSError:
        built_with = ""
    return built_with != model.identity


def _is_empty_but_catalogue_is_not(folder: Path, name: str | None) -> bool:
    if name is None or not _has_tables():
        return False
    with open_generation(folder, name).searcher() as searcher:
        if searcher.doc_count():
            return False
    return db.session.execute(select(func.count(Procedure.id))).scalar_one() > 0


# --- checking -----------------------------------------------------------------------------------


@dataclass
class CheckReport:
    """Differences between the database and the index."""

    missing: list[str] = field(default_factory=list)  # codes in the database, not indexed
    stale: list[str] = field(default_factory=list)  # codes indexed from older data
    extra: list[str] = field(default_factory=list)  # codes indexed, no longer in the database
    pending: int = 0  # changes waiting to be written
    indexed: int = 0
    without_vectors: int = 0  # documents the semantic ranking cannot see
    model: str | None = None  # the embedding model in use, None when there is none
    damage: list[str] = field(default_factory=list)  # what is wrong in the segments' files
    unwritable: str | None = None  # why the index cannot be written, None when it can

    @property
    def ok(self) -> bool:
        """True when the index holds what the database does (vectors included, when a model
        could have made them)."""
        vectors_missing = self.model is not None and self.without_vectors > 0
        broken = self.damage or self.unwritable
        return not (self.missing or self.stale or self.extra or vectors_missing or broken)


@reading()
def check() -> CheckReport:
    """Read every file of the index, try to write it, and compare every procedure with its
    document in the index (unless the files are damaged)."""
    folder = root()
    report = CheckReport()
    name = current_generation(folder)
    indexed: dict[str, tuple[str, str]] = {}
    report.unwritable = _write_problem(folder, name)
    if name is not None:
        report.damage = integrity.problems(folder, name)
    if name is not None and not report.damage:
        with open_generation(folder, name).searcher() as searcher:
            for stored in searcher.all_stored_fields():
                indexed[stored["id"]] = (stored["stored_code"], stored["digest"])
            report.without_vectors = integrity.without_vectors(searcher)
    report.indexed = len(indexed)
    model = semantic.embedder()
    report.model = model.identity if model else None
    with current_app.app_context():
        report.pending = pending(folder, name) if not report.damage else 0
        for batch in procedure_batches():
            for procedure in batch:
                entry = indexed.pop(str(procedure.id), None)
                if entry is None:
                    report.missing.append(procedure.code)
                elif entry[1] != documents.document(procedure)["digest"]:
                    report.stale.append(procedure.code)
    report.extra = sorted(code for code, _ in indexed.values())
    if report.damage:
        report.missing = []  # not compared: the index cannot be read
    return report


def _write_problem(folder: Path, name: str | None) -> str | None:
    """Why the index in `folder` cannot be written (its lock, its generation's folder), or
    None. A lock held by another writer is no problem."""
    try:
        with write_lock(0) as acquired:
            if acquired and name is not None:
                with tempfile.TemporaryFile(dir=folder / name):
                    pass
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    return None
