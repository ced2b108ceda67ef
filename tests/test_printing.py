"""Printing: procedure sheets (print view and PDF), QR codes, booklets and their cache, the CLI.

PDFs are read back as a person would: text through pypdf, QR codes by rendering the page
(pdftoppm) and scanning it (zbarimg).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from services import importers, printing
from services.catalogue import queries, records, store
from services.db import db
from services.errors import ValidationError
from tests import tthc_real
from tests.helpers import procedure_raw

BASE = "https://tthc.example.vn/"


def _implementing(slug):
    return [{"role": "implementing", "agency": slug, "name": ""}]


def _settings(app, **fields):
    raw = {"portal_name": "Cổng thủ tục hành chính thử", "locality": "huyện Thử", **fields}
    with app.app_context():
        store.store_settings(records.normalize_settings(raw))
        db.session.commit()


def _store(app, raw):
    with app.app_context():
        procedure, _ = store.store_procedure(records.normalize_procedure(raw))
        db.session.commit()
        return procedure.code


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _squeezed(text: str) -> str:
    """Text without white space: a line may wrap after a hyphen, where extraction adds none."""
    return "".join(text.split())


def _qr_codes(pdf: bytes, page: int, tmp_path: Path) -> list[str]:
    """The payloads of the QR codes on one page (1-based), scanned from a 150 dpi rendering."""
    source = tmp_path / "scan.pdf"
    source.write_bytes(pdf)
    image = tmp_path / "scan"
    span = ["-f", str(page), "-l", str(page)]
    subprocess.run(
        ["pdftoppm", "-r", "150", *span, "-png", "-singlefile", str(source), str(image)],
        check=True,
    )
    scan = subprocess.run(
        ["zbarimg", "--raw", "-q", f"{image}.png"], capture_output=True, text=True
    )
    return scan.stdout.split()


@pytest.fixture
def desk(app, make_agency):
    """Site settings with a base URL and an agency with one complete procedure."""
    _settings(app, base_url=BASE)
    agency = make_agency(slug="phong-tu-phap", name="Phòng Tư pháp huyện Thử")
    code = _store(
        app,
        procedure_raw(
            code="1.001193",
            name="Đăng ký khai sinh có yếu tố nước ngoài",
            agencies=_implementing(agency.slug),
            dossier=[
                {"name": "Tờ khai đăng ký khai sinh theo mẫu", "originals": 1},
                {"name": "Giấy chứng sinh do cơ sở y tế cấp", "originals": 1, "copies": 1},
                {"name": "Văn bản ủy quyền được chứng thực", "required": False},
            ],
        ),
    )
    return agency, code


# --- one procedure ------------------------------------------------------------------------------


def test_procedure_pdf_holds_the_procedure_and_a_qr_to_its_page(client, desk, tmp_path):
    agency, code = desk
    response = client.get(f"/thu-tuc/{code}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pages = _pages(response.data)
    text = _flat(" ".join(pages))
    for expected in (
        "Đăng ký khai sinh có yếu tố nước ngoài",
        code,
        "Tờ khai đăng ký khai sinh theo mẫu",
        "Giấy chứng sinh do cơ sở y tế cấp",
        "Văn bản ủy quyền được chứng thực",
        agency.name,
        "Cổng thủ tục hành chính thử".upper(),
        "123/QĐ-UBND ngày 06/05/2024",
        "Cập nhật lần cuối",
        "In lúc",
    ):
        assert expected in text
    assert 1 <= len(pages) <= 2
    assert f"Trang 1/{len(pages)}" in pages[0]
    assert _qr_codes(response.data, 1, tmp_path) == [f"{BASE}thu-tuc/{code}?ban-in=1"]


def _layouts(monkeypatch) -> list[str]:
    """The sheets WeasyPrint lays out from now on."""
    laid: list[str] = []
    original = printing.html_pdf
    monkeypatch.setattr(
        printing, "html_pdf", lambda html, base: laid.append(html) or original(html, base)
    )
    return laid


def test_a_sheet_is_laid_out_once_until_its_procedure_changes(app, client, desk, monkeypatch):
    _, code = desk
    laid = _layouts(monkeypatch)
    first = client.get(f"/thu-tuc/{code}.pdf")
    again = client.get(f"/thu-tuc/{code}.pdf")
    assert first.status_code == again.status_code == 200
    assert again.data == first.data
    assert len(laid) == 1
    assert client.get(f"/thu-tuc/{code}.pdf?lang=en").status_code == 200  # another edition
    assert client.get(f"/thu-tuc/{code}.pdf?ban=song-ngu").status_code == 200
    assert len(laid) == 3
    with app.app_context():
        procedure = queries.get_procedure(code)
        procedure.name = "Đăng ký khai sinh cho trẻ có cha hoặc mẹ là người nước ngoài"
        db.session.commit()
    changed = client.get(f"/thu-tuc/{code}.pdf")
    assert len(laid) == 4
    assert "Đăng ký khai sinh cho trẻ có cha hoặc mẹ" in _flat(" ".join(_pages(changed.data)))
    assert client.get(f"/thu-tuc/{code}.pdf").data == changed.data
    assert len(laid) == 4


def test_a_sheet_is_still_served_when_the_print_cache_cannot_be_written(
    app, client, desk, monkeypatch
):
    _, code = desk

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(printing.tempfile, "NamedTemporaryFile", full_disk)
    response = client.get(f"/thu-tuc/{code}.pdf")
    assert response.status_code == 200
    assert "Đăng ký khai sinh có yếu tố nước ngoài" in _flat(" ".join(_pages(response.data)))
    assert not list(Path(app.config["PRINT_CACHE_DIR"]).glob("sheet-*.pdf"))


def test_sheets_nobody_asked_for_lately_leave_the_cache(app, client, desk):
    _, code = desk
    assert client.get(f"/thu-tuc/{code}.pdf").status_code == 200
    cache = Path(app.config["PRINT_CACHE_DIR"])
    [kept] = cache.glob("sheet-*.pdf")
    stale = cache / "sheet-0123456789abcdef0123.pdf"
    stale.write_bytes(b"%PDF-1.7 old")
    old = time.time() - (printing.SHEET_DAYS + 1) * 86400
    os.utime(stale, (old, old))
    assert client.get(f"/thu-tuc/{code}.pdf?lang=en").status_code == 200  # a build prunes
    assert not stale.exists()
    assert kept.exists()


def test_pdf_fonts_cover_vietnamese_with_dejavu(client, desk):
    _, code = desk
    reader = PdfReader(io.BytesIO(client.get(f"/thu-tuc/{code}.pdf").data))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts
    assert all("DejaVu" in name for name in fonts), fonts


FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
NO_QR_NOTE = "Chưa có mã QR: quản trị viên cần đặt địa chỉ trang thông tin (base_url)"


def _link_targets(pdf: bytes) -> list[str]:
    """Every URI a link in the PDF opens."""
    return [
        str(annotation.get_object()["/A"].get("/URI", ""))
        for page in PdfReader(io.BytesIO(pdf)).pages
        for annotation in page.get("/Annots") or []
        if "/A" in annotation.get_object()
    ]


def _assert_no_forged_host(client, url: str) -> str:
    html = client.get(url, headers=FORGED).text
    assert "evil.example" not in html
    return html


@pytest.mark.parametrize("base_url", ["", "tthc.example.vn"])  # none, or not an http(s) URL
def test_without_a_base_url_a_forged_host_gets_no_qr_but_a_note(
    app, client, desk, tmp_path, base_url
):
    _, code = desk
    _settings(app, base_url=base_url)
    html = _assert_no_forged_host(client, f"/thu-tuc/{code}/in")
    assert NO_QR_NOTE in html
    assert "data:image/svg+xml" not in html
    response = client.get(f"/thu-tuc/{code}.pdf", headers=FORGED)
    assert response.status_code == 200
    assert b"evil.example" not in response.data
    assert _qr_codes(response.data, 1, tmp_path) == []
    assert NO_QR_NOTE in _flat(" ".join(_pages(response.data)))
    assert not [t for t in _link_targets(response.data) if "evil.example" in t or "invalid" in t]


def test_with_a_base_url_a_forged_host_never_reaches_the_qr_or_links(client, desk, tmp_path):
    _, code = desk
    html = _assert_no_forged_host(client, f"/thu-tuc/{code}/in")
    assert f"{BASE}thu-tuc/{code}" in html
    assert NO_QR_NOTE not in html
    pdf = client.get(f"/thu-tuc/{code}.pdf", headers=FORGED).data
    assert _qr_codes(pdf, 1, tmp_path) == [f"{BASE}thu-tuc/{code}?ban-in=1"]
    targets = _link_targets(pdf)
    assert targets
    assert all(target.startswith(BASE) for target in targets)


def test_portal_base_raises_without_a_configured_base(app):
    with app.test_request_context(base_url="http://evil.example/"):
        with pytest.raises(ValidationError):
            printing.portal_base()
        assert printing.configured_base() is None


def test_page_url_keeps_a_base_url_path_prefix(app):
    with app.app_context():
        url = printing.page_url("https://so.example.vn/tthc/", "public.procedure", code="1.2")
    assert url == "https://so.example.vn/tthc/thu-tuc/1.2"


def test_dotted_codes_reach_the_pdf_and_the_page(client, desk):
    _, code = desk
    assert "." in code
    assert client.get(f"/thu-tuc/{code}.pdf").mimetype == "application/pdf"
    page = client.get(f"/thu-tuc/{code}")
    assert page.mimetype == "text/html"
    assert f'href="/thu-tuc/{code}.pdf"' in page.text
    assert f'href="/thu-tuc/{code}/in"' in page.text


@pytest.mark.parametrize("suffix", [".pdf", "/in"])
def test_unknown_or_unpublished_procedure_is_404(client, make_procedure, suffix):
    draft = make_procedure(status="draft").code
    for code in ("9.999999", draft):
        response = client.get(f"/thu-tuc/{code}{suffix}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "Không tìm thấy thủ tục" in response.text


def test_print_view_is_paper_without_navigation(client, desk):
    _, code = desk
    response = client.get(f"/thu-tuc/{code}/in")
    assert response.status_code == 200
    html = response.text
    assert 'class="site-nav"' not in html
    assert 'role="search"' not in html
    assert "data:image/svg+xml" in html
    assert html.count('class="tick-box"') == 3
    assert f"{BASE}thu-tuc/{code}" in html
    assert "Phòng Tư pháp huyện Thử" in html


# --- the longest real procedure -----------------------------------------------------------------


@pytest.fixture(scope="module")
def longest_page() -> tuple[Path, dict]:
    """The file and content of the longest scraped page of the real data (by its whole text)."""
    folder = tthc_real.pages_folder()
    if folder is None:
        message = f"{tthc_real.PAGES} is not beside the checkout"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    return max(tthc_real.read_pages(folder), key=lambda item: len(item[1].get("raw_text") or ""))


def test_longest_real_procedure_paginates_cleanly(app, client, longest_page, tmp_path):
    _settings(app, base_url=BASE)
    path, page = longest_page
    with app.app_context():
        report = importers.run_import([path])
    assert report.procedures["created"] == 1
    code = page["ma_thu_tuc"]
    response = client.get(f"/thu-tuc/{code}.pdf")
    assert response.status_code == 200
    pages = _pages(response.data)
    total = len(pages)
    assert 8 <= total <= 60, total
    for number, text in enumerate(pages, 1):
        assert f"Trang {number}/{total}" in text
        assert len(_flat(text)) > 400 or number == total  # no page left nearly empty mid-way
    body = _squeezed(" ".join(_without_furniture(text) for text in pages))
    with app.app_context():
        procedure = queries.get_procedure(code)
        assert _flat(procedure.main_agency.name) in _flat(pages[0])  # in the header
        items = [item.name for item in procedure.dossier]
        assert len(items) > 10
        for item in items:
            assert _squeezed(item) in body
        assert _squeezed(procedure.requirements.split("\n")[-1]) in body
        assert _squeezed(procedure.legal_bases[0].title) in body
    assert _qr_codes(response.data, 1, tmp_path) == [f"{BASE}thu-tuc/{code}?ban-in=1"]


def _without_furniture(text: str) -> str:
    """A page's text without its running header and footer (code, print date, page number)."""
    lines = text.split("\n")
    while lines and re.search(r"Trang \d+/\d+$|^In lúc |^[\d.]+$", lines[-1]):
        lines.pop()
    return "\n".join(lines)


# --- booklets -----------------------------------------------------------------------------------


@pytest.fixture
def offices(app, make_agency):
    """A parent agency with two procedures and a sub-agency with two (one of several pages)."""
    _settings(app, base_url=BASE, desk_name="Bộ phận Một cửa huyện", desk_address="Số 1 phố Thử")
    make_agency(slug="ubnd", name="Ủy ban nhân dân huyện Thử", kind="people_committee")
    make_agency(slug="phong-tn", name="Phòng Tài nguyên và Môi trường", parent="ubnd")
    long_steps = [
        f"Bước {n}: kiểm tra hồ sơ và lập biên bản thẩm định lần {n}. " * 6 for n in range(40)
    ]
    made = {
        "ubnd": [
            ("8.000001", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", []),
            ("8.000002", "Đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", []),
        ],
        "phong-tn": [
            ("8.000003", "Đăng ký biến động đất đai", "Đất đai", long_steps),
            ("8.000004", "Cung cấp dữ liệu đất đai", "Đất đai", []),
        ],
    }
    for slug, procedures in made.items():
        for code, name, field, steps in procedures:
            extra = {"steps": steps} if steps else {}
            _store(
                app,
                procedure_raw(
                    code=code, name=name, fields=[field], agencies=_implementing(slug), **extra
                ),
            )
    _store(app, procedure_raw(code="8.000009", status="draft", agencies=_implementing("ubnd")))
    return made


def ready_booklet(client, url: str, seconds: float = 60):
    """GET a booklet as the "đang chuẩn bị" page's refresh would, until the PDF is there."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.get(url)
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def _toc(pages: list[str]) -> dict[str, int]:
    """Procedure code → page number, read from the table of contents (page 2 onwards)."""
    entries = {}
    for text in pages[1:]:
        # An entry is "code name ..... page", its name wrapping over lines when long.
        found = re.findall(r"^([\d.]+) .*?\.{3,}\s*(\d+)$", text, flags=re.M | re.S)
        if not found:
            break
        entries.update((code, int(page)) for code, page in found)
    return entries


def _starts(pages: list[str]) -> dict[str, int]:
    """Procedure code → the page where its sheet really begins, read from the pages' text."""
    starts = {}
    for number, text in enumerate(pages, 1):
        found = re.findall(r"Thủ tục hành chính · ([\w./-]+)", text)
        assert len(found) <= 1, f"two procedures begin on page {number}"
        starts.update((code, number) for code in found)
    return starts


def test_agency_booklet_toc_gives_the_page_each_procedure_starts_on(client, offices):
    response = ready_booklet(client, "/co-quan/ubnd/so-tay.pdf?truc-thuoc=1")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pages = _pages(response.data)
    cover = _flat(pages[0])
    assert "SỔ TAY THỦ TỤC HÀNH CHÍNH" in cover
    assert "Ủy ban nhân dân huyện Thử" in cover
    assert "4 thủ tục đang áp dụng" in cover
    assert "Bộ phận Một cửa huyện" in cover
    toc = _toc(pages)
    codes = [code for procedures in offices.values() for code, *_ in procedures]
    assert sorted(toc) == sorted(codes)  # every published procedure, no draft
    assert toc == _starts(pages)  # each on a page of its own, where the contents say
    following = pages[toc["8.000003"]]  # the long procedure runs over to the next page,
    assert "Thủ tục hành chính · " not in following
    assert "8.000003" in following  # whose running header names it


def test_agency_booklet_without_sub_agencies(client, offices):
    pages = _pages(ready_booklet(client, "/co-quan/ubnd/so-tay.pdf").data)
    assert sorted(_toc(pages)) == ["8.000001", "8.000002"]
    page = client.get("/co-quan/ubnd").text
    assert 'href="/co-quan/ubnd/so-tay.pdf"' in page
    assert 'href="/co-quan/ubnd/so-tay.pdf?truc-thuoc=1"' in page


def test_field_booklet(client, offices):
    page = client.get("/linh-vuc/dat-dai").text
    assert 'href="/linh-vuc/dat-dai/so-tay.pdf"' in page
    pages = _pages(ready_booklet(client, "/linh-vuc/dat-dai/so-tay.pdf").data)
    assert "Lĩnh vực Đất đai" in pages[0]
    assert sorted(_toc(pages)) == ["8.000003", "8.000004"]


def test_empty_or_unknown_booklet_is_a_friendly_page(client, offices, make_agency):
    make_agency(slug="phong-trong", name="Phòng Trống")
    response = client.get("/co-quan/phong-trong/so-tay.pdf")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Cơ quan “Phòng Trống” chưa có thủ tục nào được công bố." in response.text
    assert 'href="/co-quan/phong-trong"' in response.text
    assert 'so-tay.pdf"' not in client.get("/co-quan/phong-trong").text
    long = "a" * 300  # longer than a file name may be: the fuzz suite found a 500 there
    for url in (
        "/co-quan/khong-co/so-tay.pdf",
        "/linh-vuc/khong-co/so-tay.pdf",
        f"/linh-vuc/{long}.key/so-tay.pdf",
        f"/co-quan/{long}/so-tay.pdf?truc-thuoc=1&ban=song-ngu",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Không tìm thấy" in response.text, url


def test_booklet_is_cached_until_one_of_its_procedures_changes(app, offices):
    cache = Path(app.config["PRINT_CACHE_DIR"])
    with app.test_request_context(base_url=BASE):
        first = printing.booklet_pdf(printing.agency_booklet("phong-tn"), BASE)
        again = printing.booklet_pdf(printing.agency_booklet("phong-tn"), BASE)
        other = printing.booklet_pdf(printing.agency_booklet("ubnd"), BASE)
    assert first.built
    assert not again.built
    assert other.built
    assert (again.key, again.data) == (first.key, first.data)
    assert len(list(cache.glob("co-quan-phong-tn.*.pdf"))) == 1

    _store(
        app,
        procedure_raw(
            code="8.000004",
            name="Cung cấp thông tin, dữ liệu đất đai",
            fields=["Đất đai"],
            agencies=_implementing("phong-tn"),
        ),
    )
    with app.test_request_context(base_url=BASE):
        rebuilt = printing.booklet_pdf(printing.agency_booklet("phong-tn"), BASE)
        untouched = printing.booklet_pdf(printing.agency_booklet("ubnd"), BASE)
    assert rebuilt.built
    assert rebuilt.key != first.key
    assert [p.name for p in cache.glob("co-quan-phong-tn.*.pdf")] == [
        f"co-quan-phong-tn.{rebuilt.key}.pdf"  # the stale version is gone
    ]
    assert "Cung cấp thông tin, dữ liệu đất đai" in _flat(" ".join(_pages(rebuilt.data)))
    assert not untouched.built
    assert untouched.key == other.key


def test_booklet_answers_conditional_requests(client, offices):
    url = "/linh-vuc/dat-dai/so-tay.pdf"
    etag = ready_booklet(client, url).headers["ETag"]
    assert etag
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


# --- the command line ---------------------------------------------------------------------------


def test_cli_writes_a_booklet(runner, offices, tmp_path):
    out = tmp_path / "so-tay.pdf"
    result = runner.invoke(args=["print-booklet", "--field", "dat-dai", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 thủ tục" in result.output
    assert sorted(_toc(_pages(out.read_bytes()))) == ["8.000003", "8.000004"]
    again = runner.invoke(args=["print-booklet", "--field", "dat-dai", str(out)])
    assert "không có gì thay đổi" in again.output


def test_cli_base_url_option_sets_the_qr_codes(app, runner, offices, tmp_path):
    out = tmp_path / "so-tay.pdf"
    args = ["print-booklet", "--agency", "ubnd", "--base-url", "https://cong.example.vn/", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    pages = _pages(out.read_bytes())
    first = _toc(pages)["8.000001"]
    assert _qr_codes(out.read_bytes(), first, tmp_path) == [
        "https://cong.example.vn/thu-tuc/8.000001?ban-in=1"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agency", "phong-trong"], "chưa có thủ tục nào được công bố"),
        (["--agency", "khong-co"], "Không tìm thấy cơ quan"),
        (["--field", "khong-co"], "Không tìm thấy lĩnh vực"),
        ([], "Cần đúng một trong hai tùy chọn"),
        (["--agency", "ubnd", "--field", "dat-dai"], "Cần đúng một trong hai tùy chọn"),
        (["--field", "dat-dai", "--with-children"], "chỉ dùng cùng --agency"),
        (["--agency", "ubnd", "--base-url", "cong.example.vn"], "base_url"),
    ],
)
def test_cli_refuses_bad_input_in_vietnamese(runner, offices, make_agency, tmp_path, args, message):
    make_agency(slug="phong-trong", name="Phòng Trống")
    out = tmp_path / "so-tay.pdf"
    result = runner.invoke(args=["print-booklet", *args, str(out)])
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()


def test_cli_needs_a_base_url_for_qr_codes(app, runner, make_procedure, tmp_path):
    make_procedure(fields=["Hộ tịch"])
    result = runner.invoke(args=["print-booklet", "--field", "ho-tich", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert "Chưa có địa chỉ trang thông tin (base_url)" in result.output


# --- the demo catalogue -------------------------------------------------------------------------


def test_demo_agency_booklet_lists_what_its_page_lists(demo_app, demo_client):
    with demo_app.app_context():
        agency = queries.get_agency("phong-tu-phap")
        groups = queries.agency_procedures(agency)
        codes = [p.code for group in groups for p in group.procedures]
    assert len(codes) >= 5
    page = demo_client.get("/co-quan/phong-tu-phap").text
    assert 'href="/co-quan/phong-tu-phap/so-tay.pdf"' in page
    pages = _pages(ready_booklet(demo_client, "/co-quan/phong-tu-phap/so-tay.pdf").data)
    toc = _toc(pages)
    assert list(toc) == codes  # in the agency page's order: by lĩnh vực, then name
    assert toc == _starts(pages)


def test_demo_abolished_procedure_prints_its_notice(demo_app, demo_client):
    with demo_app.app_context():
        abolished = next(
            p
            for p in queries.all_procedures(public=True)
            if p.status == "abolished" and p.replaced_by
        )
        code = abolished.code
        replacement_code, replacement_name = abolished.replaced_by.code, abolished.replaced_by.name
    text = _flat(" ".join(_pages(demo_client.get(f"/thu-tuc/{code}.pdf").data)))
    assert "Thủ tục này đã bị bãi bỏ." in text
    assert f"Thay thế bằng: {replacement_name} ({replacement_code})" in text
