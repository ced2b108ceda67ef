"""The English interface as visitors, staff and the command line meet it: chosen by `?lang=`,
remembered in a cookie, negotiated from Accept-Language, Vietnamese otherwise; the switch,
`lang`, hreflang and Vary; error pages, the CSRF refusal, JSON errors and CLI messages.

The apps here read the English catalogue compiled from translations/en/…/messages.po into a
temporary folder, so they test the catalogue as it is in the tree, compiled or not."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from services.db import create_schema
from tests.helpers import STAFF_PASSWORD, close_app, make_app, submit
from tests.test_printing import ready_booklet

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A translations folder with the English catalogue compiled from the .po."""
    folder = tmp_path_factory.mktemp("translations")
    target = folder / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with PO.open("rb") as po, (target / "messages.mo").open("wb") as mo:
        write_mo(mo, read_po(po, locale="en"))
    return folder


@pytest.fixture(autouse=True)
def english_available(compiled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app these tests make (the shared fixtures' too) reads that folder."""
    monkeypatch.setenv("TTHC_BABEL_TRANSLATION_DIRECTORIES", str(compiled))


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)">', html).group(1)


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _alternates(html: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))


# --- choosing the language ----------------------------------------------------------------------


def test_home_page_in_english_with_lang_en(demo_client: FlaskClient):
    response = demo_client.get("/?lang=en")
    assert response.status_code == 200
    assert _lang(response.text) == "en"
    assert "Look up administrative procedures" in response.text
    assert "Skip to the main content" in response.text
    assert "Tra cứu thủ tục hành chính" not in response.text
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    # The switch: both languages as plain links on this page, the current one marked.
    name = '<span class="language-name">{}</span></a>'
    vietnamese = '<a href="/?lang=vi" hreflang="vi" lang="vi">' + name.format("Tiếng Việt")
    assert vietnamese in response.text
    assert '<a href="/?lang=en" aria-current="true" lang="en">' + name.format("English") in (
        response.text
    )


def test_vietnamese_without_any_choice(demo_client: FlaskClient):
    response = demo_client.get("/")
    assert _lang(response.text) == "vi"
    assert "Tra cứu thủ tục hành chính" in response.text
    assert "Set-Cookie" not in response.headers
    switch = '<a href="/?lang=en" hreflang="en" lang="en"><span class="language-name">English'
    assert switch in response.text


def test_the_choice_is_remembered_and_can_be_changed_back(demo_client: FlaskClient):
    client = demo_client
    first = client.get("/linh-vuc?lang=en")
    assert "lang=en" in first.headers["Set-Cookie"]
    assert "SameSite=Lax" in first.headers["Set-Cookie"]
    assert _lang(client.get("/").text) == "en"
    assert _lang(client.get("/tim-kiem?q=khai+sinh").text) == "en"
    back = client.get("/?lang=vi")
    assert _lang(back.text) == "vi"
    assert "lang=vi" in back.headers["Set-Cookie"]
    assert _lang(client.get("/").text) == "vi"


def test_accept_language_english_and_what_overrides_it(demo_client: FlaskClient):
    client = demo_client
    assert _lang(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).text) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "fr, en;q=0.5"}).text) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "fr, de"}).text) == "vi"
    client.get("/?lang=vi")  # the cookie now says Vietnamese
    assert _lang(client.get("/", headers={"Accept-Language": "en"}).text) == "vi"
    assert _lang(client.get("/?lang=en", headers={"Accept-Language": "vi"}).text) == "en"


def test_an_unknown_language_is_ignored(demo_client: FlaskClient):
    client = demo_client
    response = client.get("/?lang=xx")
    assert response.status_code == 200
    assert _lang(response.text) == "vi"
    assert "Set-Cookie" not in response.headers
    client.set_cookie("lang", "<script>")
    assert _lang(client.get("/", headers={"Accept-Language": "en"}).text) == "en"


def test_the_switch_keeps_the_page_and_its_query(demo_client: FlaskClient):
    response = demo_client.get("/tim-kiem?q=khai+sinh&sort=name&lang=en")
    assert 'href="/tim-kiem?q=khai+sinh&amp;sort=name&amp;lang=vi"' in response.text
    assert "Results for “khai sinh”" in response.text


# --- lang, hreflang, canonical ------------------------------------------------------------------


def test_procedure_page_in_english_with_hreflang_under_the_base_url(demo_client: FlaskClient):
    response = demo_client.get("/thu-tuc/1.001193?lang=en")
    assert response.status_code == 200
    html = response.text
    assert _lang(html) == "en"
    for english in ("Time limit for processing", "Dossier", "Legal basis", "1 working day"):
        assert english in html
    assert "Thời hạn giải quyết" not in html
    assert _alternates(html) == {
        "vi": "http://127.0.0.1:5000/thu-tuc/1.001193?lang=vi",
        "en": "http://127.0.0.1:5000/thu-tuc/1.001193?lang=en",
        "x-default": "http://127.0.0.1:5000/thu-tuc/1.001193",
    }
    # Each language's page is its own canonical, beside the alternates.
    assert '<link rel="canonical" href="http://127.0.0.1:5000/thu-tuc/1.001193?lang=en">' in html
    assert '<meta property="og:locale" content="en_GB">' in html


def test_hreflang_is_relative_without_a_base_url(client: FlaskClient):
    html = client.get("/co-quan?lang=en").text
    assert _alternates(html) == {
        "vi": "/co-quan?lang=vi",
        "en": "/co-quan?lang=en",
        "x-default": "/co-quan",
    }
    assert '<link rel="canonical" href="/co-quan?lang=en">' in html


def test_procedure_pdf_in_english(demo_client: FlaskClient):
    response = demo_client.get("/thu-tuc/1.001193/in?lang=en")
    assert response.status_code == 200
    assert _lang(response.text) == "en"
    assert "Scan the code for the latest version" in response.text


def test_booklets_are_built_in_the_language_asked_for(demo_client: FlaskClient):
    url = "/linh-vuc/bao-tro-xa-hoi/so-tay.pdf"
    waiting = demo_client.get(url + "?lang=en")
    assert waiting.status_code == 202
    assert "Preparing the handbook…" in waiting.text
    english = ready_booklet(demo_client, url + "?lang=en")
    assert english.mimetype == "application/pdf"
    assert "so-tay-linh-vuc-bao-tro-xa-hoi_en.pdf" in english.headers["Content-Disposition"]
    text = _pdf_text(english.data)
    for words in ("HANDBOOK OF ADMINISTRATIVE", "Contents", "Printed at", "Page 2/"):
        assert words in text
    assert "Trang 2/" not in text
    # The Vietnamese booklet is another file, built apart, not the English one from the cache.
    vietnamese = ready_booklet(demo_client, url + "?lang=vi")
    assert "so-tay-linh-vuc-bao-tro-xa-hoi.pdf" in vietnamese.headers["Content-Disposition"]
    text = _pdf_text(vietnamese.data)
    assert "Mục lục" in text
    assert "Trang 2/" in text


# --- errors -------------------------------------------------------------------------------------


def test_not_found_page_in_english(demo_client: FlaskClient):
    response = demo_client.get("/khong-co-trang-nay?lang=en")
    assert response.status_code == 404
    assert _lang(response.text) == "en"
    assert "Page not found" in response.text
    assert "Không tìm thấy trang" not in response.text
    assert 'href="/khong-co-trang-nay?lang=vi"' in response.text
    assert _alternates(response.text) == {}  # no page here to have alternates


def test_unknown_procedure_message_in_english(demo_client: FlaskClient):
    response = demo_client.get("/thu-tuc/9.999999", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "No procedure with the code “9.999999” was found." in response.text


def test_api_errors_follow_the_language(demo_client: FlaskClient):
    client = demo_client
    english = client.get("/api/v1/procedures?per_page=0", headers={"Accept-Language": "en"})
    assert english.status_code == 400
    assert english.json["error"] == "per_page must be between 1 and 100."
    assert {"Accept-Language", "Cookie"} <= set(english.vary)
    vietnamese = client.get("/api/v1/procedures?per_page=0")
    assert vietnamese.json["error"] == "per_page phải từ 1 đến 100."


def test_csrf_refusal_in_english(login_as: Callable[[str], FlaskClient]):
    client = login_as("anonymous")
    response = client.post(
        "/staff/login?lang=en", data={"username": "admin", "password": STAFF_PASSWORD}
    )
    assert response.status_code == 400
    assert "security code (CSRF) is missing or wrong" in response.text
    assert _lang(response.text) == "en"


# --- the staff area -----------------------------------------------------------------------------


def test_staff_pages_in_english(login_as: Callable[[str], FlaskClient]):
    client = login_as("anonymous")
    page = client.get("/staff/login?lang=en")
    assert "Log in to the staff area" in page.text
    wrong = submit(client, page, username="admin", password="sai")
    assert "Wrong username or password." in wrong.text
    assert submit(client, page, username="admin", password=STAFF_PASSWORD).status_code == 302
    dashboard = client.get("/staff/")
    assert _lang(dashboard.text) == "en"
    for english in ("Procedures of the agencies you are responsible for", "Log out", "Accounts"):
        assert english in dashboard.text
    assert {"Accept-Language", "Cookie"} <= set(dashboard.vary)
    assert dashboard.headers["Cache-Control"] == "no-store"


# --- without a compiled catalogue, and the command line -----------------------------------------


def test_a_language_without_a_compiled_catalogue_is_not_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    empty = tmp_path / "no-translations"
    empty.mkdir()
    monkeypatch.setenv("TTHC_BABEL_TRANSLATION_DIRECTORIES", str(empty))
    application = make_app(tmp_path / "instance")
    assert "no compiled catalogue for 'en'" in caplog.text
    with application.app_context():
        create_schema()
    response = application.test_client().get("/?lang=en")
    close_app(application)
    assert _lang(response.text) == "vi"
    assert "language-switch" not in response.text
    assert "hreflang" not in response.text


def test_cli_messages_in_english_with_tthc_language(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TTHC_LANGUAGE", "en")
    runner = request.getfixturevalue("demo_app").test_cli_runner()  # made with it set
    out = tmp_path / "list.csv"
    result = runner.invoke(args=["export-csv", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}." in result.output
    refused = runner.invoke(args=["print-booklet", str(tmp_path / "b.pdf")])
    assert refused.exit_code != 0
    assert "Give exactly one of --agency or --field." in refused.output


def test_cli_messages_in_vietnamese_by_default(demo_app: Flask, tmp_path: Path):
    out = tmp_path / "list.csv"
    result = demo_app.test_cli_runner().invoke(args=["export-csv", str(out)])
    assert f"Đã ghi {out}." in result.output


def test_print_booklets_ahead_of_time_in_english(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TTHC_LANGUAGE", "en")
    application = request.getfixturevalue("demo_app")
    result = application.test_cli_runner().invoke(
        args=["print-booklets", "--agency", "so-tai-chinh-thai-binh"]
    )
    assert result.exit_code == 0, result.output
    assert "co-quan-so-tai-chinh-thai-binh_en: built" in result.output
    # The web serves that English booklet at once, from the cache.
    client = application.test_client()
    english = client.get("/co-quan/so-tai-chinh-thai-binh/so-tay.pdf?lang=en")
    assert english.status_code == 200
    assert "Page 2/" in _pdf_text(english.data)
    vietnamese = "/co-quan/so-tai-chinh-thai-binh/so-tay.pdf?lang=vi"
    assert client.get(vietnamese).status_code == 202  # not built yet: another file
    assert "Trang 2/" in _pdf_text(ready_booklet(client, vietnamese).data)
