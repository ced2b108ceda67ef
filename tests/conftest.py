"""Fixtures: an app per test on its own instance folder, the client and CLI runner, factory
fixtures for agencies and procedures, the demo catalogue loaded once and copied per test, and
the real national data (../shared/data/tthc-real) with set (a) imported once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, make_url, text
from werkzeug.datastructures import MultiDict

from app import create_app
from services import accounts
from services.catalogue import queries, records, store, transfer
from services.db import create_schema, db
from services.models import Agency, Procedure
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
            # Index writes happen inline, so a test sees its change in the index at once.
            "SEARCH_BACKGROUND": False,
            **config,
        }
    )


def _empty_app(instance: Path) -> Flask:
    application = _make_app(instance)
    with application.app_context():
        create_schema()
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
        transfer.load_demo()
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
            transfer.load_demo()
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
            agency, _ = store.store_agency(records.normalize_agency({**raw, **fields}))
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
        create_schema()
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


# --- the staff area -----------------------------------------------------------------------------

STAFF_PASSWORD = "mat-khau-thu-nghiem"
# Who logs in as each role of the route × role matrix: agencies phong-a (with its child
# to-a1) and phong-b; the published procedure 1.000001 and the draft 1.000002 belong to phong-a.
STAFF_ACCOUNTS = {
    "editor": ("editor", ["phong-a"]),
    "other_editor": ("editor", ["phong-b"]),
    "publisher": ("publisher", ["phong-a"]),
    "admin": ("admin", []),
}


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
    instance = tmp_path_factory.mktemp("staff") / "instance"
    application = _empty_app(instance)
    _load_staff(application)
    _close(application)
    return instance


@pytest.fixture
def staff_app(staff_instance: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on a private copy of the staff instance (CSRF protection on, as in production)."""
    instance = tmp_path / "instance"
    shutil.copytree(staff_instance, instance)
    if TEST_DATABASE_URL:  # a server database cannot be copied as a file: load it again
        application = _empty_app(instance)
        _load_staff(application)
    else:
        application = _make_app(instance)
    yield application
    _close(application)


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


class _FormReader(HTMLParser):
    """Reads the forms of a page as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._first: str | None = None
        self._chosen = False
        self._template = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if tag == "form":
            self._form = {"action": a.get("action", ""), "id": a.get("id"), "fields": []}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        fields = self._form["fields"]
        if tag == "option" and self._select:
            if "selected" in a:
                fields.append((self._select, a.get("value", "")))
                self._chosen = True
            elif self._first is None:
                self._first = a.get("value", "")
        if "name" not in a:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "file"):
                fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = a["name"]
            fields.append((a["name"], ""))
        elif tag == "select":
            self._select, self._first, self._chosen = a["name"], None, False

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._template -= 1
        elif tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._form is not None and self._select:
            # Nothing selected: a browser sends the first option.
            if not self._chosen and self._first is not None:
                self._form["fields"].append((self._select, self._first))
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            name, value = self._form["fields"][-1]
            text = value + data
            if not value:  # a browser drops the newline right after <textarea>
                text = text.removeprefix("\r").removeprefix("\n")
            self._form["fields"][-1] = (name, text)


def read_forms(html: str) -> list[dict[str, Any]]:
    """The forms of a page: action, id and the (name, value) pairs a browser would send."""
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def submit(
    client: FlaskClient, page, form: int | str = -1, *, files: dict | None = None, **changes: Any
):
    """Submit a form of `page` (a response) as a browser would, after setting `changes`
    (name → value; a list sets several values, None removes the field). `form` is an index
    or the start of the form's action."""
    forms = [
        f for f in read_forms(page.text) if f["action"] != "/staff/logout" or form == f["action"]
    ]
    if isinstance(form, str):
        chosen = next(f for f in forms if f["action"].startswith(form))
    else:
        chosen = forms[form]
    data = MultiDict(chosen["fields"])
    for name, value in changes.items():
        name = name.replace("__", "-")
        if value is None:
            data.poplist(name)
        elif isinstance(value, list):
            data.setlist(name, value)
        else:
            data.setlist(name, [value])
    for name, value in (files or {}).items():
        data.add(name, value)
    query = page.request.query_string.decode()
    action = chosen["action"] or page.request.path + (f"?{query}" if query else "")
    return client.post(action, data=data, content_type="multipart/form-data")
