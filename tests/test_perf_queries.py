"""Pages read the database a bounded number of times, whatever they show (counted with a
SQLAlchemy event): the procedure page of the real catalogue's richest procedure, one query for
the procedure, one per kind of part it shows (agencies joined to their links), one for its
related procedures and the site settings once; a page of search results the same few queries
for 5 results or 50."""

from __future__ import annotations

import threading

from sqlalchemy import event, func, select

from services.catalogue import queries
from services.db import db
from services.models import DossierItem, Procedure, Status
from services.search import searchlog

# The procedure, its kinds of parts (FULL_PROCEDURE, the agencies joined to their links), the
# related procedures and the settings.
BOUND = 1 + len(queries.FULL_PROCEDURE) + 1 + 1


def _statements(app, path: str) -> tuple[int, list[str]]:
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
    return response.status_code, seen


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
    status, statements = _statements(portal_app, f"/thu-tuc/{code}")
    assert status == 200
    assert len(statements) <= BOUND, "\n".join(s[:120] for s in statements)
    settings = [s for s in statements if "FROM site_settings" in s]
    assert len(settings) == 1


def test_a_page_of_search_results_takes_the_same_few_queries_for_any_size(demo_app):
    demo_app.config["SEARCH_BACKGROUND"] = True  # the search log written as in a server
    assert _statements(demo_app, "/api/v1/procedures?q=khai+sinh")[0] == 200  # facet names read
    counts = []
    for per_page in (5, 50):
        status, statements = _statements(
            demo_app, f"/api/v1/procedures?q=giay+phep&per_page={per_page}"
        )
        assert status == 200
        counts.append(len(statements))
        assert counts[-1] <= 5, "\n".join(s[:120] for s in statements)
    # The procedures, their lĩnh vực, their levels, their agency links with the agencies, and
    # the settings (the links' base address).
    assert counts[0] == counts[1]
    assert searchlog.writer(demo_app).flush()
