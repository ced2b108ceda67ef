"""Builders the tests share: apps on their own instance folder, complete procedure records, the
staff accounts, and submitting a page's form as a browser would. Fixtures (tests/conftest.py)
are built from these; tests import them from here, never from conftest."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import create_engine, make_url, text
from webtest import TestResponse
from werkzeug.datastructures import MultiDict

from app import create_app
from services.db import create_schema, db

# TTHC_TEST_DATABASE_URL runs the suite on another server (PostgreSQL in CI): each app then
# gets a database of its own, created empty on that server, instead of a fresh SQLite file.
TEST_DATABASE_URL = os.environ.get("TTHC_TEST_DATABASE_URL")
# One content cache of passage vectors for every app of the suite (and the next run): each
# test's catalogue is embedded once, not once per instance folder.
VECTOR_CACHE = Path(__file__).resolve().parent.parent / "instance" / "test-vectors.sqlite3"
_databases = count(1)
# The templates compiled once for every app of a test process (by their source's checksum)
# rather than once per app.
_TEMPLATE_DIR = tempfile.TemporaryDirectory(prefix="tthc-test-templates-")
_COMPILED_TEMPLATES = FileSystemBytecodeCache(_TEMPLATE_DIR.name)


def _database_url(instance: Path, like: str | None = None) -> str:
    """A new database for an app: a SQLite file in its instance folder, or one on the test
    server, empty or (`like`, the URL of another) a copy of another database there."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{instance / 'tthc.sqlite3'}"
    server = make_url(TEST_DATABASE_URL)
    name = f"{server.database}_{os.getpid()}_{next(_databases)}"
    template = f' TEMPLATE "{make_url(like).database}"' if like else ""
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"{template}'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def empty_app(instance: Path) -> Flask:
    """An app on a new, empty database with the schema."""
    application = make_app(instance)
    with application.app_context():
        create_schema()
    return application


# The database each prepared instance folder (prepare()) was loaded into.
_prepared: dict[Path, str] = {}


def prepare(instance: Path, load: Callable[[Flask], None]) -> Path:
    """An instance folder with a new database, loaded by `load`, to be copied by copy_app."""
    application = empty_app(instance)
    load(application)
    _prepared[instance] = application.config["SQLALCHEMY_DATABASE_URI"]
    close_app(application)
    return instance


def copy_app(prepared: Path, instance: Path) -> Flask:
    """An app on a private copy of a prepared instance folder and of its database (with the
    folder on SQLite; on a database server, from the prepared one as a template)."""
    shutil.copytree(prepared, instance)
    if not TEST_DATABASE_URL:
        return make_app(instance)
    return make_app(instance, SQLALCHEMY_DATABASE_URI=_database_url(instance, _prepared[prepared]))


def make_app(instance: Path, **config: Any) -> Flask:
    if "SQLALCHEMY_DATABASE_URI" not in config:
        config["SQLALCHEMY_DATABASE_URI"] = _database_url(instance)
    application = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "test",
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "UPLOAD_DIR": str(instance / "uploads"),
            # Index writes happen inline, so a test sees its change in the index at once.
            "SEARCH_BACKGROUND": False,
            # Opening the index checks what a first search reads, as a server does at start;
            # the tests of damage found at start read the whole index (SEARCH_THOROUGH_START).
            "SEARCH_THOROUGH_START": False,
            "SEARCH_VECTOR_CACHE": str(VECTOR_CACHE),
            **config,
        }
    )
    application.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    return application


def close_app(application: Flask) -> None:
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def sqlite_app(instance: Path) -> Flask:
    # The full import is measured and copied as a SQLite file, whatever the test database.
    return make_app(instance, SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'tthc.sqlite3'}")


_numbers = count(1)


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


STAFF_PASSWORD = "mat-khau-thu-nghiem"
# Who logs in as each role of the route × role matrix: agencies phong-a (with its child
# to-a1) and phong-b; the published procedure 1.000001 and the draft 1.000002 belong to phong-a.
STAFF_ACCOUNTS = {
    "editor": ("editor", ["phong-a"]),
    "other_editor": ("editor", ["phong-b"]),
    "publisher": ("publisher", ["phong-a"]),
    "admin": ("admin", []),
}


# A browser never submits what is inside <template> (the editor's blank rows); WebTest's parser
# would, so those elements are dropped before parsing.
_TEMPLATES = re.compile(r"<template\b.*?</template>", re.DOTALL | re.IGNORECASE)


def read_forms(html: str) -> list[dict[str, Any]]:
    """The forms of a page: action, id and the (name, value) pairs a browser would send, as
    WebTest reads them from the real HTML."""
    page = TestResponse(body=_TEMPLATES.sub("", html).encode(), content_type="text/html")
    page.charset = "utf-8"
    return [
        {"action": form.action, "id": form.id, "fields": form.submit_fields()}
        for _index, form in sorted((k, f) for k, f in page.forms.items() if isinstance(k, int))
    ]


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


def free_port() -> int:
    """A TCP port free on the loopback interface, for a server process a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
