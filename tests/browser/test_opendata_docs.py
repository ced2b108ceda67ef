"""The API docs page in a real browser under a strict Content-Security-Policy (no inline
script, no eval, nothing from outside): Swagger UI from static files renders every operation
of the OpenAPI description."""

import pytest
import requests

from tests.browser.conftest import serve

pytestmark = pytest.mark.browser

STRICT = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"


@pytest.fixture
def live_strict(demo_app):
    """The demo served with a strict CSP on every response."""

    @demo_app.after_request
    def strict(response):
        response.headers["Content-Security-Policy"] = STRICT
        return response

    yield from serve(demo_app)


def test_the_docs_page_renders_under_a_strict_csp(phone, live_strict):
    blocked = []
    phone.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    phone.goto(live_strict + "/api/v1/docs")
    phone.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = phone.locator(".opblock-summary-path").all_inner_texts()
    described = requests.get(live_strict + "/api/v1/openapi.json", timeout=10).json()["paths"]
    assert {p.strip().replace("\u200b", "") for p in paths} == set(described)
    assert {"/procedures", "/procedures/{code}", "/journeys/{slug}"} <= set(described)
    assert "API thủ tục hành chính" in phone.locator(".title").first.inner_text()
    assert blocked == []
