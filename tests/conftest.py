"""Fixtures: an app per test on its own instance folder, the client and CLI runner, factory
fixtures for agencies and procedures, and the demo catalogue loaded once and copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app import create_app
from services import catalogue, records, setup
from services.models import Agency, Procedure, db


def _make_app(instance: Path, **config: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'tthc.sqlite3'}",
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "UPLOAD_DIR": str(instance / "uploads"),
            # Index writes happen inline, so a test sees its change in the index at once.
            "SEARCH_BACKGROUND": False,
            **config,
        }
    )


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database in a fresh instance folder."""
    application = _make_app(tmp_path / "instance")
    with application.app_context():
        setup.create_schema()
    return application


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder with the demo catalogue loaded, built once per test session."""
    instance = tmp_path_factory.mktemp("demo") / "instance"
    application = _make_app(instance)
    with application.app_context():
        setup.create_schema()
        setup.load_demo()
        db.session.remove()
        db.engine.dispose()
    return instance


@pytest.fixture
def demo_app(demo_instance: Path, tmp_path: Path) -> Flask:
    """An app on a private copy of the demo catalogue."""
    instance = tmp_path / "instance"
    shutil.copytree(demo_instance, instance)
    return _make_app(instance)


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
