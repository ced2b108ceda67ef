"""Search in a real browser: suggestions as you type on a phone, the results page on 360 px,
and the same search with JavaScript off."""

import pytest

from tests.browser.test_public_pages import _assert_fits

pytestmark = pytest.mark.browser


def test_suggestions_as_you_type_lead_to_the_procedure(phone, live_demo):
    phone.goto(live_demo + "/linh-vuc")
    box = phone.locator("header input[type=search]")
    box.press_sequentially("giay phep xay", delay=30)
    options = phone.locator(".suggestions [role=option]")
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert "xây" in options.first.inner_text().lower()
    assert phone.locator(".suggestions mark").count() > 0
    _assert_fits(phone)
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    box.press("Enter")
    phone.wait_for_url("**/thu-tuc/*")
    assert "giấy phép xây dựng" in phone.locator("h1").inner_text().lower()


def test_results_page_on_a_phone_with_facets_and_sorting(phone, live_demo):
    phone.goto(live_demo + "/")
    phone.locator("main input[type=search]").fill("giấy phép")
    phone.locator("main input[type=search]").press("Enter")
    phone.wait_for_url("**/tim-kiem?q=*")
    assert phone.locator("ol.results li").count() > 0
    assert phone.locator("ol.results mark").count() > 0
    _assert_fits(phone)
    assert not phone.locator(".sort-form button").is_visible()  # the menu applies itself
    phone.select_option("#sort", "code")
    phone.wait_for_url("**sort=code*")
    phone.locator(".facets .facet-list a").first.click()
    phone.wait_for_url("**agency=*")
    assert phone.locator(".active-filters a").count() == 1
    _assert_fits(phone)


def test_search_works_without_javascript(browser, live_demo):
    context = browser.new_context(java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(live_demo + "/")
        page.locator("main input[type=search]").fill("khai sinh")
        page.locator("main form[role=search] button").click()
        page.wait_for_url("**/tim-kiem?q=*")
        assert page.locator("ol.results li").count() > 0
        assert page.locator(".suggestions").count() == 0
        page.select_option("#sort", "name")
        page.locator(".sort-form button").click()
        page.wait_for_url("**sort=name*")
        assert page.locator("ol.results li").count() > 0
    finally:
        context.close()
