"""A full rebuild reads the procedures its own way (documents.batches: plain rows of the columns
documents read, not ORM objects) and writes them with a writer of its own (several processes
for a large catalogue): what it writes must be what an edit writes, procedure for procedure."""

from __future__ import annotations

from sqlalchemy import select

from services import search
from services.catalogue import convert, queries, records, store
from services.db import db
from services.models import Procedure
from services.search import documents, index

TERM_FIELDS = ("name", "name_exact", "keywords", "context", "body", "pairs", "pairs_exact", "refs")
COLUMNS = ("title", "kw", "ctx", "summary", "sort_name", "code_key", "updated", "name_length")


def _indexed(procedure_id: int) -> dict:
    """What the index in use holds of one procedure's document: its stored fields, its column
    values and, for each field of terms, the terms whose postings hold it."""
    folder = index.root()
    with index.open_generation(folder, index.current_generation(folder)).searcher() as searcher:
        docnum = searcher.document_number(id=str(procedure_id))
        reader = searcher.reader()
        held = {name: reader.column_reader(name)[docnum] for name in COLUMNS}
        for name in TERM_FIELDS:
            held[name] = {
                term
                for term in reader.lexicon(name)
                if docnum in set(reader.postings(name, term).all_ids())
            }
        return {"stored": searcher.stored_fields(docnum), **held}


def _rich_code(app) -> str:
    """A real procedure with many parts: agencies, dossier papers, legal bases and results."""
    with app.app_context():
        return next(
            p.code
            for p in queries.all_procedures()
            if len(p.agency_links) > 1 and p.dossier and p.legal_bases and p.results and p.steps
        )


def test_every_real_procedure_loads_for_a_rebuild_as_for_an_edit(portal_app):
    """documents.batches gives each procedure of the real catalogue the very document (and
    passage) that the ORM loading of an edit gives it."""
    with portal_app.app_context():
        loaded = {
            p.id: (documents.document(p), documents.passage(p))
            for batch in documents.batches(size=700)
            for p in batch
        }
        edited = {
            p.id: (documents.document(p), documents.passage(p)) for p in queries.all_procedures()
        }
    assert len(loaded) == 2642
    assert loaded == edited


def test_a_rebuilt_document_equals_the_one_an_edit_wrote(portal_app):
    code = _rich_code(portal_app)
    with portal_app.app_context():
        record = convert.procedure_record(queries.get_procedure(code, public=False))
        record["name"] = f"{record['name']} (sửa đổi)"
        procedure, _ = store.store_procedure(records.normalize_procedure(record))
        db.session.commit()
        procedure_id = procedure.id
        by_edit = _indexed(procedure_id)
    assert {b"sua", b"doi"} <= by_edit["name"]
    result = portal_app.test_cli_runner().invoke(args=["search-reindex"])
    assert result.exit_code == 0, result.output
    with portal_app.app_context():
        by_rebuild = _indexed(procedure_id)
    assert by_rebuild == by_edit
    # And every other procedure's document says what the database does (its digest).
    result = portal_app.test_cli_runner().invoke(args=["search-check"])
    assert result.exit_code == 0, result.output


def _everything(app) -> tuple[dict, dict]:
    """The stored fields and column values of every document of the index in use, by id, and
    the codes some searches find."""
    with app.app_context():
        folder = index.root()
        ix = index.open_generation(folder, index.current_generation(folder))
        with ix.searcher() as searcher:
            reader = searcher.reader()
            columns = {name: list(reader.column_reader(name)) for name in COLUMNS}
            held = {
                stored["id"]: (stored, {name: values[docnum] for name, values in columns.items()})
                for docnum, stored in enumerate(reader.all_stored_fields())
            }
        # Which procedures, not their order: equal scores are ordered by document number,
        # and the processes' segments come in the order they finish.
        found = {
            q: sorted(
                r.procedure.code for r in search.find(search.Params(q=q), record=False).results
            )
            for q in ("giấy phép", "dang ky kinh doanh", "hộ tịch", "đất đai", "xây dựng")
        }
        return held, found


def test_a_rebuild_in_several_processes_writes_the_same_index(demo_app, monkeypatch):
    one = demo_app.test_cli_runner().invoke(args=["search-reindex"])
    assert one.exit_code == 0, one.output
    alone = _everything(demo_app)
    monkeypatch.setattr(index, "PARALLEL_FROM", 1)
    monkeypatch.setattr(index, "PARALLEL_BATCH", 5)
    demo_app.config["SEARCH_REBUILD_PROCS"] = 2
    several = demo_app.test_cli_runner().invoke(args=["search-reindex"])
    assert several.exit_code == 0, several.output
    with demo_app.app_context():
        folder = index.root()
        segments = index.open_generation(folder, index.current_generation(folder))._segments()
        count = len(db.session.execute(select(Procedure.id)).all())
    assert len(segments) == 2  # one per process, not merged
    assert sum(segment.doc_count() for segment in segments) == count
    assert _everything(demo_app) == alone
    assert demo_app.test_cli_runner().invoke(args=["search-check"]).exit_code == 0
