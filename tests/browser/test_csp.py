"""The Content-Security-Policy in a real browser: no page kind, public or staff, with its
scripts at work (suggestions as you type, the editor's row buttons), breaks a rule of it. A
violation shows as a `securitypolicyviolation` event and a console message; both are
collected, and a page with inline code shows that they would be seen."""

from __future__ import annotations

import re

import pytest

from tests.helpers import STAFF_PASSWORD

pytestmark = pytest.mark.browser

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__csp.push(event.violatedDirective + " " + event.blockedURI);
});
"""


class Watched:
    """A browser page that keeps every CSP violation of every document it loads."""

    def __init__(self, page):
        self.page = page
        self.seen: list[str] = []
        page.on(
            "console",
            lambda message: (
                self.seen.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.collect()

    def collect(self) -> None:
        """Add the violations the current document reported (its events)."""
        self.seen.extend(f"{self.page.url}: {v}" for v in self.page.evaluate("window.__csp"))
        self.page.evaluate("window.__csp = []")


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="vi-VN")
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH)
    yield Watched(context.new_page())
    context.close()


def test_the_watch_sees_inline_code(watched, live_demo, demo_app):
    demo_app.add_url_rule(
        "/thu-ma-nhung",
        "inline",
        lambda: '<p onclick="1" style="color:red">x</p><script>document.title = "x";</script>',
    )
    watched.visit(live_demo + "/thu-ma-nhung")
    assert watched.page.title() != "x"
    assert any("script-src" in v for v in watched.seen)
    assert any("style-src" in v for v in watched.seen)


def _first_link(page, prefix: str) -> str:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return next(h for h in hrefs if re.match(prefix + r"[^/]+$", h))


def test_no_public_page_breaks_the_policy(watched, live_demo):
    base, page = live_demo, watched.page
    watched.visit(base + "/")
    page.locator("input[name=q]").first.press_sequentially("khai sinh", delay=30)
    page.locator("[role=listbox] [role=option]").first.wait_for()
    watched.collect()
    watched.visit(base + "/co-quan")
    watched.visit(base + _first_link(page, "/co-quan/"))
    watched.visit(base + "/linh-vuc")
    watched.visit(base + _first_link(page, "/linh-vuc/"))
    for url in (
        "/thu-tuc/1.001193",
        "/thu-tuc/1.001193/in",
        "/tim-kiem?q=khai+sinh&sort=name",
        "/tim-kiem?page=0",
        "/khong-co",
        "/staff/login",
    ):
        watched.visit(base + url)
    assert page.locator("link[rel=stylesheet]").count() >= 1
    assert watched.seen == []


def test_no_staff_page_breaks_the_policy(watched, live_staff):
    base, page = live_staff, watched.page
    watched.visit(base + "/staff/login")
    page.get_by_label("Tên đăng nhập").fill("admin")
    page.get_by_label("Mật khẩu").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/staff/")
    watched.collect()

    watched.visit(base + "/staff/procedures/1.000001/edit")
    steps = page.locator('.rows[data-group="steps"] > [data-row]')
    count = steps.count()
    page.get_by_role("button", name="Thêm bước").click()
    assert steps.count() == count + 1  # the script ran
    page.locator(f'button[value="remove:steps:{count}"]').click()
    assert steps.count() == count
    watched.collect()
    for url in (
        "/staff/",
        "/staff/procedures/new",
        "/staff/procedures/1.000001",
        "/staff/procedures/1.000001/history",
        "/staff/procedures/1.000001/preview",
        "/staff/activity",
        "/staff/password",
        "/staff/admin/users",
        "/staff/admin/users/new",
        "/staff/admin/agencies",
        "/staff/admin/agencies/phong-a",
        "/staff/admin/fields",
        "/staff/admin/settings",
        "/staff/admin/synonyms",
    ):
        watched.visit(base + url)
    assert watched.seen == []
