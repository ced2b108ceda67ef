"""A real browser on a 360 px phone: home → agency → procedure, nothing wider than the screen."""

import pytest

pytestmark = pytest.mark.browser

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .map(el => el.tagName + '.' + el.className);
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


def _assert_fits(page):
    result = page.evaluate(OVERFLOW)
    assert result["scroll"] <= result["width"], result
    assert result["wide"] == [], result


def test_home_to_agency_to_procedure_on_a_phone(phone, live_demo):
    phone.goto(live_demo + "/")
    assert phone.locator("h1").first.inner_text() == "Tra cứu thủ tục hành chính"
    _assert_fits(phone)

    phone.click("text=Sơ đồ các cơ quan")
    phone.wait_for_url("**/co-quan")
    _assert_fits(phone)
    phone.locator(".agency-tree .agency-tree li:has(> .count) > a").first.click()
    phone.wait_for_url("**/co-quan/*")
    assert phone.locator("h2#procedures").count() == 1
    _assert_fits(phone)

    phone.locator("a.procedure-link").first.click()
    phone.wait_for_url("**/thu-tuc/*")
    assert phone.locator("#cach-thuc-h").inner_text() == "Cách thức thực hiện"
    _assert_fits(phone)


def test_every_procedure_fits_a_phone(phone, live_demo):
    phone.goto(live_demo + "/tim-kiem")
    codes = []
    while True:
        codes += [a.get_attribute("href") for a in phone.locator("a.procedure-link").all()]
        following = phone.locator("a[rel=next]")
        if not following.count():
            break
        following.click()
        phone.wait_for_load_state()
    assert len(codes) >= 60
    for href in codes:
        phone.goto(live_demo + href)
        _assert_fits(phone)


def test_search_box_submits(phone, live_demo):
    phone.goto(live_demo + "/")
    phone.fill("#q", "khai sinh")
    phone.press("#q", "Enter")
    phone.wait_for_url("**/tim-kiem?q=*")
    assert "khai sinh" in phone.locator("h1").inner_text()
    assert phone.locator("a.procedure-link").count() >= 1
