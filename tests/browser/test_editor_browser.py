"""A real browser on the editor of a long procedure, on a 360 px phone and a 1280 px screen: the
Save button stays in view while the page scrolls, an index link brings its section into view,
and axe-core finds no WCAG A/AA violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.helpers import STAFF_PASSWORD, submit

pytestmark = pytest.mark.browser

P = "/staff/procedures/1.000001"
STEPS = 40
IN_VIEW = """selector => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
}"""
WCAG_A_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _make_long(login_as) -> None:
    """1.000001 with forty steps, saved through the editor."""
    editor = login_as("editor")
    page = editor.get(f"{P}/edit")
    steps = {f"steps__{i}__text": f"Bước thử số {i}: cán bộ kiểm tra hồ sơ." for i in range(STEPS)}
    assert submit(editor, page, "", **steps).status_code == 302


@pytest.mark.parametrize("width", [360, 1280])
def test_save_stays_in_view_and_the_index_scrolls(browser, live_staff, login_as, width):
    _make_long(login_as)
    context = browser.new_context(viewport={"width": width, "height": 740}, locale="vi-VN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_staff}/staff/login")
        page.get_by_label("Tên đăng nhập").fill("editor")
        page.get_by_label("Mật khẩu").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"{live_staff}/staff/")
        page.goto(f"{live_staff}{P}/edit")
        assert page.locator('.rows[data-group="steps"] > [data-row]').count() == STEPS

        save = '.editor-save button[value="save"]'
        for fraction in (0.5, 1.0):
            page.evaluate(f"window.scrollTo(0, document.body.scrollHeight * {fraction})")
            assert page.evaluate(IN_VIEW, save), fraction

        page.evaluate("window.scrollTo(0, 0)")
        page.locator('.editor-index a[href="#s-legal_bases"]').click()
        top = page.evaluate("document.getElementById('s-legal_bases').getBoundingClientRect().top")
        assert 0 <= top < 50
        assert page.evaluate(IN_VIEW, save)

        # The legend follows what is typed.
        page.locator("#steps-0-text").fill("Nộp hồ sơ tại Bộ phận một cửa")
        legend = page.locator('.rows[data-group="steps"] > [data-row] legend').first
        assert legend.inner_text() == "Bước 1: Nộp hồ sơ tại Bộ phận một cửa"

        # Related procedures are offered by name as one types (from the suggest API).
        page.get_by_role("button", name="Thêm thủ tục liên quan").click()
        page.locator("#related-0-code").press_sequentially("thủ tục thử")
        option = page.locator("#related-choices option").first
        option.wait_for(state="attached")
        offered = option.get_attribute("value")
        assert offered.startswith("1.00000")
        assert " — Thủ tục thử số " in offered

        results = Axe().run(page, options=WCAG_A_AA)
        assert results.violations_count == 0, results.generate_report()
    finally:
        context.close()
