"""A real browser: a publisher logs in, changes a procedure's time limit in the editor (using
the editor's script to add and remove a row), publishes, and finds the new value on the public
page and through the search page."""

from __future__ import annotations

import pytest

from tests.helpers import STAFF_PASSWORD

pytestmark = pytest.mark.browser

P = "/staff/procedures/1.000001"


def test_edit_publish_and_find_the_new_time_limit(live_staff, desktop):
    base, page = live_staff, desktop
    page.goto(f"{base}/staff/login")
    page.get_by_label("Tên đăng nhập").fill("publisher")
    page.get_by_label("Mật khẩu").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/staff/")

    page.goto(f"{base}{P}/edit")
    # The script adds and removes rows in the page, without a round trip.
    steps = page.locator('.rows[data-group="steps"] > [data-row]')
    assert steps.count() == 2
    page.get_by_role("button", name="Thêm bước").click()
    assert steps.count() == 3
    assert page.url == f"{base}{P}/edit"
    page.locator("#steps-2-text").fill("Bước sẽ bị xóa")
    page.locator('button[value="remove:steps:2"]').click()
    assert steps.count() == 2

    page.locator("#channels-0-time_limit_value").fill("7")
    page.locator("#channels-0-time_limit_text").fill("07 ngày làm việc")
    page.locator("#note").fill("Rút ngắn thời hạn")
    page.locator('.editor-save button[value="save"]').click()
    page.wait_for_url(f"{base}{P}")
    assert "Đã lưu." in page.content()

    public = page.context.new_page()
    public.goto(f"{base}/thu-tuc/1.000001")
    assert "7 ngày làm việc" not in public.content()

    page.get_by_role("button", name="Công bố", exact=True).click()
    page.wait_for_url(f"{base}{P}")
    assert "Đã công bố" in page.content()

    public.goto(f"{base}/thu-tuc/1.000001")
    assert "7 ngày làm việc" in public.locator("#cach-thuc").inner_text()

    name = public.locator("h1").inner_text()
    public.goto(f"{base}/tim-kiem?q={name}")
    public.get_by_role("link", name=name).first.click()
    public.wait_for_url(f"{base}/thu-tuc/1.000001")
    assert "7 ngày làm việc" in public.locator("#cach-thuc").inner_text()
