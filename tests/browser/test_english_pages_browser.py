"""The public pages in a real browser, in English (locale en-US, `?lang=en`) and in Vietnamese
(vi-VN, `?lang=vi`), at 360 and 1280 px: no WCAG A/AA violation that axe-core finds, no
syllable or number broken across two lines, nothing wider than the screen; and, on the real
imported catalogue where nobody wrote English, the Vietnamese shown marked, never an empty
field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import serve
from tests.browser.test_public_pages import _assert_fits
from tests.test_english_pages import compiled, english_available  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

WCAG_A_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PAGES = (
    "/",
    "/co-quan",
    "/co-quan/so-noi-vu-thai-binh",
    "/linh-vuc",
    "/linh-vuc/viec-lam",
    "/thu-tuc/1.000105",  # translated
    "/thu-tuc/1.001193",  # not translated: the Vietnamese, marked
    "/tim-kiem?q=work+permit",
)

# Each word of the page's text (a Vietnamese syllable, an English word, a number) must sit on
# one line: a Range over it has one box per line it covers.
BROKEN_WORDS = r"""() => {
  const word = /[\p{L}\p{N}][\p{L}\p{N}.,]*/gu;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const broken = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, .visually-hidden, [hidden]')) continue;
    for (const match of node.data.matchAll(word)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].replace(/[.,]+$/, '').length);
      const lines = new Set([...range.getClientRects()]
        .filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken.slice(0, 10);
}"""


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def _page(browser, width: int, locale: str) -> Iterator:
    context = browser.new_context(viewport={"width": width, "height": 800}, locale=locale)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(params=[360, 1280], ids=["360px", "1280px"])
def english(browser, request) -> Iterator:
    """A page of the given width whose browser asks for English."""
    yield from _page(browser, request.param, "en-US")


@pytest.fixture(params=[360, 1280], ids=["360px", "1280px"])
def vietnamese(browser, request) -> Iterator:
    """A page of the given width whose browser asks for Vietnamese."""
    yield from _page(browser, request.param, "vi-VN")


def _check(page, axe: Axe, language: str = "en") -> None:
    assert page.locator("html").get_attribute("lang") == language
    violations = axe.run(page, options=WCAG_A_AA).response["violations"]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
    assert page.evaluate(BROKEN_WORDS) == []
    _assert_fits(page)


def test_english_pages_are_accessible_and_break_no_word(english, live_demo, axe):
    for path in PAGES:
        separator = "&" if "?" in path else "?"
        english.goto(f"{live_demo}{path}{separator}lang=en")
        _check(english, axe)
    english.goto(live_demo + "/thu-tuc/1.000105?lang=en")
    heading = english.locator("h1")
    assert heading.locator('span[lang="en"]').inner_text() == (
        "Work permit for a foreign worker in Vietnam"
    )
    assert heading.locator('span.original[lang="vi"]').is_visible()


def test_vietnamese_pages_are_accessible_and_break_no_syllable(vietnamese, live_demo, axe):
    for path in (*PAGES[:-1], "/tim-kiem?q=giấy+phép+xây+dựng"):
        separator = "&" if "?" in path else "?"
        vietnamese.goto(f"{live_demo}{path}{separator}lang=vi")
        _check(vietnamese, axe, "vi")


@pytest.fixture
def live_real(portal_app) -> Iterator[str]:
    """The real catalogue (set (a) imported), served over HTTP."""
    yield from serve(portal_app)


def test_real_procedure_in_english_shows_the_vietnamese_marked(english, live_real, axe):
    english.goto(live_real + "/thu-tuc/1.000080?lang=en")
    _check(english, axe)
    heading = english.locator("h1")
    assert heading.locator('span[lang="vi"]').inner_text().strip()
    assert heading.locator(".untranslated").inner_text() == "(Vietnamese only)"
    # No field of the page is left empty for want of English.
    empty = english.evaluate(
        "() => [...document.querySelectorAll('main h1, main h2, main dd, main li, main .lead')]"
        ".filter(el => !el.textContent.trim() && !el.querySelector('img, input')).length"
    )
    assert empty == 0
