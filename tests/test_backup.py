"""`flask backup` and `flask restore` as a round trip: a staff instance with accounts, edits
with revisions and an upload, feedback and a search log, backed up while a save loop runs,
restored into a new instance folder, gives the same catalogue export, accounts, revisions,
feedback, search log and files, and a search index that matches. And the bad cases: a damaged
or tampered archive, a missing file, an archive from newer code, a target that is not empty."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import threading
import time
from pathlib import Path

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text

from services import backup, uploads
from services.db import db, schema_problem
from services.editorial import workflow, working_copy
from services.models import (
    Attachment,
    PageFeedback,
    ProcedureDraft,
    ProcedureRevision,
    SearchLog,
    User,
)
from tests.helpers import close_app, make_app, submit
from tests.test_uploads import PDF

P = "/staff/procedures/1.000001"


def _invoke(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _fill(app: Flask, login_as) -> str:
    """Through the site: an edit with an uploaded form, published; a visitor's feedback and
    searches. Returns the uploaded file's stored name."""
    editor, publisher, visitor = login_as("editor"), login_as("publisher"), app.test_client()
    files = {"dossier-0-template_upload": (io.BytesIO(PDF), "mẫu.pdf")}
    page = editor.get(f"{P}/edit")
    assert submit(editor, page, "", files=files, name="Thủ tục sao lưu").status_code == 302
    assert submit(publisher, publisher.get(P), f"{P}/publish").status_code == 302
    submit(visitor, visitor.get("/thu-tuc/1.000001"), "/thu-tuc/1.000001/gop-y", useful="no")
    for query in ("sao lưu", "không có gì như thế"):
        assert visitor.get("/tim-kiem", query_string={"q": query}).status_code == 200
    page = visitor.get("/thu-tuc/1.000001").text
    return page.split('href="/tep-mau/')[1].split('"')[0]


class SaveLoop(threading.Thread):
    """An editor saving the draft of 1.000001 again and again, as the site would meanwhile."""

    def __init__(self, app: Flask):
        super().__init__(daemon=True)
        self.app, self.saves, self.stop, self.error = app, 0, threading.Event(), None

    def run(self) -> None:
        try:
            with self.app.app_context():
                while not self.stop.is_set():
                    editor = db.session.execute(db.select(User).filter_by(username="editor"))
                    editor = editor.scalar_one()
                    copy = working_copy.get_working_copy("1.000001", editor)
                    raw = {**copy.record, "description": f"Lần lưu {self.saves}"}
                    workflow.save_procedure("1.000001", raw, copy.token, editor)
                    self.saves += 1
                    db.session.remove()
        except Exception as error:  # reported by the test, not lost in the thread
            self.error = error

    def wait_for(self, saves: int) -> None:
        deadline = time.monotonic() + 30
        while self.saves < saves and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.saves >= saves, self.error


def _accounts(app: Flask) -> list[tuple]:
    with app.app_context():
        users = db.session.execute(db.select(User).order_by(User.id)).scalars()
        return [
            (u.username, u.password_hash, u.role, u.active, u.session_stamp,
             [a.slug for a in u.agencies])
            for u in users
        ]  # fmt: skip


def _revisions(app: Flask) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(db.select(ProcedureRevision).order_by(ProcedureRevision.id))
        return [(r.procedure_id, r.number, r.action, r.user_id, r.record) for r in rows.scalars()]


def _rows(app: Flask) -> tuple[list, list, dict | None]:
    with app.app_context():
        feedback = db.session.execute(db.select(PageFeedback.procedure_id, PageFeedback.useful))
        log = db.session.execute(
            db.select(SearchLog.query, SearchLog.results).order_by(SearchLog.id)
        )
        draft = db.session.execute(db.select(ProcedureDraft.record)).scalar_one_or_none()
        return [tuple(r) for r in feedback], [tuple(r) for r in log], draft


@pytest.mark.parametrize("initialized", [False, True], ids=["new-folder", "after-init-db"])
def test_round_trip_while_a_save_loop_runs(staff_app, login_as, tmp_path, initialized):
    stored_name = _fill(staff_app, login_as)
    archive = tmp_path / "sao-luu.tar.gz"
    _invoke(staff_app, "export", str(tmp_path / "before.json"))
    loop = SaveLoop(staff_app)
    loop.start()
    try:
        loop.wait_for(1)
        result = _invoke(staff_app, "backup", str(archive))
        loop.wait_for(loop.saves + 2)  # still saving after the backup: it ran alongside
    finally:
        loop.stop.set()
        loop.join()
    assert loop.error is None
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu vào" in result.output

    target = make_app(tmp_path / "restored")
    try:
        if initialized:
            assert _invoke(target, "init-db").exit_code == 0
        result = _invoke(target, "restore", str(archive))
        assert result.exit_code == 0, result.output
        assert "Đã phục hồi" in result.output
        with target.app_context():
            assert schema_problem() is None

        assert _invoke(target, "export", str(tmp_path / "after.json")).exit_code == 0
        before = (tmp_path / "before.json").read_text(encoding="utf-8")
        assert (tmp_path / "after.json").read_text(encoding="utf-8") == before
        assert _accounts(target) == _accounts(staff_app)
        source, restored = _revisions(staff_app), _revisions(target)
        # The snapshot holds the saves committed before it and none half-made.
        assert len(restored) < len(source)
        assert restored == source[: len(restored)]
        feedback, log, draft = _rows(target)
        assert (feedback, log) == _rows(staff_app)[:2]
        assert len(feedback) == 1
        assert len(log) == 2
        assert draft == restored[-1][4]  # the draft is the last save the snapshot holds

        client = target.test_client()
        page = client.get("/tim-kiem", query_string={"q": "sao lưu"}).text
        assert "code=1.000001" in page
        download = client.get(f"/tep-mau/{stored_name}")
        assert download.status_code == 200
        assert download.data == PDF
        check = _invoke(target, "search-check")
        assert check.exit_code == 0, check.output
        assert "khớp với cơ sở dữ liệu" in check.output
        assert _login_works(target)
    finally:
        close_app(target)


def _login_works(app: Flask) -> bool:
    client = app.test_client()
    page = client.get("/staff/login")
    response = submit(client, page, username="admin", password="mat-khau-thu-nghiem")
    return response.status_code == 302


def test_the_manifest_says_what_is_inside(staff_app, tmp_path):
    (Path(staff_app.instance_path) / "config.py").write_text("PER_PAGE = 30\n")
    archive = tmp_path / "a.tar.gz"
    assert _invoke(staff_app, "backup", str(archive)).exit_code == 0
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        manifest = json.loads(opened.extractfile("manifest.json").read())
    assert names[:2] == ["manifest.json", "database.sqlite3"]
    assert "settings/config.py" in names
    assert manifest["format"] == "tthc-backup"
    assert manifest["version"] == 1
    assert manifest["database"] == "sqlite"
    with staff_app.app_context():
        config = staff_app.extensions["migrate"].migrate.get_config()
        assert manifest["schema_revision"] == ScriptDirectory.from_config(config).get_heads()
    assert manifest["counts"]["accounts"] == 4
    assert manifest["counts"]["procedures"] == 2
    assert sorted(manifest["files"]) == sorted(names[1:])
    # The existing archive is never overwritten.
    again = _invoke(staff_app, "backup", str(archive))
    assert again.exit_code == 1
    assert "đã có" in again.output


def test_a_file_whose_save_committed_but_not_yet_moved_is_taken_from_its_part(staff_app, tmp_path):
    folder = Path(staff_app.config["UPLOAD_DIR"])
    moving, lost = "a" * 32 + ".pdf", "b" * 32 + ".pdf"
    (folder / f".{moving}.part").write_bytes(PDF)  # the commit is done; the rename is not yet
    with staff_app.app_context():
        for name in (moving, lost):
            db.session.add(Attachment(stored_name=name, original_name="x.pdf", size=len(PDF),
                                      content_type="application/pdf", sha256="0" * 64))  # fmt: skip
        db.session.commit()
    result = _invoke(staff_app, "backup", str(tmp_path / "a.tar.gz"))
    assert result.exit_code == 0, result.output
    assert f"tên tệp {lost} nhưng thư mục tải lên không có" in result.output
    with tarfile.open(tmp_path / "a.tar.gz") as opened:
        assert opened.extractfile(f"uploads/{moving}").read() == PDF
        manifest = json.loads(opened.extractfile("manifest.json").read())
    assert manifest["missing_uploads"] == [lost]


def test_an_older_archive_is_upgraded_on_restore(tmp_path, monkeypatch):
    # The code before the audit trail wrote no entry for its backup: nor does this one here.
    monkeypatch.setattr(backup.audit, "record", lambda *args, **kwargs: None)
    old = make_app(tmp_path / "old")
    try:
        with old.app_context():
            config = old.extensions["migrate"].migrate.get_config()
            (head,) = ScriptDirectory.from_config(config).get_heads()
            previous = ScriptDirectory.from_config(config).get_revision(head).down_revision
            flask_migrate.upgrade(revision=previous)
            db.session.execute(
                text("INSERT INTO staff_user (username, full_name, email, password_hash, role,"
                     " active, session_stamp, created_at) VALUES ('cu', '', '', 'x', 'admin',"
                     " 1, 's', '2025-01-01 00:00:00')")
            )  # fmt: skip
            db.session.commit()
            manifest = backup.create(tmp_path / "old.tar.gz")
        assert manifest["schema_revision"] == [previous]
    finally:
        close_app(old)
    target = make_app(tmp_path / "new")
    try:
        result = _invoke(target, "restore", str(tmp_path / "old.tar.gz"))
        assert result.exit_code == 0, result.output
        with target.app_context():
            assert schema_problem() is None
            assert db.session.execute(db.select(User.username)).scalars().all() == ["cu"]
    finally:
        close_app(target)


# --- bad cases -----------------------------------------------------------------------------------


def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy `archive` to `out`, letting `change(name, data)` alter each member's bytes."""
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as target:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))


def _newer(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    manifest["schema_revision"] = ["ffffffffffff"]
    return json.dumps(manifest).encode()


def _tampered(name: str, data: bytes) -> bytes:
    return data + b"x" if name.startswith("uploads/") else data


@pytest.fixture(scope="module")
def archive(staff_instance, tmp_path_factory) -> Path:
    """A good backup of the staff instance with one uploaded file, made once for the module."""
    folder = tmp_path_factory.mktemp("archive")
    shutil.copytree(staff_instance, folder / "instance")
    application = make_app(folder / "instance")
    try:
        with application.test_request_context():
            uploads.store_upload(io.BytesIO(PDF), "mẫu.pdf", None)
            db.session.commit()
        assert _invoke(application, "backup", str(folder / "good.tar.gz")).exit_code == 0
    finally:
        close_app(application)
    return folder / "good.tar.gz"


def _flipped(archive: Path, out: Path) -> None:
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    out.write_bytes(bytes(data))


def _without_uploads(archive: Path, out: Path) -> None:
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as target:
        for member in source:
            if not member.name.startswith("uploads/"):
                target.addfile(member, source.extractfile(member))


def _with_stray_path(archive: Path, out: Path) -> None:
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as target:
        for member in source:
            target.addfile(member, source.extractfile(member))
        info = tarfile.TarInfo("../../ngoai.txt")
        info.size = 1
        target.addfile(info, io.BytesIO(b"x"))


BREAKERS = {
    "truncated": lambda a, out: out.write_bytes(a.read_bytes()[: a.stat().st_size // 2]),
    "flipped-bytes": _flipped,
    "not-an-archive": lambda _a, out: out.write_text("không phải tệp nén"),
    "newer-schema": lambda a, out: _rewrite(a, out, _newer),
    "tampered-file": lambda a, out: _rewrite(a, out, _tampered),
    "missing-file": _without_uploads,
    "stray-path": _with_stray_path,
}


def _broken(kind: str, archive: Path, folder: Path) -> Path:
    out = folder / f"{kind}.tar.gz"
    BREAKERS[kind](archive, out)
    return out


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated", "Bản sao lưu bị hỏng hoặc không đọc được"),
        ("flipped-bytes", "Bản sao lưu bị hỏng hoặc không đọc được"),
        ("not-an-archive", "Bản sao lưu bị hỏng hoặc không đọc được"),
        ("tampered-file", "không khớp bản kê"),
        ("missing-file", "thiếu tệp uploads/"),
        ("stray-path", "tệp lạ ../../ngoai.txt"),
        ("newer-schema", "mới hơn mã nguồn này"),
        ("absent", "Không có tệp"),
    ],
)
def test_a_bad_archive_is_refused_in_one_line(archive, tmp_path, kind, message):
    path = tmp_path / "khong-co.tar.gz" if kind == "absent" else _broken(kind, archive, tmp_path)
    target = make_app(tmp_path / "target")
    try:
        result = _invoke(target, "restore", str(path))
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert "Traceback" not in result.output
        assert not (tmp_path / "ngoai.txt").exists()
        assert not any(Path(target.config["UPLOAD_DIR"]).iterdir())
    finally:
        close_app(target)


def test_a_target_that_holds_anything_is_refused(staff_app, archive):
    before = _accounts(staff_app)
    result = _invoke(staff_app, "restore", str(archive))
    assert result.exit_code == 1
    assert result.output.startswith("Nơi phục hồi không trống")
    assert len(result.output.strip().splitlines()) == 1
    assert _accounts(staff_app) == before
