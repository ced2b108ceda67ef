"""The database server restarted under a running portal: pages in flight answer 503 with a
message (never a 500), the first page after the restart works on a fresh connection, and
nothing committed before is lost. Runs in the PostgreSQL pass only (`.ci/postgres-tests` gives
the command that restarts its throwaway cluster); SQLite has no server to restart."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest
from flask import Flask
from sqlalchemy import select

from services.db import db
from services.models import Procedure

pytestmark = pytest.mark.database_server

RESTART = os.environ.get("TTHC_TEST_PG_RESTART", "")


def _answers_while(application: Flask, path: str, action) -> list:
    """Status codes (or the exception) of the pages asked for while `action` runs."""
    answers: list = []
    done = threading.Event()

    def visit() -> None:
        client = application.test_client()
        while not done.is_set():
            try:
                answers.append(client.get(path).status_code)
            except Exception as error:  # TESTING propagates what would be a 500
                answers.append(repr(error))

    visitor = threading.Thread(target=visit)
    visitor.start()
    try:
        action()
    finally:
        done.set()
        visitor.join(timeout=60)
    return answers


def test_a_restarted_database_server_loses_nothing_and_gives_no_500(demo_app):
    assert RESTART, "the PostgreSQL pass must say how to restart its cluster"
    with demo_app.app_context():
        code, name = db.session.execute(select(Procedure.code, Procedure.name).limit(1)).one()
    path = f"/thu-tuc/{code}"
    client = demo_app.test_client()
    assert client.get(path).status_code == 200  # the pool now holds a connection

    answers = _answers_while(
        demo_app, path, lambda: subprocess.run(RESTART, shell=True, check=True, timeout=60)
    )

    assert answers
    assert set(answers) <= {200, 503}, [a for a in answers if a not in (200, 503)]
    after = client.get(path)
    assert after.status_code == 200
    assert name in after.get_data(as_text=True)
