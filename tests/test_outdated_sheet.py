"""A printed sheet that knows it is out of date: its QR code carries the state it was printed
from; scanning it after the procedure changed opens the live page with what changed, in plain
words. End to end: the PDF from the test client, its QR code read back by zbarimg, the change
made through the staff editor as staff make it."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from services import accounts
from services.catalogue import convert, queries, transfer
from services.db import db
from services.editorial import history
from services.models import Procedure, ProcedureRevision
from services.views import templating
from tests.helpers import STAFF_PASSWORD, submit
from tests.test_printing import BASE, _pages, _qr_codes, _settings, ready_booklet

P = "/staff/procedures/1.000001"
NOTICE = "Tờ hướng dẫn này được in từ phiên bản ngày"


def _scan_sheet(client: FlaskClient, code: str, tmp_path) -> str:
    """The path and query the QR code on page 1 of the procedure's PDF opens."""
    response = client.get(f"/thu-tuc/{code}.pdf")
    assert response.status_code == 200
    (url,) = _qr_codes(response.data, 1, tmp_path)
    assert url.startswith(BASE)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _notice(page) -> str:
    """The notice about a scanned sheet, as text (empty when the page has none)."""
    found = re.search(r'<section class="notice[^"]*outdated-sheet".*?</section>', page.text, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split()) if found else ""


def _state_day(app: Flask, code: str = "1.000001") -> str:
    """The day of the procedure's public state, as the portal writes dates (its time zone)."""
    with app.test_request_context():
        return templating.day(queries.get_procedure(code).updated_at)


def _publish(client: FlaskClient, base: str = P) -> None:
    page = client.get(base)
    assert submit(client, page, f"{base}/publish", note="Công bố").status_code == 302


@pytest.fixture
def app(staff_app):
    _settings(staff_app, base_url=BASE)
    return staff_app


def test_a_scanned_old_sheet_says_what_changed_and_the_new_one_is_current(app, login_as, tmp_path):
    public = app.test_client()
    printed_on = _state_day(app)
    scanned = _scan_sheet(public, "1.000001", tmp_path)
    assert re.fullmatch(r"/thu-tuc/1\.000001\?ban-in=\d+", scanned), scanned
    assert _notice(public.get(scanned)) == ""  # nothing changed yet
    assert "bản mới nhất" in public.get(scanned).text
    with app.app_context():  # printing wrote nothing: the state is named before it is recorded
        assert db.session.execute(select(ProcedureRevision)).first() is None

    publisher = login_as("publisher")
    page = publisher.get(f"{P}/edit")
    page = submit(publisher, page, "", action="add:dossier:0")
    page = submit(publisher, page, "", action="remove:dossier:0",
                  dossier__1__name="Giấy xác nhận nơi cư trú")  # fmt: skip
    response = submit(
        publisher,
        page,
        "",
        channels__0__time_limit_value="12",
        channels__0__time_limit_text="12 ngày làm việc",  # the text agrees, or publishing refuses
        channels__0__fee_amount="70000",
        note="Thời hạn, lệ phí và hồ sơ mới",
    )
    assert response.status_code == 302
    assert _notice(public.get(scanned)) == ""  # a draft: the public state is unchanged
    _publish(publisher)

    page = public.get(scanned)
    assert page.status_code == 200
    notice = _notice(page)
    assert f"{NOTICE} {printed_on}; thủ tục đã thay đổi ngày {_state_day(app)}." in notice
    assert "Thời hạn: 5 ngày làm việc → 12 ngày làm việc" in notice
    assert "Phí, lệ phí: 50.000 đồng → 70.000 đồng" in notice
    assert "Hồ sơ cần thêm: Giấy xác nhận nơi cư trú" in notice
    assert "Hồ sơ không còn cần: Tờ khai" in notice
    assert "khác" not in notice  # nothing else changed
    assert 'href="/thu-tuc/1.000001/in"' in page.text
    # at the very top: before the procedure's heading and its summary box
    assert page.text.index("outdated-sheet") < page.text.index("<h1>") < page.text.index("tom-tat")

    current = _scan_sheet(public, "1.000001", tmp_path)
    assert current != scanned
    assert _notice(public.get(current)) == ""
    assert "bản mới nhất" in public.get(current).text


def test_only_other_details_changed(app, login_as, tmp_path):
    public = app.test_client()
    scanned = _scan_sheet(public, "1.000001", tmp_path)
    publisher = login_as("publisher")
    submit(publisher, publisher.get(f"{P}/edit"), "", requirements="Có hộ khẩu tại huyện.")
    _publish(publisher)
    notice = _notice(public.get(scanned))
    assert "Một số nội dung khác đã thay đổi." in notice
    assert "Thời hạn" not in notice
    assert "Hồ sơ" not in notice


def test_an_abolished_procedure_says_so_with_its_replacement(
    app, login_as, make_procedure, tmp_path
):
    public = app.test_client()
    scanned = _scan_sheet(public, "1.000001", tmp_path)
    make_procedure(code="1.000003", name="Thủ tục thay thế",
                   agencies=[{"role": "implementing", "agency": "phong-a"}])  # fmt: skip
    publisher = login_as("publisher")
    page = publisher.get(f"{P}/abolish")
    response = submit(publisher, page, "", reason="Gộp thủ tục", replaced_by="1.000003")
    assert response.status_code == 302

    page = public.get(scanned)
    notice = _notice(page)
    assert f"{NOTICE} {_state_day(app)}; thủ tục đã bị bãi bỏ ngày" in notice
    assert "Thay thế bằng: Thủ tục thay thế (1.000003)" in notice


@pytest.mark.parametrize(
    "value",
    ["", "abc", "-1", "0", "99", "99999999999999999999", "1.5", "²", "١", " 1", "1e3", "0x1"],
)
def test_garbage_states_show_no_notice_and_no_error(app, login_as, tmp_path, value):
    public = app.test_client()
    scanned = _scan_sheet(public, "1.000001", tmp_path)
    publisher = login_as("publisher")
    submit(
        publisher,
        publisher.get(f"{P}/edit"),
        "",
        channels__0__time_limit_value="9",
        channels__0__time_limit_text="9 ngày làm việc",
    )
    _publish(publisher)
    assert NOTICE in _notice(public.get(scanned))  # a real old state does show one
    page = public.get("/thu-tuc/1.000001", query_string={"ban-in": value})
    assert page.status_code == 200
    assert _notice(page) == ""
    assert "bản mới nhất" not in page.text


def test_a_draft_revision_number_shows_nothing_of_the_draft(app, login_as, tmp_path):
    public = app.test_client()
    _scan_sheet(public, "1.000001", tmp_path)
    editor = login_as("editor")
    submit(
        editor,
        editor.get(f"{P}/edit"),
        "",
        channels__0__time_limit_value="33",
        channels__0__time_limit_text="33 ngày làm việc",
    )
    with app.app_context():
        drafts = db.session.execute(
            select(ProcedureRevision.number).where(ProcedureRevision.action == "saved")
        ).scalars()
        (draft,) = list(drafts)
    page = public.get(f"/thu-tuc/1.000001?ban-in={draft}")
    assert page.status_code == 200
    assert _notice(page) == ""
    assert "33 ngày" not in page.text


def test_another_procedures_state_shows_no_notice(app, login_as, tmp_path):
    public = app.test_client()
    publisher = login_as("publisher")
    for name in ("Tên lần một", "Tên lần hai"):
        submit(publisher, publisher.get(f"{P}/edit"), "", name=name)
        _publish(publisher)
    _publish(publisher, "/staff/procedures/1.000002")  # its states: 1 and 2
    other = _scan_sheet(public, "1.000001", tmp_path)
    assert other.endswith("?ban-in=5")
    assert _scan_sheet(public, "1.000002", tmp_path).endswith("?ban-in=2")
    for number in (3, 5):
        page = public.get(f"/thu-tuc/1.000002?ban-in={number}")
        assert page.status_code == 200
        assert _notice(page) == ""
        assert "bản mới nhất" not in page.text


def test_caches_never_mix_the_pages_of_different_sheets(app, login_as, tmp_path):
    public = app.test_client()
    scanned = _scan_sheet(public, "1.000001", tmp_path)
    plain = public.get("/thu-tuc/1.000001")
    current = public.get(scanned)
    publisher = login_as("publisher")
    submit(
        publisher,
        publisher.get(f"{P}/edit"),
        "",
        channels__0__time_limit_value="7",
        channels__0__time_limit_text="7 ngày làm việc",
    )
    _publish(publisher)

    # the ETag a cache holds for the sheet's page while it was current no longer matches
    again = public.get(scanned, headers={"If-None-Match": current.headers["ETag"]})
    assert again.status_code == 200
    assert NOTICE in _notice(again)
    # nor does the plain page's: the notice is part of the body the ETag is made of
    fresh_plain = public.get("/thu-tuc/1.000001")
    again = public.get(scanned, headers={"If-None-Match": fresh_plain.headers["ETag"]})
    assert again.status_code == 200
    assert NOTICE in _notice(again)
    assert public.get(scanned, headers={"If-None-Match": again.headers["ETag"]}).status_code == 304
    assert plain.headers["ETag"] != again.headers["ETag"]
    # one canonical page for every sheet, and the sitemap lists only that one
    canonical = f'<link rel="canonical" href="{BASE}thu-tuc/1.000001">'
    assert canonical in again.text
    assert canonical in fresh_plain.text
    sitemap = public.get("/sitemap.xml").text
    assert f"{BASE}thu-tuc/1.000001<" in sitemap
    assert "ban-in" not in sitemap


def test_the_english_page_says_it_in_english(app, login_as, tmp_path):
    public = app.test_client()
    scanned = _scan_sheet(public, "1.000001", tmp_path)
    publisher = login_as("publisher")
    submit(publisher, publisher.get(f"{P}/edit"), "", channels__0__time_limit_value="12",
        channels__0__time_limit_text="12 ngày làm việc",
           requirements="Mới.")  # fmt: skip
    _publish(publisher)
    english = app.test_client()
    page = english.get(f"{scanned}&lang=en")
    notice = _notice(page)
    assert "This guide was printed from the version of" in notice
    assert "5 working days → 12 working days" in notice
    assert "Other details changed too." in notice
    assert NOTICE not in notice


def test_an_old_revision_missing_keys_shows_what_it_can(app, login_as, tmp_path):
    public = app.test_client()
    scanned = _scan_sheet(public, "1.000001", tmp_path)
    publisher = login_as("publisher")
    submit(publisher, publisher.get(f"{P}/edit"), "", name="Tên mới")
    _publish(publisher)
    number = int(scanned.rsplit("=", 1)[1])
    with app.app_context():  # a revision written under an older schema of records
        revision = db.session.execute(
            select(ProcedureRevision).where(ProcedureRevision.number == number)
        ).scalar_one()
        record = dict(revision.record)
        for key in ("dossier", "updated_at", "fields"):
            record.pop(key)
        record["channels"] = [{"kind": "direct", "time_limit_value": "năm"}, "không phải"]
        revision.record = record
        db.session.commit()
    page = public.get(scanned)
    assert page.status_code == 200
    notice = _notice(page)
    assert NOTICE in notice
    assert "Hồ sơ cần thêm: Tờ khai" in notice  # the old record had no dossier at all
    assert "→ 5 ngày làm việc" in notice


# --- an imported procedure, never edited in the portal ------------------------------------------


def _admin(app: Flask) -> FlaskClient:
    with app.app_context():
        accounts.create_user(accounts.Account("nguoi-sua", "admin", []), STAFF_PASSWORD)
    client = app.test_client()
    response = submit(client, client.get("/staff/login"), username="nguoi-sua",
                      password=STAFF_PASSWORD)  # fmt: skip
    assert response.status_code == 302, response.text
    return client


def test_an_imported_procedure_printed_then_changed(portal_app, tmp_path):
    _settings(portal_app, base_url=BASE)
    with portal_app.app_context():
        procedure = next(
            p
            for p in db.session.execute(
                select(Procedure).where(Procedure.status == "published").order_by(Procedure.code)
            ).scalars()
            if any(b.issued_date for b in p.legal_bases) and p.channels
        )
        code, record = procedure.code, convert.procedure_record(procedure)
        assert history.has_outside_state(procedure)
        assert not db.session.execute(select(ProcedureRevision)).first()
    dated = next(i for i, b in enumerate(record["legal_bases"]) if b["issued_date"])
    public = portal_app.test_client()
    scanned = _scan_sheet(public, code, tmp_path)
    assert scanned == f"/thu-tuc/{code}?ban-in=1"  # the state its first staff change records

    staff = _admin(portal_app)
    base = f"/staff/procedures/{code}"
    page = staff.get(f"{base}/edit")
    changes = {f"legal_bases__{dated}__issued_date": "2031-02-03"}
    assert submit(staff, page, "", **changes).status_code == 302
    _publish(staff, base)

    page = public.get(scanned)
    assert page.status_code == 200
    notice = _notice(page)
    assert NOTICE in notice
    assert "Một số nội dung khác đã thay đổi." in notice
    with portal_app.app_context():
        actions = db.session.execute(
            select(ProcedureRevision.action).order_by(ProcedureRevision.number)
        ).scalars()
        assert list(actions) == ["initial", "saved", "published"]
    assert _notice(public.get(_scan_sheet(public, code, tmp_path))) == ""


def _reimport(app: Flask, tmp_path, code: str, **changes) -> None:
    """Import the catalogue again, as exported, with `changes` to one procedure's first channel."""
    with app.app_context():
        document = transfer.export_catalogue()
    (item,) = [p for p in document["procedures"] if p["code"] == code]
    item["channels"][0].update(changes)
    item["updated_at"] = None
    source = tmp_path / "cap-nhat.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", str(source)])
    assert result.exit_code == 0, result.output
    assert "cập nhật 1" in result.output


def test_a_sheet_printed_before_a_new_import_says_what_the_import_changed(app, tmp_path):
    public = app.test_client()
    first = _scan_sheet(public, "1.000001", tmp_path)
    _reimport(app, tmp_path, "1.000001", time_limit_value=8, time_limit_text="08 ngày làm việc")
    second = _scan_sheet(public, "1.000001", tmp_path)
    assert second != first  # the import recorded the state it replaced
    assert "5 ngày làm việc → 8 ngày làm việc" in _notice(public.get(first))
    assert _notice(public.get(second)) == ""
    _reimport(app, tmp_path, "1.000001", fee_amount=0, fee_text="Miễn phí")
    notice = _notice(public.get(first))
    assert "5 ngày làm việc → 8 ngày làm việc" in notice
    assert "50.000 đồng → Miễn phí" in notice
    assert "Phí, lệ phí: 50.000 đồng → Miễn phí" in _notice(public.get(second))
    with app.app_context():
        actions = db.session.execute(
            select(ProcedureRevision.action).order_by(ProcedureRevision.number)
        ).scalars()
        assert list(actions) == ["initial", "initial"]  # by no one, one per replaced state


# --- booklets -----------------------------------------------------------------------------------


def test_booklet_qr_codes_carry_the_state(app, login_as, tmp_path):
    public = app.test_client()
    booklet = ready_booklet(public, "/co-quan/phong-a/so-tay.pdf")
    assert booklet.status_code == 200
    pages = _pages(booklet.data)
    start = next(i for i, text in enumerate(pages) if "1.000001" in text and i > 1) + 1
    (printed,) = _qr_codes(booklet.data, start, tmp_path)
    assert urlsplit(printed).query == "ban-in=1"

    publisher = login_as("publisher")
    submit(
        publisher,
        publisher.get(f"{P}/edit"),
        "",
        channels__0__time_limit_value="20",
        channels__0__time_limit_text="20 ngày làm việc",
    )
    _publish(publisher)
    notice = _notice(public.get(urlsplit(printed).path + "?" + urlsplit(printed).query))
    assert "5 ngày làm việc → 20 ngày làm việc" in notice

    rebuilt = ready_booklet(public, "/co-quan/phong-a/so-tay.pdf")
    assert rebuilt.headers["ETag"] != booklet.headers["ETag"]
    (now,) = _qr_codes(rebuilt.data, start, tmp_path)
    assert now != printed
    assert _notice(public.get(urlsplit(now).path + "?" + urlsplit(now).query)) == ""
