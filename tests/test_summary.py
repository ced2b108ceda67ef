"""Practical facts first: the summary box of a procedure page and sheet, and the online submission
address (kept by staff, imported from the national data, exported, checked)."""

from __future__ import annotations

import html
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader

from services import importers
from services.catalogue import records, store, transfer
from services.db import db
from services.errors import ValidationError
from services.importers import channels
from tests.helpers import submit

ADDRESS = "Số 5 đường Lý Bôn, thị trấn Thử, huyện Thử, tỉnh Thử"
HOURS = "Sáng 7h30–11h30, chiều 13h30–17h00, thứ Hai đến thứ Sáu"
ONLINE = "https://dichvucong.example.vn/nop-ho-so?ma=1.000111"


def _summary(text: str) -> str:
    start = text.index('class="summary"')
    return text[start : text.index("</section>", start)]


@pytest.fixture
def office(app, make_agency):
    with app.app_context():
        store.store_settings(records.normalize_settings({"locality": "huyện Thử, tỉnh Thử"}))
        db.session.commit()
    return make_agency(
        slug="phong-tu-phap", name="Phòng Tư pháp huyện Thử", address=ADDRESS, opening_hours=HOURS
    )


def _channel(kind: str, days: int, amount: int | None, fee_text: str = "") -> dict:
    return {
        "kind": kind,
        "time_limit_value": days,
        "time_limit_unit": "working_days",
        "fee_amount": amount,
        "fee_text": fee_text,
    }


def test_summary_box_comes_first_with_the_practical_facts(client, office, make_procedure):
    make_procedure(
        code="1.000111",
        agencies=[{"role": "implementing", "agency": office.slug}],
        channels=[
            _channel("direct", 5, 50000),
            _channel("postal", 5, 50000),
            _channel("online", 3, 25000),
        ],
        online_level="full",
        online_url=ONLINE,
        results=[{"name": "Giấy chứng nhận đăng ký", "code": "KQ.1"}],
    )
    text = client.get("/thu-tuc/1.000111").text
    assert text.index('class="summary"') < text.index('id="thong-tin"')  # before the metadata
    box = html.unescape(_summary(text))
    assert '5 ngày làm việc <span class="small">(Trực tiếp, Dịch vụ bưu chính)</span>' in box
    assert '3 ngày làm việc <span class="small">(Trực tuyến)</span>' in box
    assert "50.000 đồng" in box
    assert "25.000 đồng" in box
    assert "Phòng Tư pháp huyện Thử, Số 5 đường Lý Bôn, thị trấn Thử" in box
    assert "huyện Thử, tỉnh Thử" not in box  # the portal's own locality is not repeated
    assert HOURS in box
    assert f'<a class="online-link" href="{ONLINE}" rel="noopener">Nộp trực tuyến</a>' in box
    assert "(toàn trình)" in box
    assert "Giấy chứng nhận đăng ký" in box
    map_link = urlsplit(box.split('class="map-link no-print" href="')[1].split('"')[0])
    assert (map_link.scheme, map_link.netloc, map_link.path) == (
        "https",
        "www.openstreetmap.org",
        "/search",
    )
    assert parse_qs(map_link.query) == {"query": [ADDRESS]}


def test_summary_box_of_a_procedure_without_online_or_channels(client, make_procedure):
    make_procedure(
        code="1.000112",
        channels=[],
        online_level=None,
        agencies=[{"role": "implementing", "name": "UBND xã nơi cư trú"}],
        receiving_address="",
    )
    box = _summary(client.get("/thu-tuc/1.000112").text)
    assert "Thời hạn" not in box
    assert "Phí, lệ phí" not in box
    assert "UBND xã nơi cư trú" in box
    assert "chưa có" in box
    assert "online-link" not in box
    assert "map-link" not in box


def test_one_fee_for_every_channel_is_shown_once_and_long_texts_are_cut(client, make_procedure):
    long_fee = "Lệ phí theo Nghị quyết của Hội đồng nhân dân tỉnh " + "về mức thu lệ phí " * 10
    make_procedure(
        code="1.000113",
        channels=[_channel("direct", 7, None, long_fee), _channel("online", 7, None, long_fee)],
    )
    box = _summary(client.get("/thu-tuc/1.000113").text)
    assert box.count("7 ngày làm việc") == 1
    assert "(Trực tiếp" not in box  # the same for every channel: the channels are not named
    assert "Lệ phí theo Nghị quyết của Hội đồng nhân dân tỉnh về mức thu lệ…" in box
    assert long_fee.strip() not in box


def test_related_abolished_procedure_is_marked(client, make_procedure):
    make_procedure(code="1.000114", name="Thủ tục cũ", status="abolished")
    make_procedure(code="1.000115", name="Thủ tục còn áp dụng")
    make_procedure(code="1.000116", related=["1.000114", "1.000115"])
    text = client.get("/thu-tuc/1.000116").text
    related = text[text.index('id="lien-quan"') :]
    old, current = related.split("</li>")[:2]
    assert "Thủ tục cũ" in old
    assert "đã bãi bỏ" in old
    assert "Thủ tục còn áp dụng" in current
    assert "đã bãi bỏ" not in current


def test_the_sheet_prints_the_summary_with_the_online_address(client, make_procedure):
    make_procedure(code="1.000117", online_url=ONLINE)
    sheet = client.get("/thu-tuc/1.000117/in").text
    assert f'href="{ONLINE}"' in _summary(sheet)
    pdf = client.get("/thu-tuc/1.000117.pdf").data
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Nộp trực tuyến <https://dichvucong.example.vn/" in text  # the address on paper
    assert text.index("Thời hạn") < text.index("Thông tin chung")


# --- the online submission address --------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://dichvucong.gov.vn", "dichvucong.gov.vn", "https://"])
def test_online_url_must_be_a_web_address(app, url):
    with app.app_context(), pytest.raises(ValidationError) as caught:
        records.normalize_procedure({"code": "1.0", "name": "Tên", "online_url": url})
    assert caught.value.errors == {
        "procedure.online_url": "Địa chỉ web không hợp lệ: cần dạng http://… hoặc https://…."
    }


def test_staff_keep_the_online_url_in_the_editor(login_as, staff_app):
    editor = login_as("editor")
    page = editor.get("/staff/procedures/1.000001/edit")
    assert 'name="online_url"' in page.text
    response = submit(editor, page, "", online_url="ftp://sai.example.vn")
    assert response.status_code == 400
    assert "Địa chỉ web không hợp lệ" in response.text
    assert "ftp://sai.example.vn" in response.text  # what was typed is kept
    response = submit(editor, page, "", online_url=ONLINE)
    assert response.status_code == 302
    preview = editor.get("/staff/procedures/1.000001/preview").text
    assert ONLINE in _summary(preview)


def test_online_url_goes_out_in_the_export_and_back_in(app, make_procedure, tmp_path):
    make_procedure(code="1.000118", online_url=ONLINE)
    with app.app_context():
        document = transfer.export_catalogue()
    (exported,) = [p for p in document["procedures"] if p["code"] == "1.000118"]
    assert exported["online_url"] == ONLINE
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({**document, "procedures": [{**exported, "online_url": ""}]}))
    with app.app_context():
        transfer.import_catalogue(transfer.read_document(path))
        again = transfer.export_catalogue()
    assert [p["online_url"] for p in again["procedures"] if p["code"] == "1.000118"] == [""]


def _rows(note: str, kind: str = "online") -> list[dict]:
    return [{"kind": kind, "note": note}]


def test_online_url_is_read_from_the_online_channel_description():
    assert channels.online_url(_rows("qua Cổng (địa chỉ http://dichvucong.gov.vn).")) == (
        "http://dichvucong.gov.vn"
    )
    # Run together with the next word, as the portal's tables are.
    glued = "tại https://motcua.hatinh.gov.vn.Cơ quan tiếp nhận"
    assert channels.online_url(_rows(glued)) == "https://motcua.hatinh.gov.vn"
    assert channels.online_url(_rows("Nộp qua http://dichvucong.gov.vn", "direct")) == ""
    assert channels.online_url(_rows("Nộp trực tuyến trên Cổng dịch vụ công")) == ""


def test_import_of_the_national_pages_carries_their_online_address(app, real_data):
    path = real_data / "chatbot_tthc/data/raw/bo-nong-nghiep-mt/1.014259.json"
    with app.app_context():
        report = importers.run_import([path])
        assert report.procedures.total() == 1
        document = transfer.export_catalogue()
    (procedure,) = document["procedures"]
    assert procedure["online_url"] == "http://dichvucong.gov.vn"
