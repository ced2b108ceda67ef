"""Stale entries through the staff pages: the list per agency, "checked, still correct",
publication as a review, the configured period, legal documents marked as replaced, and the
migration's starting point for existing procedures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import flask_migrate
import sqlalchemy as sa

from services.catalogue import records, store
from services.db import db, utcnow
from services.models import Procedure
from tests.helpers import close_app, make_app, procedure_raw, submit
from tests.test_review_access import make_stale

P = "/staff/procedures/1.000001"


def _reviewed(app, code: str) -> datetime | None:
    with app.app_context():
        return db.session.execute(
            db.select(Procedure.last_reviewed_at).filter_by(code=code)
        ).scalar_one()


def test_checked_takes_a_procedure_off_the_list_without_breaking_an_open_edit(staff_app, login_as):
    with staff_app.app_context():
        make_stale("1.000001")
    editor = login_as("editor")
    open_edit = editor.get(f"{P}/edit")  # someone has the editor open meanwhile
    page = editor.get("/staff/stale")
    assert "1.000001" in page.text
    assert "Quá 365 ngày chưa rà soát" in page.text
    response = submit(editor, page, f"{P}/checked")
    assert response.status_code == 302
    after = editor.get("/staff/stale").text
    assert "Đã ghi nhận: 1.000001 đã được rà soát, vẫn đúng." in after
    assert "Không có thủ tục nào cần rà soát." in after
    assert _reviewed(staff_app, "1.000001") >= utcnow() - timedelta(minutes=1)
    saved = submit(editor, open_edit, "", name="Tên sửa sau khi rà soát")
    assert saved.status_code == 302  # no edit conflict: the check is not an edit


def test_a_publication_counts_as_a_review(staff_app, login_as):
    with staff_app.app_context():
        make_stale("1.000001")
    editor, publisher = login_as("editor"), login_as("publisher")
    submit(editor, editor.get(f"{P}/edit"), "", name="Tên mới", action="submit")
    assert "1.000001" in editor.get("/staff/stale").text  # a pending draft is no review
    submit(publisher, publisher.get(P), f"{P}/publish")
    assert "1.000001" not in editor.get("/staff/stale").text
    assert _reviewed(staff_app, "1.000001") >= utcnow() - timedelta(minutes=1)


def test_the_period_comes_from_the_configuration(staff_app, login_as):
    with staff_app.app_context():
        make_stale("1.000001", days=100)
    editor = login_as("editor")
    assert "1.000001" not in editor.get("/staff/stale").text  # 100 days < 365
    staff_app.config["REVIEW_AFTER_DAYS"] = 90
    page = editor.get("/staff/stale").text
    assert "1.000001" in page
    assert "Quá 90 ngày chưa rà soát" in page


def _cite_elsewhere(app) -> None:
    """A procedure of agency B citing the same law as 1.000001 (60/2014/QH13), and one of
    agency A citing another."""
    with app.app_context():
        for code, agency, number in (("2.000001", "phong-b", "60/2014/qh13"),
                                     ("2.000002", "phong-a", "123/2015/NĐ-CP")):  # fmt: skip
            raw = procedure_raw(
                code=code,
                agencies=[{"role": "implementing", "agency": agency, "name": ""}],
                legal_bases=[{"number": number, "title": "Văn bản"}],
            )
            store.store_procedure(records.normalize_procedure(raw))
        db.session.commit()


def test_a_replaced_legal_document_sends_its_procedures_to_every_agencys_list(staff_app, login_as):
    _cite_elsewhere(staff_app)
    publisher = login_as("publisher")
    page = publisher.get("/staff/legal-documents")
    assert page.status_code == 200
    row = page.text.split("60/2014/QH13", 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Số thủ tục viện dẫn">2</td>' in row  # one spelling, two citing
    for role in ("editor", "other_editor"):
        assert "Không có thủ tục nào cần rà soát." in login_as(role).get("/staff/stale").text
    response = submit(publisher, page, "/staff/legal-documents", number="60/2014/QH13",
                      replaced="y")  # fmt: skip
    assert response.status_code == 302
    assert "Đã được thay thế" in publisher.get("/staff/legal-documents").text
    editor, other = login_as("editor"), login_as("other_editor")
    page_a, page_b = editor.get("/staff/stale").text, other.get("/staff/stale").text
    assert "1.000001" in page_a
    assert "Viện dẫn văn bản đã được thay thế: 60/2014/QH13" in page_a
    assert "2.000002" not in page_a  # cites another document
    assert "2.000001" not in page_a
    assert "2.000001" in page_b
    assert "1.000001" not in page_b
    # Until each is checked: agency A's check leaves agency B's procedure on B's list.
    submit(editor, editor.get("/staff/stale"), f"{P}/checked")
    assert "Không có thủ tục nào cần rà soát." in editor.get("/staff/stale").text
    assert "2.000001" in other.get("/staff/stale").text


def test_an_editor_cannot_mark_documents_and_bad_input_is_explained(staff_app, login_as):
    editor = login_as("editor")
    page = editor.get("/staff/legal-documents")
    assert "Đánh dấu đã được thay thế" not in page.text  # no button for editors
    fields = {"csrf_token": _token(page.text), "number": "60/2014/QH13", "replaced": "y"}
    assert editor.post("/staff/legal-documents", data=fields).status_code == 403
    publisher = login_as("publisher")
    page = publisher.get("/staff/legal-documents")
    token = _token(page.text)
    cases = [
        ({"number": "99/2099/QH99", "replaced": "y"}, 404, "Không thủ tục đang công bố nào"),
        ({"number": "9" * 201, "replaced": "y"}, 400, "Tối đa 200 ký tự."),
        ({"number": "", "replaced": "y"}, 400, "Cần số hiệu của văn bản."),
    ]
    for data, status, message in cases:
        response = publisher.post("/staff/legal-documents", data={"csrf_token": token, **data})
        assert response.status_code == status, data
        assert message in response.text, data


def test_checking_is_refused_for_what_is_not_published_or_not_found(staff_app, login_as):
    editor = login_as("editor")
    page = editor.get("/staff/stale")
    token = _token(page.text)
    response = editor.post("/staff/procedures/1.000002/checked", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Chỉ xác nhận rà soát được thủ tục đang công bố." in response.text
    for code in ("9.999999", "9" * 5000):
        response = editor.post(f"/staff/procedures/{code}/checked", data={"csrf_token": token})
        assert response.status_code == 404
        assert "Không tìm thấy thủ tục" in response.text


def _token(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _insert(connection, table: str, **values):
    """A row written as the older schema takes it: every required column filled."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    filler = {sa.Integer: 1, sa.DateTime: datetime(2020, 1, 1), sa.Date: date(2020, 1, 1),
              sa.JSON: [], sa.Boolean: False}  # fmt: skip
    row = {}
    for column in reflected.columns:
        if column.primary_key or column.nullable:
            continue
        kind = next((v for t, v in filler.items() if isinstance(column.type, t)), "")
        row[column.name] = kind
    row.update(values)
    return connection.execute(reflected.insert().values(**row)).inserted_primary_key[0]


def test_the_migration_starts_from_the_last_publication_or_update(tmp_path):
    """Procedures written before the migration get the time of their newest publication, or
    without one their last update; undoing the migration keeps every row that hangs off them."""
    published_at = datetime(2024, 3, 4, 5, 6, 7)
    updated_at = datetime(2023, 1, 2, 3, 4, 5)
    application = make_app(tmp_path / "instance")
    try:
        with application.app_context():
            flask_migrate.upgrade(revision="b4e8d2a61c07")
            with db.engine.begin() as connection:
                ids = [_insert(connection, "procedure", code=code, updated_at=updated_at)
                       for code in ("3.000001", "3.000002")]  # fmt: skip
                _insert(connection, "procedure_revision", procedure_id=ids[0], number=1,
                        action="published", created_at=published_at)  # fmt: skip
                _insert(connection, "procedure_revision", procedure_id=ids[1], number=1,
                        action="saved", created_at=published_at)  # fmt: skip
            flask_migrate.upgrade()
        assert _reviewed(application, "3.000001") == published_at
        assert _reviewed(application, "3.000002") == updated_at
        with application.app_context():
            flask_migrate.downgrade(revision="-1")
            with db.engine.connect() as connection:
                count = connection.execute(sa.text("SELECT count(*) FROM procedure_revision"))
                assert count.scalar_one() == 2
    finally:
        close_app(application)


def test_admins_see_stale_procedures_of_no_catalogue_agency(staff_app, login_as):
    with staff_app.app_context():
        outside = [{"role": "implementing", "agency": "", "name": "Sở X"}]
        raw = procedure_raw(code="4.000001", agencies=outside)
        store.store_procedure(records.normalize_procedure(raw))
        db.session.commit()
        make_stale("4.000001")
    page = login_as("admin").get("/staff/stale").text
    assert "Chưa có cơ quan thực hiện trong danh mục" in page
    assert "4.000001" in page
    assert "4.000001" not in login_as("editor").get("/staff/stale").text
