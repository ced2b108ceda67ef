"""The edit-conflict guard end to end, through the staff pages with two logged-in sessions: on
the demo catalogue and on real procedures whose legal bases carry dates (and other values that
are not plain JSON), the second of two concurrent saves is refused with the merge view (409),
the typed values are shown back, and nothing either editor wrote is lost."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from services import accounts
from services.db import db
from services.editorial.diff import diff_records
from services.models import LegalBasis, Procedure, ProcedureDraft, ProcedureRevision
from tests.helpers import STAFF_PASSWORD, read_forms, submit


def _log_in(app: Flask, username: str) -> FlaskClient:
    """An admin account made through the service, logged in through the login form."""
    with app.app_context():
        accounts.create_user(accounts.Account(username, "admin", []), STAFF_PASSWORD)
    client = app.test_client()
    response = submit(client, client.get("/staff/login"), username=username,
                      password=STAFF_PASSWORD)  # fmt: skip
    assert response.status_code == 302, response.text
    return client


def _editor_form(page) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in next(f for f in read_forms(page.text) if f["action"] == "")["fields"]:
        fields.setdefault(name, []).append(value)
    return fields


def _dated_codes(app: Flask, limit: int) -> list[str]:
    """Codes of procedures whose first legal basis has a date of issue."""
    with app.app_context():
        return list(
            db.session.execute(
                select(Procedure.code)
                .join(LegalBasis, LegalBasis.procedure_id == Procedure.id)
                .where(LegalBasis.position == 0, LegalBasis.issued_date.is_not(None))
                .order_by(Procedure.code)
                .limit(limit)
            ).scalars()
        )


def _stored_record(app: Flask, code: str) -> dict:
    """The working copy as stored: the draft of a published procedure, else the last revision."""
    with app.app_context():
        procedure = db.session.execute(select(Procedure).where(Procedure.code == code)).scalar_one()
        draft = db.session.execute(
            select(ProcedureDraft).where(ProcedureDraft.procedure_id == procedure.id)
        ).scalar_one_or_none()
        if draft is not None:
            return draft.record
        return db.session.execute(
            select(ProcedureRevision.record)
            .where(ProcedureRevision.procedure_id == procedure.id)
            .order_by(ProcedureRevision.number.desc())
        ).scalars().first()  # fmt: skip


def _conflict_round(app: Flask, first: FlaskClient, second: FlaskClient, code: str) -> None:
    edit = f"/staff/procedures/{code}/edit"
    page_first, page_second = first.get(edit), second.get(edit)
    assert page_first.status_code == page_second.status_code == 200
    assert _editor_form(page_second)["legal_bases-0-issued_date"] != [""]  # dated, as in the bug
    saved = submit(first, page_first, "", name="Tên của người thứ nhất",
                   legal_bases__0__title="Trích yếu của người thứ nhất")  # fmt: skip
    assert saved.status_code == 302, saved.text

    mine = {
        "name": "Tên của người thứ hai",
        "legal_bases-0-title": "Trích yếu của người thứ hai",
        "legal_bases-0-issued_date": "2021-03-04",
        "steps-0-text": "Bước một của người thứ hai",
    }
    response = submit(second, page_second, "", **{k.replace("-", "__"): v for k, v in mine.items()})
    assert response.status_code == 409, response.text[:2000]
    assert "Xung đột khi lưu" in response.text
    merge = re.search(r'<section class="[^"]*conflict.*?</section>', response.text, re.S)
    assert "Tên của người thứ nhất" in merge.group(0)  # the stored version, in the merge table
    rows = re.findall(r'<th scope="row">([^<·]+)', merge.group(0))
    assert {row.strip() for row in rows} == {"Tên", "Trình tự thực hiện", "Căn cứ pháp lý"}
    shown = _editor_form(response)
    for key, value in mine.items():  # what they typed is in the form, ready to save again
        assert shown[key] == [value], key
    stored = _stored_record(app, code)
    assert stored["name"] == "Tên của người thứ nhất"
    assert stored["legal_bases"][0]["title"] == "Trích yếu của người thứ nhất"

    merged = submit(second, response, "", name="Tên đã gộp")
    assert merged.status_code == 302, merged.text[:2000]
    stored = _stored_record(app, code)
    assert stored["name"] == "Tên đã gộp"
    assert stored["legal_bases"][0]["title"] == "Trích yếu của người thứ hai"
    assert stored["legal_bases"][0]["issued_date"] == "2021-03-04"
    assert stored["steps"][0] == "Bước một của người thứ hai"


def test_the_guard_shows_the_merge_view_on_the_demo_catalogue(demo_app):
    codes = _dated_codes(demo_app, 2)
    assert codes, "the demo catalogue has dated legal bases"
    first, second = _log_in(demo_app, "nguoi-mot"), _log_in(demo_app, "nguoi-hai")
    for code in codes:
        _conflict_round(demo_app, first, second, code)


def test_the_guard_shows_the_merge_view_on_real_procedures(portal_app):
    codes = _dated_codes(portal_app, 3000)
    assert len(codes) > 100
    first, second = _log_in(portal_app, "nguoi-mot"), _log_in(portal_app, "nguoi-hai")
    for code in codes[:: len(codes) // 4][:4]:  # four procedures spread over the catalogue
        _conflict_round(portal_app, first, second, code)


def test_diff_compares_values_that_are_not_plain_json():
    old = {
        "decision_date": "2024-05-06",
        "legal_bases": [{"number": "1", "issued_date": "2020-01-02"}],
        "channels": [{"fee_amount": 50000}],
    }
    new = {
        "decision_date": date(2024, 5, 6),  # the same day, as a form gives it
        "legal_bases": [
            {"number": "1", "issued_date": date(2020, 1, 2)},
            {"number": "2", "issued_date": datetime(2021, 2, 3, 4, 5, 6)},
        ],
        "channels": [{"fee_amount": Decimal("60000")}],
    }
    changes = {c.key: c for c in diff_records(old, new)}
    assert set(changes) == {"legal_bases", "channels"}
    assert [(i.kind, i.position) for i in changes["legal_bases"].items] == [("added", 2)]
    assert changes["channels"].items[0].keys == ["fee_amount"]
    assert diff_records(old, {**old, "decision_date": date(2024, 5, 7)})[0].key == "decision_date"
