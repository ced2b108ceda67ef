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
from sqlalchemy import create_engine, make_url, text

from app import create_app
from services import catalogue, records, setup
from services.models import Agency, Procedure, db
from tests.tthc_real import data_folder

# TTHC_TEST_DATABASE_URL runs the suite on another server (PostgreSQL in CI): each app then
# gets a database of its own, created empty on that server, instead of a fresh SQLite file.
TEST_DATABASE_URL = os.environ.get("TTHC_TEST_DATABASE_URL")
_databases = count(1)


def _database_url(instance: Path) -> str:
    if not TEST_DATABASE_URL:
        return f"sqlite:///{instance / 'tthc.sqlite3'}"
    server = make_url(TEST_DATABASE_URL)
    name = f"{server.database}_{os.getpid()}_{next(_databases)}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def _make_app(instance: Path, **config: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": _database_url(instance),
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "UPLOAD_DIR": str(instance / "uploads"),
            **config,
        }
    )


def _empty_app(instance: Path) -> Flask:
    application = _make_app(instance)
    with application.app_context():
        setup.create_schema()
    return application


def _close(application: Flask) -> None:
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database in a fresh instance folder."""
    application = _empty_app(tmp_path / "instance")
    yield application
    _close(application)


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder with the demo catalogue loaded, built once per test session."""
    instance = tmp_path_factory.mktemp("demo") / "instance"
    application = _empty_app(instance)
    with application.app_context():
        setup.load_demo()
    _close(application)
    return instance


@pytest.fixture
def demo_app(demo_instance: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on a private copy of the demo catalogue."""
    instance = tmp_path / "instance"
    shutil.copytree(demo_instance, instance)
    if TEST_DATABASE_URL:  # a server database cannot be copied as a file: load it again
        application = _empty_app(instance)
        with application.app_context():
            setup.load_demo()
    else:
        application = _make_app(instance)
    yield application
    _close(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo_client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


_numbers = count(1)


@pytest.fixture
def make_agency(app: Flask) -> Callable[..., Agency]:
    """Create and commit an agency; keyword arguments override the record's fields."""

    def make(**fields: Any) -> Agency:
        n = next(_numbers)
        raw = {"slug": f"co-quan-{n}", "name": f"Cơ quan số {n}", "kind": "department"}
        with app.app_context():
            agency, _ = catalogue.store_agency(records.normalize_agency({**raw, **fields}))
            db.session.commit()
            db.session.refresh(agency)
            db.session.expunge(agency)
            return agency

    return make


def procedure_raw(**fields: Any) -> dict[str, Any]:
    """A complete procedure record (every structured field filled), overridable by keyword."""
    n = next(_numbers)
    raw: dict[str, Any] = {
        "code": f"9.{n:06d}",
        "name": f"Thủ tục thử số {n}",
        "status": "published",
        "decision_number": "123/QĐ-UBND",
        "decision_date": "2024-05-06",
        "levels": ["Cấp huyện"],
        "procedure_type": "TTHC được luật giao quy định chi tiết",
        "fields": ["Hộ tịch"],
        "subjects": ["Công dân Việt Nam"],
        "agencies": [],
        "receiving_address": "Bộ phận một cửa",
        "online_level": "partial",
        "keywords": ["thử"],
        "description": "Mô tả ngắn.",
        "requirements": "Không có.",
        "steps": ["Nộp hồ sơ.", "Nhận kết quả."],
        "channels": [
            {
                "kind": "direct",
                "time_limit_value": 5,
                "time_limit_unit": "working_days",
                "time_limit_text": "05 ngày làm việc",
                "fee_text": "Lệ phí: 50.000 đồng",
                "fee_amount": 50000,
            }
        ],
        "dossier": [{"name": "Tờ khai", "originals": 1, "copies": 0}],
        "results": [{"name": "Giấy chứng nhận", "code": "KQ.1"}],
        "legal_bases": [{"number": "60/2014/QH13", "title": "Luật Hộ tịch"}],
    }
    raw.update(fields)
    return raw


@pytest.fixture
def make_procedure(app: Flask) -> Callable[..., Procedure]:
    """Create and commit a procedure from `procedure_raw(**fields)`; returns it detached."""

    def make(**fields: Any) -> Procedure:
        with app.app_context():
            procedure, _ = catalogue.store_procedure(
                records.normalize_procedure(procedure_raw(**fields))
            )
            db.session.commit()
            code = procedure.code
            db.session.expunge_all()
            return catalogue.get_procedure(code, public=False)

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


def _sqlite_app(instance: Path) -> Flask:
    # The full import is measured and copied as a SQLite file, whatever the test database.
    return _make_app(instance, SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'tthc.sqlite3'}")


@pytest.fixture(scope="session")
def portal_import(tmp_path_factory: pytest.TempPathFactory, portal_pages: Path):
    """An instance with all of set (a) imported through `flask import`, once per session;
    returns the instance folder and the command's output. Copy it before changing it."""
    instance = tmp_path_factory.mktemp("portal") / "instance"
    application = _sqlite_app(instance)
    with application.app_context():
        setup.create_schema()
    result = application.test_cli_runner().invoke(args=["import", str(portal_pages)])
    _close(application)
    assert result.exit_code == 0, result.output
    return instance, result.output


@pytest.fixture
def portal_app(portal_import, tmp_path: Path) -> Iterator[Flask]:
    """An app on a private copy of the SQLite instance with set (a) imported."""
    instance = tmp_path / "instance"
    shutil.copytree(portal_import[0], instance)
    application = _sqlite_app(instance)
    yield application
    _close(application)
