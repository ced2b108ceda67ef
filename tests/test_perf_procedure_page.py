"""The procedure page reads the database a bounded number of times, whatever the procedure
holds: one query for the procedure, one per kind of part it shows, one for its related
procedures, the site settings once (counted with a SQLAlchemy event on the real catalogue)."""

from __future__ import annotations

from sqlalchemy import event, func, select

from services.catalogue import queries
from services.db import db
from services.models import DossierItem, Procedure, Status

# The procedure, its 11 kinds of parts (FULL_PROCEDURE; agencies through their links), the
# related procedures' names and the settings.
BOUND = 1 + len(queries.FULL_PROCEDURE) + 1 + 1 + 1


def _statements(app, path: str) -> tuple[int, list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
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
