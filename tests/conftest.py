"""Fixtures: an app per test on its own instance folder, the client and CLI runner, factory
fixtures for agencies and procedures, the demo catalogue loaded once and copied per test, and
the real national data (../shared/data/tthc-real) with set (a) imported once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from services import accounts
from services.catalogue import queries, records, store, transfer
from services.db import create_schema, db
from services.models import Agency, Procedure
from tests.helpers import (
    STAFF_ACCOUNTS,
    STAFF_PASSWORD,
    TEST_DATABASE_URL,
    close_app,
    copy_app,
    empty_app,
    prepare,
    procedure_raw,
    sqlite_app,
    submit,
)
from tests.tthc_real import data_folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, leave out the tests that need a database server to restart. On another
    database server (the PostgreSQL pass), leave out the tests on the imported real catalogue:
    `portal_import` is a SQLite file by construction, so they would only run again what the
    SQLite pass already ran, at the cost of a second full import."""
    if not TEST_DATABASE_URL:
        server_only = [item for item in items if item.get_closest_marker("database_server")]
        if server_only:
            config.hook.pytest_deselected(items=server_only)
            items[:] = [item for item in items if item not in server_only]
        return
    sqlite_only = [item for item in items if "portal_import" in getattr(item, "fixturenames", ())]
    if sqlite_only:
        config.hook.pytest_deselected(items=sqlite_only)
        items[:] = [item for item in items if item not in sqlite_only]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database in a fresh instance folder."""
    application = empty_app(tmp_path / "instance")
    yield application
    close_app(application)


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder with the demo catalogue loaded, built once per test session."""
    return prepare(tmp_path_factory.mktemp("demo") / "instance", _load_demo)


def _load_demo(application: Flask) -> None:
    with application.app_context():
        transfer.load_demo()


@pytest.fixture
def demo_app(demo_instance: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on a private copy of the demo catalogue."""
    application = copy_app(demo_instance, tmp_path / "instance")
    yield application
    close_app(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo_client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


_agency_numbers = count(1)


@pytest.fixture
def make_agency(app: Flask) -> Callable[..., Agency]:
    """Create and commit an agency; keyword arguments override the record's fields."""

    def make(**fields: Any) -> Agency:
        n = next(_agency_numbers)
        raw = {"slug": f"co-quan-{n}", "name": f"Cơ quan số {n}", "kind": "department"}
        with app.app_context():
            agency, _ = store.store_agency(records.normalize_agency({**raw, **fields}))
            db.session.commit()
            db.session.refresh(agency)
            db.session.expunge(agency)
            return agency

    return make


@pytest.fixture
def make_procedure(app: Flask) -> Callable[..., Procedure]:
    """Create and commit a procedure from `procedure_raw(**fields)`; returns it detached."""

    def make(**fields: Any) -> Procedure:
        with app.app_context():
            procedure, _ = store.store_procedure(
                records.normalize_procedure(procedure_raw(**fields))
            )
            db.session.commit()
            code = procedure.code
            db.session.expunge_all()
            return queries.get_procedure(code, public=False)

    return make


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real published TTHC data, read in place. CI has it; elsewhere the tests that need it
    are skipped when it is missing."""
    folder = data_folder()
    if folder is None:
        if os.environ.get("CI"):
            pytest.fail("The real TTHC data (../shared/data/tthc-real) is missing in CI.")
        pytest.skip("The real TTHC data (../shared/data/tthc-real) is not here.")
    return folder


@pytest.fixture(scope="session")
def portal_pages(real_data: Path) -> Path:
    """Set (a): the portal's 2,642 scraped pages, one JSON per procedure."""
    return real_data / "chatbot_tthc" / "data" / "raw"


@pytest.fixture(scope="session")
def portal_import(tmp_path_factory: pytest.TempPathFactory, portal_pages: Path):
    """An instance with all of set (a) imported through `flask import`, once per session;
    returns the instance folder and the command's output. Copy it before changing it."""
    instance = tmp_path_factory.mktemp("portal") / "instance"
    application = sqlite_app(instance)
    with application.app_context():
        create_schema()
    result = application.test_cli_runner().invoke(args=["import", str(portal_pages)])
    close_app(application)
    assert result.exit_code == 0, result.output
    return instance, result.output


@pytest.fixture
def portal_app(portal_import, tmp_path: Path) -> Iterator[Flask]:
    """An app on a private copy of the SQLite instance with set (a) imported."""
    instance = tmp_path / "instance"
    shutil.copytree(portal_import[0], instance)
    application = sqlite_app(instance)
    yield application
    close_app(application)


# --- the staff area -----------------------------------------------------------------------------


def _implementing(slug: str) -> list[dict[str, Any]]:
    return [{"role": "implementing", "agency": slug, "name": ""}]


def _load_staff(application: Flask) -> None:
    """Two agencies (one with a child), two lĩnh vực, a published and a draft procedure and one
    account per role (password STAFF_PASSWORD), through the services."""
    with application.app_context():
        for raw in (
            {"slug": "phong-a", "name": "Phòng A", "kind": "department"},
            {"slug": "to-a1", "name": "Tổ A1", "kind": "branch", "parent": "phong-a"},
            {"slug": "phong-b", "name": "Phòng B", "kind": "department"},
        ):
            store.store_agency(records.normalize_agency(raw))
        store.store_field(records.normalize_field({"name": "Hộ tịch"}))
        store.store_field(records.normalize_field({"name": "Chứng thực"}))
        for code, status in (("1.000001", "published"), ("1.000002", "draft")):
            raw = procedure_raw(code=code, status=status, agencies=_implementing("phong-a"))
            store.store_procedure(records.normalize_procedure(raw))
        db.session.commit()
        for username, (role, agencies) in STAFF_ACCOUNTS.items():
            account = accounts.Account(username.replace("_", "-"), role, agencies)
            accounts.create_user(account, STAFF_PASSWORD)


@pytest.fixture(scope="session")
def staff_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder with the staff data loaded, built once per test session."""
    return prepare(tmp_path_factory.mktemp("staff") / "instance", _load_staff)


@pytest.fixture
def staff_app(staff_instance: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on a private copy of the staff instance (CSRF protection on, as in production)."""
    application = copy_app(staff_instance, tmp_path / "instance")
    yield application
    close_app(application)


@pytest.fixture
def login_as(staff_app: Flask) -> Callable[[str], FlaskClient]:
    """A test client logged in as one of STAFF_ACCOUNTS ("anonymous": not logged in), through
    the login form."""

    def login(role: str) -> FlaskClient:
        client = staff_app.test_client()
        if role == "anonymous":
            return client
        page = client.get("/staff/login")
        response = submit(
            client,
            page,
            username=role.replace("_", "-"),
            password=STAFF_PASSWORD,
        )
        assert response.status_code == 302, response.text
        return client

    return login
