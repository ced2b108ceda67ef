"""History starts where the procedure started: the state a seeded or imported procedure had
before its first staff edit is a revision (by no one, dated when it was written), so the first
change reads as a diff and can be undone; an import that overwrites after staff edits is a
revision too. Through the staff pages, on the demo catalogue and on real procedures."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from services import accounts
from services.catalogue import convert, queries, transfer
from services.db import db
from services.models import Procedure, ProcedureRevision
from tests.helpers import STAFF_PASSWORD, submit

# Keys that a restore legitimately sets anew.
STAMPS = ("created_at", "updated_at")


def _publisher(app: Flask) -> FlaskClient:
    """A publisher for every agency (an admin account), logged in through the login form."""
    with app.app_context():
        accounts.create_user(accounts.Account("nguoi-sua", "admin", []), STAFF_PASSWORD)
    client = app.test_client()
    response = submit(client, client.get("/staff/login"), username="nguoi-sua",
                      password=STAFF_PASSWORD)  # fmt: skip
    assert response.status_code == 302, response.text
    return client


def _record(app: Flask, code: str) -> dict:
    with app.app_context():
        record = convert.procedure_record(queries.get_procedure(code, public=False))
    return {k: v for k, v in record.items() if k not in STAMPS}


def _revisions(app: Flask, code: str) -> list[tuple[str, int | None]]:
    """The actions of a procedure's revisions in order, with who made each."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(ProcedureRevision.action, ProcedureRevision.user_id)
                .join(Procedure)
                .where(Procedure.code == code)
                .order_by(ProcedureRevision.number)
            )
        ]


def _actions(app: Flask, code: str) -> list[str]:
    return [action for action, _user in _revisions(app, code)]


def _history_rows(page) -> list[str]:
    """The history table's rows as text, newest first."""
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def _first_edit_and_undo(app: Flask, staff: FlaskClient, code: str) -> None:
    before = _record(app, code)
    base = f"/staff/procedures/{code}"
    assert staff.get(f"{base}/history").status_code == 200
    assert _revisions(app, code) == []  # reading the history writes nothing

    page = staff.get(f"{base}/edit")
    assert submit(staff, page, "", name="Tên sửa lần đầu").status_code == 302
    assert _revisions(app, code)[0] == ("initial", None)  # by no one: the import or the seed
    assert _actions(app, code) == ["initial", "saved"]

    history = staff.get(f"{base}/history")
    newest, oldest = _history_rows(history)[1:3]
    assert "Lưu" in newest
    assert "nguoi-sua" in newest
    assert "Dữ liệu ban đầu" in oldest
    assert "hệ thống" in oldest
    assert "nhập từ tệp hoặc danh mục mẫu" in oldest

    diff = staff.get(f"{base}/diff?a=1&b=2")
    assert diff.status_code == 200
    assert before["name"] in diff.text
    assert "Tên sửa lần đầu" in diff.text
    assert diff.text.count('class="old"') == 1  # the name, and nothing else, changed

    response = submit(staff, history, f"{base}/history/1/restore", publish="y")
    assert response.status_code == 302
    assert "Đã khôi phục phiên bản số 1." in staff.get(response.location).text
    after = _record(app, code)
    assert after == {**before, "status": after["status"]}
    if before["status"] == "published":
        assert before["name"] in app.test_client().get(f"/thu-tuc/{code}").text


def test_the_first_edit_of_a_seeded_procedure_can_be_reviewed_and_undone(demo_app):
    staff = _publisher(demo_app)
    with demo_app.app_context():
        codes = db.session.execute(select(Procedure.code).order_by(Procedure.code)).scalars()
        code = next(iter(codes))
    _first_edit_and_undo(demo_app, staff, code)


def test_the_first_edit_of_imported_procedures_can_be_reviewed_and_undone(portal_app):
    staff = _publisher(portal_app)
    with portal_app.app_context():
        codes = list(db.session.execute(select(Procedure.code).order_by(Procedure.code)).scalars())
    for code in codes[:: len(codes) // 3][:3]:  # three spread over the 2,642
        _first_edit_and_undo(portal_app, staff, code)


def test_an_import_over_staff_edits_is_a_revision_of_its_own(demo_app, tmp_path: Path):
    staff = _publisher(demo_app)
    with demo_app.app_context():
        code = db.session.execute(select(Procedure.code).order_by(Procedure.code)).scalar()
    base = f"/staff/procedures/{code}"
    submit(staff, staff.get(f"{base}/edit"), "", name="Tên do cán bộ sửa")
    submit(staff, staff.get(base), f"{base}/publish")

    with demo_app.app_context():
        document = transfer.export_catalogue()
        procedure = queries.get_procedure(code)
        newer = procedure.local_edit_at + timedelta(days=1)
    (item,) = [p for p in document["procedures"] if p["code"] == code]
    item.update(name="Tên từ tệp nhập", updated_at=newer.isoformat() + "Z")
    source = tmp_path / "cap-nhat.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = demo_app.test_cli_runner().invoke(args=["import", str(source)])
    assert result.exit_code == 0, result.output
    assert "cập nhật 1" in result.output
    assert _actions(demo_app, code) == ["initial", "saved", "published"]

    submit(staff, staff.get(f"{base}/edit"), "", description="Mô tả do cán bộ thêm")
    actions = _actions(demo_app, code)
    assert actions == ["initial", "saved", "published", "imported", "saved"]
    imported = staff.get(f"{base}/diff?a=3&b=4").text
    assert "Tên do cán bộ sửa" in imported
    assert "Tên từ tệp nhập" in imported
    own = staff.get(f"{base}/diff?a=4&b=5").text  # the staff change, without the import's
    assert "Mô tả do cán bộ thêm" in own
    assert "Tên từ tệp nhập" not in own
    assert "Nhập từ tệp" in staff.get(f"{base}/history").text


def test_later_edits_add_no_starting_point(demo_app):
    staff = _publisher(demo_app)
    with demo_app.app_context():
        code = db.session.execute(select(Procedure.code).order_by(Procedure.code)).scalar()
    base = f"/staff/procedures/{code}"
    for name in ("Tên một", "Tên hai"):
        submit(staff, staff.get(f"{base}/edit"), "", name=name)
    submit(staff, staff.get(base), f"{base}/publish")
    submit(staff, staff.get(f"{base}/edit"), "", name="Tên ba")
    submit(staff, staff.get(base), f"{base}/discard")
    actions = _actions(demo_app, code)
    assert actions == ["initial", "saved", "saved", "published", "saved", "discarded"]
