"""On a real 360 px phone: the summary box of the longest demo procedure fits the first screen,
and words, dates and codes are never broken mid-syllable."""

import json

import pytest

from services.catalogue.transfer import DEMO_CATALOGUE

pytestmark = pytest.mark.browser

FIRST_SCREEN = 640

# For every match of `pattern` in the text under `selector`: on how many lines it is drawn.
LINES = """([selector, pattern]) => {
  const out = [];
  for (const element of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(new RegExp(pattern, 'gu'))) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()]
          .filter(r => r.width > 0).map(r => Math.round(r.top)));
        out.push([match[0], tops.size]);
      }
    }
  }
  return out;
}"""


def _longest_code() -> str:
    document = json.loads(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    published = [p for p in document["procedures"] if p["status"] == "published"]
    return max(published, key=lambda p: len(json.dumps(p, ensure_ascii=False)))["code"]


def _on_one_line(page, selector: str, pattern: str) -> list:
    found = page.evaluate(LINES, [selector, pattern])
    assert found, f"nothing matched {pattern!r} in {selector!r}"
    return [(text, lines) for text, lines in found if lines != 1]


def test_the_summary_box_fits_the_first_screen_of_a_phone(phone, live_demo):
    code = _longest_code()
    phone.goto(f"{live_demo}/thu-tuc/{code}")
    box = phone.locator(".summary")
    bottom = box.bounding_box()["y"] + box.bounding_box()["height"]
    assert bottom <= FIRST_SCREEN, f"the summary box of {code} ends at {bottom:.0f} px"
    text = box.inner_text()
    for label in ("Thời hạn", "Phí, lệ phí", "Nơi nộp", "Trực tuyến", "Kết quả"):
        assert label in text
    # It comes before the metadata.
    metadata = phone.locator("#thong-tin").bounding_box()["y"]
    assert metadata > bottom
    link = box.locator("a.online-link")
    assert link.inner_text() == "Nộp trực tuyến"
    assert link.get_attribute("href").startswith("https://")
    assert (
        box.locator("a.map-link")
        .get_attribute("href")
        .startswith("https://www.openstreetmap.org/search?query=")
    )


def test_no_word_is_broken_mid_syllable_on_a_phone(phone, live_demo):
    phone.goto(live_demo + "/")
    assert _on_one_line(phone, ".search-box button", r"Tìm") == []

    phone.goto(f"{live_demo}/thu-tuc/{_longest_code()}")
    assert _on_one_line(phone, "table.legal, .procedure-footer", r"\d{2}/\d{2}/\d{4}") == []
    assert _on_one_line(phone, "table.channels th", r"Trực tiếp") == []
    assert _on_one_line(phone, ".procedure-kicker .code, .facts .code", r"[0-9A-Za-z.\-]+") == []

    phone.goto(live_demo + "/tim-kiem")
    assert _on_one_line(phone, ".procedure-meta .code", r"[0-9A-Za-z.\-]+") == []


def test_the_filters_are_reached_from_the_top_of_the_results(phone, live_demo):
    phone.goto(live_demo + "/tim-kiem?q=giấy phép")
    jump = phone.locator("a.filter-jump")
    top = jump.bounding_box()["y"]
    assert top < FIRST_SCREEN
    assert phone.locator(".facets").bounding_box()["y"] > 2 * FIRST_SCREEN  # after the results
    jump.click()
    phone.wait_for_function("() => location.hash === '#facets-title'")
    assert (
        phone.evaluate("() => document.querySelector('#facets-title').getBoundingClientRect().top")
        < 50
    )


def test_tab_from_the_top_of_the_home_page_reaches_the_skip_link_first(phone, live_demo):
    phone.goto(live_demo + "/")
    assert phone.evaluate("() => document.activeElement === document.body")  # nothing autofocused
    phone.keyboard.press("Tab")
    assert phone.evaluate("() => document.activeElement.className") == "skip-link"
