"""QR codes that lead somewhere: `make run` gives the portal the address it serves as base URL,
and the settings page and printing warn while that address opens nothing for those who scan."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services import printing
from services.catalogue import queries, records, store
from services.db import db
from tests.helpers import submit

DEMO_DEFAULT = "http://127.0.0.1:5000"


def _base_url(app) -> str:
    with app.app_context():
        return queries.get_settings().base_url


def _set_base(app, url: str) -> None:
    with app.app_context():
        store.store_settings(records.normalize_settings({"portal_name": "Cổng", "base_url": url}))
        db.session.commit()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:5000", "của chính máy chủ"),
        ("http://localhost:8000/", "của chính máy chủ"),
        ("http://[::1]:5000", "của chính máy chủ"),
        ("http://0.0.0.0:5000", "của chính máy chủ"),
        ("http://192.168.1.20:5000", "mạng nội bộ"),
        ("http://10.0.0.7", "mạng nội bộ"),
        ("http://169.254.3.4", "mạng nội bộ"),
    ],
)
def test_loopback_and_private_base_urls_are_named(app, url, words):
    with app.test_request_context():
        assert words in printing.local_base_warning(url)


@pytest.mark.parametrize("url", ["https://thutuc.donghung.gov.vn", "http://8.8.8.8", "", None])
def test_public_or_missing_base_urls_give_no_warning(app, url):
    with app.test_request_context():
        assert printing.local_base_warning(url) is None


def test_init_db_adopts_the_served_address_over_the_demo_default(app, runner):
    result = runner.invoke(
        args=["init-db", "--demo-if-empty", "--base-url", "http://192.168.1.20:8080"]
    )
    assert result.exit_code == 0, result.output
    assert _base_url(app) == "http://192.168.1.20:8080"  # not the demo's 127.0.0.1:5000
    assert "mạng nội bộ" in result.output
    # Now configured (no longer the demo's default): another address does not replace it.
    result = runner.invoke(args=["init-db", "--base-url", "http://127.0.0.1:9999"])
    assert result.exit_code == 0, result.output
    assert _base_url(app) == "http://192.168.1.20:8080"
    assert "Giữ địa chỉ trang thông tin đã đặt" in result.output


def test_init_db_keeps_an_address_set_by_an_admin(app, runner):
    runner.invoke(args=["init-db"])
    _set_base(app, "https://thutuc.example.gov.vn")
    result = runner.invoke(args=["init-db", "--base-url", "http://127.0.0.1:5000"])
    assert result.exit_code == 0, result.output
    assert _base_url(app) == "https://thutuc.example.gov.vn"


def test_init_db_refuses_a_base_url_that_is_not_a_web_address(app, runner):
    result = runner.invoke(args=["init-db", "--demo-if-empty", "--base-url", "127.0.0.1:5000"])
    assert result.exit_code == 1
    assert "base_url" in result.output
    assert "không tạo được mã QR" in result.output
    assert _base_url(app) == DEMO_DEFAULT  # unchanged


def test_settings_page_warns_while_the_base_url_is_local(staff_app, login_as):
    _set_base(staff_app, "http://127.0.0.1:5000")
    admin = login_as("admin")
    page = admin.get("/staff/admin/settings")
    assert "là địa chỉ của chính máy chủ" in page.text
    response = submit(admin, page, "", base_url="https://thutuc.example.gov.vn")
    assert response.status_code == 302
    assert "địa chỉ của chính máy chủ" not in admin.get("/staff/admin/settings").text


def test_printing_says_so_while_the_base_url_is_private(app, client, make_procedure):
    _set_base(app, "http://192.168.1.20:5000")
    make_procedure(code="1.000201")
    sheet = client.get("/thu-tuc/1.000201/in").text
    assert "là địa chỉ mạng nội bộ" in sheet  # for staff, on the screen view
    pdf = client.get("/thu-tuc/1.000201.pdf").data
    paper = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Lưu ý: địa chỉ nội bộ" in paper
    _set_base(app, "https://thutuc.example.gov.vn")
    assert "địa chỉ nội bộ" not in client.get("/thu-tuc/1.000201/in").text
