"""Faults with real processes: a writer killed with SIGKILL in the middle of staff saves, of
publishing and of `flask import`; then nothing it had committed is lost, the portal started
again serves, and the search index equals the database (`flask search-check` exits 0). And an
uploads folder that is damaged (replaced by a file, a stored file gone or garbled) or
read-only gives a clear message, never a 500; a database connection lost once a page is made
does not spoil that page.

The index's own faults (damaged or read-only index, killed reindex) are in
tests/test_search_faults.py.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from services import accounts
from services.catalogue import queries
from services.db import db
from services.editorial import history, working_copy
from services.models import Attachment, Procedure, User
from tests.helpers import (
    STAFF_PASSWORD,
    VECTOR_CACHE,
    close_app,
    free_port,
    sqlite_app,
    submit,
)

ROOT = Path(__file__).resolve().parent.parent
CODE = "1.001612"  # a demo procedure with every kind of field

# Saves (and, with "publish", publishes) one procedure in a loop through the staff use cases,
# printing each name once its transaction has committed: the lines are what was acknowledged.
WRITER = """
import itertools, sys
from app import create_app
from services.db import db
from services.editorial import history, working_copy
from services.editorial import workflow, working_copy
from services.models import User
app = create_app()
code, publish = sys.argv[1], sys.argv[2] == "publish"
with app.app_context():
    user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
    for n in itertools.count(1):
        copy = working_copy.get_working_copy(code, user)
        name = f"Thủ tục ghi thử lần {n}"
        workflow.save_procedure(code, {**copy.record, "name": name}, copy.token, user)
        if publish:
            workflow.publish(code, working_copy.get_working_copy(code, user).token, user)
        print(name, flush=True)
"""


def _env(instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TTHC_INSTANCE": str(instance),
        "TTHC_SECRET_KEY": "test",
        "TTHC_SEARCH_VECTOR_CACHE": str(VECTOR_CACHE),
    }


@pytest.fixture
def instance(demo_instance: Path, tmp_path: Path) -> Path:
    """A copy of the demo instance (SQLite, as the processes use it) with an admin account."""
    folder = tmp_path / "instance"
    shutil.copytree(demo_instance, folder)
    app = sqlite_app(folder)
    with app.app_context():
        accounts.create_user(accounts.Account("admin", "admin", []), STAFF_PASSWORD)
    close_app(app)
    return folder


def _kill_after(process: subprocess.Popen, lines: int) -> list[str]:
    """SIGKILL `process` at a random moment after it printed `lines` lines; what it printed."""
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(process.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while len(printed) < lines:
        assert process.poll() is None, "the writer stopped on its own"
        assert time.monotonic() < deadline, f"the writer printed {len(printed)} lines in 120 s"
        time.sleep(0.02)
    time.sleep(random.uniform(0, 0.5))
    assert process.poll() is None, "the writer ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    reader.join(timeout=5)
    return [line.strip() for line in printed]


def _start_writer(instance: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, CODE, mode],
        cwd=ROOT,
        env=_env(instance),
        stdout=subprocess.PIPE,
        text=True,
    )


@contextmanager
def _portal(instance: Path) -> Iterator[str]:
    """The portal started again on the instance (`flask run` on a free loopback port)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
        cwd=ROOT,
        env=_env(instance),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the portal did not start in 120 s"
                time.sleep(0.3)
        yield base
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _search_check(instance: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "flask", "--app", "app", "search-check"]
    return subprocess.run(
        command, cwd=ROOT, env=_env(instance), capture_output=True, text=True, timeout=300
    )


def _working_name(instance: Path) -> tuple[str, int]:
    """The procedure's name in its working copy, and how many revisions it has."""
    app = sqlite_app(instance)
    with app.app_context():
        admin = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        name = working_copy.get_working_copy(CODE, admin).record["name"]
        revisions = len(history.revisions(CODE, admin)[1])
    close_app(app)
    return name, revisions


def _published_name(instance: Path) -> str:
    app = sqlite_app(instance)
    with app.app_context():
        name = queries.get_procedure(CODE, public=True).name
    close_app(app)
    return name


def _after_restart(instance: Path) -> str:
    """Start the portal again: it must serve the home page and the procedure, search must
    find the procedure by its code, and then the index must equal the database."""
    with _portal(instance) as base:
        status, _home = _get(base + "/")
        assert status == 200
        status, page = _get(f"{base}/thu-tuc/{CODE}")
        assert status == 200
        status, found = _get(f"{base}/api/v1/procedures?q={CODE}")
        assert status == 200
        assert CODE in [r["code"] for r in json.loads(found)["results"]]
    check = _search_check(instance)
    assert check.returncode == 0, check.stdout + check.stderr
    return page


def _acknowledged(printed: list[str], stored: str) -> None:
    """The stored name is the last acknowledged one, or the one after (committed, then
    killed before it was printed): nothing acknowledged is lost."""
    last = int(printed[-1].rsplit(" ", 1)[1])
    assert stored in (f"Thủ tục ghi thử lần {last}", f"Thủ tục ghi thử lần {last + 1}")


def test_saves_killed_mid_way_lose_nothing_committed(instance):
    printed = _kill_after(_start_writer(instance, "save"), 5)
    name, revisions = _working_name(instance)
    _acknowledged(printed, name)
    assert revisions >= len(printed)
    _after_restart(instance)


def test_publishing_killed_mid_way_loses_nothing_committed(instance):
    printed = _kill_after(_start_writer(instance, "publish"), 3)
    published = _published_name(instance)
    _acknowledged(printed, published)
    page = _after_restart(instance)
    assert published in page


def _big_catalogue(path: Path, copies: int) -> None:
    """The demo catalogue with its procedures repeated under new codes, big enough that its
    import takes seconds."""
    catalogue = json.loads((ROOT / "data" / "demo-catalogue.json").read_text())
    originals = catalogue["procedures"]
    catalogue["procedures"] = [
        {**procedure, "code": f"8.{n:06d}", "name": f"{procedure['name']} (bản {n})"}
        for n, procedure in enumerate(originals * copies)
    ]
    path.write_text(json.dumps(catalogue, ensure_ascii=False))


def test_an_import_killed_mid_way_leaves_what_was_committed(instance, tmp_path):
    printed = _kill_after(_start_writer(instance, "publish"), 1)  # committed before the import
    before = _published_name(instance)
    _acknowledged(printed, before)
    big = tmp_path / "big.json"
    _big_catalogue(big, 40)
    command = [sys.executable, "-m", "flask", "--app", "app", "import", str(big)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=_env(instance), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wal = instance / "tthc.sqlite3-wal"
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 2_000_000:
            break
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _published_name(instance) == before
    app = sqlite_app(instance)
    with app.app_context():
        assert (
            db.session.execute(db.select(Procedure.id).filter_by(code="8.000000")).first() is None
        )
    close_app(app)
    _after_restart(instance)


# --- the uploads folder -------------------------------------------------------------------------

P = "/staff/procedures/1.000001"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(client, data: bytes = PDF, filename: str = "mau.pdf"):
    page = client.get(f"{P}/edit")
    files = {"dossier-0-template_upload": (io.BytesIO(data), filename)}
    return submit(client, page, "", files=files)


def _stored(staff_app) -> str:
    """The stored name of the one uploaded form template."""
    with staff_app.app_context():
        return db.session.execute(db.select(Attachment.stored_name)).scalar_one()


def test_an_upload_into_a_folder_replaced_by_a_file_is_refused_clearly(staff_app, login_as):
    folder = Path(staff_app.config["UPLOAD_DIR"])
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    response = _upload(login_as("editor"))
    assert response.status_code in (400, 503), response.status_code
    assert "không lưu được tệp" in response.text.lower()
    assert login_as("anonymous").get("/thu-tuc/1.000001").status_code == 200


def test_an_upload_into_a_read_only_folder_is_refused_clearly(staff_app, login_as, tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    # chmod does not stop root: then a folder on a read-only file system (sysfs).
    staff_app.config["UPLOAD_DIR"] = "/sys/kernel" if os.geteuid() == 0 else str(folder)
    response = _upload(login_as("editor"))
    assert response.status_code in (400, 503), response.status_code
    assert "không lưu được tệp" in response.text.lower()


def test_the_portal_starts_with_its_uploads_folder_replaced_by_a_file(instance):
    shutil.rmtree(instance / "uploads")
    (instance / "uploads").write_text("not a folder")
    with _portal(instance) as base:
        assert _get(base + "/")[0] == 200
        assert _get(f"{base}/thu-tuc/{CODE}")[0] == 200


def test_a_stored_upload_gone_or_garbled(staff_app, login_as):
    assert _upload(login_as("editor")).status_code == 302
    name = _stored(staff_app)
    anonymous = login_as("anonymous")
    path = Path(staff_app.config["UPLOAD_DIR"]) / name
    path.write_bytes(b"\x00garbled")
    response = anonymous.get(f"/tep-mau/{name}")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    path.unlink()
    response = anonymous.get(f"/tep-mau/{name}")
    assert response.status_code == 404
    assert "Không có tệp này" in response.text
    assert anonymous.get("/thu-tuc/1.000001").status_code == 200
    assert login_as("editor").get(f"{P}/edit").status_code == 200


def test_a_connection_lost_once_the_page_is_made_does_not_spoil_it(demo_app, monkeypatch):
    """The database server went away between the page being made and the request's end (as in
    a restart): closing the request's session, its ROLLBACK fails. The visitor still gets the
    page, and the next request works on a fresh connection."""
    with demo_app.app_context():
        code = db.session.execute(select(Procedure.code).limit(1)).scalar_one()
        dialect = db.engine.dialect

    def lost(_connection) -> None:
        raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")

    client = demo_app.test_client()
    monkeypatch.setattr(dialect, "do_rollback", lost)
    page = client.get(f"/thu-tuc/{code}")
    assert page.status_code == 200
    assert code in page.text
    monkeypatch.undo()
    again = client.get(f"/thu-tuc/{code}")
    assert again.status_code == 200
    assert code in again.text
