"""Pages read the database a bounded number of times, whatever they show (counted with a
SQLAlchemy event): the procedure page of the real catalogue's richest procedure in one
statement for the procedure with every part and related procedure it shows, then the site
settings and the journeys it is part of; a page of search results in one statement for its
lines, whether it shows 5 results or 50."""

from __future__ import annotations

import re
import threading

from sqlalchemy import event, func, select
from werkzeug.test import TestResponse

from services import search
from services.catalogue import queries
from services.db import db
from services.models import DossierItem, Procedure, RelatedProcedure, Role, Status
from services.search import searchlog

# The procedure with its parts and related procedures, the settings, the journeys.
PAGE_STATEMENTS = 3


def _statements(app, path: str) -> tuple[TestResponse, list[str]]:
    seen: list[str] = []
    me = threading.get_ident()  # the request's, not the search log writer's

    def count(conn, cursor, statement, *args):
        if threading.get_ident() == me and statement.strip().upper() not in (
            "BEGIN",
            "BEGIN IMMEDIATE",
            "COMMIT",
            "ROLLBACK",
        ):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = app.test_client().get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return response, seen


def test_a_real_procedure_page_takes_a_bounded_number_of_queries(portal_app):
    with portal_app.app_context():
        # The richest procedure: the most documents in its dossier, published.
        code = db.session.execute(
            select(Procedure.code)
            .join(DossierItem, DossierItem.procedure_id == Procedure.id)
            .where(Procedure.status == Status.PUBLISHED)
            .group_by(Procedure.code)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
    response, statements = _statements(portal_app, f"/thu-tuc/{code}")
    assert response.status_code == 200
    assert len(statements) <= PAGE_STATEMENTS, "\n".join(s[:120] for s in statements)
    settings = [s for s in statements if "FROM site_settings" in s]
    assert len(settings) == 1
    # Only one statement reads the procedure's parts: no collection is loaded on its own.
    parts = ("FROM step", "FROM channel", "FROM dossier_item", "FROM legal_basis", "JOIN step")
    assert sum(any(part in s for part in parts) for s in statements) == 1


def test_pages_with_a_replacement_or_related_procedures_take_as_few(demo_app):
    # Run on PostgreSQL too (the real catalogue's test is SQLite only): an abolished procedure
    # linking its replacement, and the one with the most related procedures in the catalogue.
    with demo_app.app_context():
        abolished = (
            db.session.execute(
                select(Procedure).where(
                    Procedure.status == Status.ABOLISHED, Procedure.replaced_by_id.is_not(None)
                )
            )
            .scalars()
            .first()
        )
        linked = {abolished.code: [abolished.replaced_by.code]}
        code = db.session.execute(
            select(Procedure.code)
            .join(RelatedProcedure, RelatedProcedure.procedure_id == Procedure.id)
            .where(Procedure.status == Status.PUBLISHED)
            .group_by(Procedure.code)
            .order_by(func.count().desc(), Procedure.code)
            .limit(1)
        ).scalar_one()
        related = [r.code for r in queries.get_procedure(code).related]
        linked[code] = list(queries.procedures_by_code(related))
    assert linked[code], "a procedure with related procedures in the catalogue"
    for code, targets in linked.items():
        response, statements = _statements(demo_app, f"/thu-tuc/{code}")
        assert response.status_code == 200
        assert len(statements) <= PAGE_STATEMENTS, "\n".join(s[:120] for s in statements)
        for target in targets:  # linked as the page always did
            assert f'href="/thu-tuc/{target}"' in response.text


def test_a_page_of_search_results_takes_the_same_few_queries_for_any_size(demo_app):
    demo_app.config["SEARCH_BACKGROUND"] = True  # the search log written as in a server
    first, _ = _statements(demo_app, "/api/v1/procedures?q=khai+sinh")  # facet names read
    assert first.status_code == 200
    counts, shown = [], []
    for per_page in (5, 50):
        response, statements = _statements(
            demo_app, f"/api/v1/procedures?q=giay+phep&per_page={per_page}"
        )
        assert response.status_code == 200
        shown.append(len(response.json["results"]))
        counts.append(len(statements))
        # The result lines in one statement, whatever their number, and the settings (the
        # links' base address).
        rows = [s for s in statements if re.search(r"\bFROM procedure\b", s)]
        assert len(rows) == 1, "\n".join(s[:120] for s in statements)
        assert counts[-1] <= 2, "\n".join(s[:120] for s in statements)
    assert shown[0] == 5
    assert shown[1] > 20
    assert counts[0] == counts[1]
    assert searchlog.writer(demo_app).flush()


def test_a_procedure_sheet_loads_the_procedure_in_one_statement(demo_app):
    # The print view and its PDF (the reception desk's sheet) load the procedure as its page
    # does: no collection, and no related procedure, read on its own.
    with demo_app.app_context():
        code = db.session.execute(
            select(Procedure.code)
            .join(RelatedProcedure, RelatedProcedure.procedure_id == Procedure.id)
            .where(Procedure.status == Status.PUBLISHED)
            .group_by(Procedure.code)
            .order_by(func.count().desc(), Procedure.code)
            .limit(1)
        ).scalar_one()
        procedure = queries.get_procedure(code)
        related = queries.procedures_by_code([r.code for r in procedure.related])
        steps = [step.text for step in procedure.steps]
    assert related, "a procedure with related procedures in the catalogue"
    for path in (f"/thu-tuc/{code}/in", f"/thu-tuc/{code}.pdf"):
        response, statements = _statements(demo_app, path)
        assert response.status_code == 200
        reads = [s for s in statements if re.search(r"\b(FROM|JOIN) (procedure|step)\b", s)]
        assert len(reads) == 1, "\n".join(s[:120] for s in statements)
    sheet = demo_app.test_client().get(f"/thu-tuc/{code}/in").text
    for linked in related.values():
        assert linked.name in sheet
    assert all(text in sheet for text in steps)


def test_result_lines_are_read_once_per_index_state_and_follow_every_change(demo_app):
    """A search repeated on the same index state reads no procedure from the database; a
    change to what its lines show (the procedure's name, its agency's name, its status) gives
    the index a new state, and the next search shows the change."""
    url = "/api/v1/procedures?q=khai+sinh"
    first, statements = _statements(demo_app, url)
    assert [s for s in statements if re.search(r"\bFROM procedure\b", s)]
    again, statements = _statements(demo_app, url)
    assert again.json == first.json
    assert not [s for s in statements if re.search(r"\bFROM procedure\b", s)], statements
    renamed, withdrawn = (r["code"] for r in first.json["results"][:2])
    with demo_app.app_context():
        procedure = db.session.scalar(select(Procedure).where(Procedure.code == renamed))
        procedure.name += " tại nhà"
        agency = procedure.agencies(Role.IMPLEMENTING)[0].agency
        agency.name = "Ủy ban nhân dân xã Thử Nghiệm"
        db.session.scalar(
            select(Procedure).where(Procedure.code == withdrawn)
        ).status = Status.DRAFT
        db.session.commit()
        name = procedure.name
    after, _ = _statements(demo_app, url)
    lines = {r["code"]: r for r in after.json["results"]}
    assert lines[renamed]["name"] == name
    assert lines[renamed]["agency"] == "Ủy ban nhân dân xã Thử Nghiệm"
    assert withdrawn not in lines


def test_result_lines_share_one_copy_of_each_agency_and_field(demo_app):
    """The lines kept for an index state hold one copy of each agency, link, lĩnh vực and
    level they show, however many lines show it, and each line still shows its own."""
    with demo_app.app_context():
        first = search.find(search.Params(q="đăng ký", per_page=50), record=False).results
        second = search.find(search.Params(q="cấp", per_page=50), record=False).results
        lines = [r.procedure for r in first + second]
        by_agency: dict[int, set[int]] = {}
        by_field: dict[str, set[int]] = {}
        for line in lines:
            for link in line.agency_links:
                if link.agency is not None:
                    by_agency.setdefault(link.agency.id, set()).add(id(link.agency))
            for part in line.fields:
                by_field.setdefault(part.slug, set()).add(id(part))
        shared = [a for a in by_agency if sum(1 for x in lines if a in _agency_ids(x)) > 1]
        assert shared  # the demo's lines do share agencies
        assert all(len(copies) == 1 for copies in by_agency.values())
        assert all(len(copies) == 1 for copies in by_field.values())
        for line in lines:
            procedure = db.session.scalar(select(Procedure).where(Procedure.code == line.code))
            assert sorted(f.slug for f in line.fields) == sorted(f.slug for f in procedure.fields)
            assert {link.agency.name for link in line.agency_links if link.agency} == {
                link.agency.name for link in procedure.agency_links if link.agency
            }


def _agency_ids(line) -> set[int]:
    return {link.agency.id for link in line.agency_links if link.agency is not None}
