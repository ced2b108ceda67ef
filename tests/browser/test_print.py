"""Ctrl+P in a real browser: the procedure page prints as clean paper through print.css."""

import io

import pytest
from pypdf import PdfReader

from services.catalogue import queries

pytestmark = pytest.mark.browser


@pytest.fixture
def paper(browser):
    """A desktop-sized page that renders as the browser does when printing."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.emulate_media(media="print")
    yield page
    context.close()


def test_printing_a_procedure_page_keeps_the_procedure_only(paper, live_demo, demo_app):
    with demo_app.app_context():
        procedure = queries.get_procedure("1.001193")
        name, items = procedure.name, len(procedure.dossier)
    paper.goto(live_demo + "/thu-tuc/1.001193")
    for hidden in (".site-nav", "form[role=search]", ".site-footer", ".print-links", ".toc"):
        assert not paper.locator(hidden).is_visible(), hidden
    assert paper.locator(".tick-box:visible").count() == items  # the dossier as a checklist
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(paper.pdf())).pages]
    text = " ".join(" ".join(pages).split())
    assert name in text
    assert f"Trang 1/{len(pages)}" in text
    for gone in ("Tất cả thủ tục", "Tìm thủ tục", "Tải danh mục thủ tục (CSV)"):
        assert gone not in text


def test_print_view_offers_the_pdf_and_the_way_back(browser, live_demo):
    page = browser.new_page(locale="vi-VN")
    page.goto(live_demo + "/thu-tuc/1.001193/in")
    assert page.locator("a:has-text('Tải bản PDF')").get_attribute("href") == (
        "/thu-tuc/1.001193.pdf"
    )
    assert page.locator("a:has-text('Về trang thủ tục')").is_visible()
    assert page.locator(".sheet-qr img").is_visible()
    assert page.locator(".site-nav").count() == 0
    page.close()
