"""Who may keep a response, through the test client: public pages, a PDF, the CSV, feeds and API
GETs may be kept a short while by any cache (configurable) and vary with the language and the
cookie; a response that sets a cookie or shows a flash message is private; staff pages are
never stored; a search with words (an entry of the search log) and errors are not public."""

from __future__ import annotations

import pytest

from services.catalogue import queries

PUBLIC = [
    "/",
    "/co-quan",
    "/thu-tuc/{code}.pdf",
    "/thu-tuc.csv",
    "/thay-doi.atom",
    "/tim-kiem",
    "/api/v1/procedures",
    "/api/v1/procedures/{code}",
]
DEFAULT = "public, max-age=60, stale-while-revalidate=300"


@pytest.fixture
def code(demo_app):
    with demo_app.app_context():
        return queries.recent_procedures(1)[0].code


def _vary(response) -> set[str]:
    return {v.strip() for v in response.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("path", PUBLIC)
def test_public_responses_may_be_kept_briefly_by_any_cache(demo_client, code, path):
    path = path.format(code=code)
    first = demo_client.get(path)
    assert first.status_code == 200, path
    assert first.headers["Cache-Control"] == DEFAULT, path
    assert {"Accept-Language", "Cookie"} <= _vary(first), path
    assert "Set-Cookie" not in first.headers, path
    again = demo_client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304, path
    assert again.headers["Cache-Control"] == DEFAULT, path


def test_the_lifetime_is_configurable(demo_app, demo_client):
    demo_app.config["HTTP_CACHE_CONTROL"] = "public, max-age=5"
    assert demo_client.get("/co-quan").headers["Cache-Control"] == "public, max-age=5"


def test_a_signed_in_visitor_gets_private_pages(login_as):
    editor = login_as("editor")
    page = editor.get("/co-quan")
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"] == "private, no-cache"


def test_a_procedure_page_and_the_pages_after_it_stay_public(demo_client, code):
    # Its feedback form's token needs no session (forms/feedback.py): opening the page gives
    # the visitor no cookie, so neither it nor the visitor's next pages become personal.
    page = demo_client.get(f"/thu-tuc/{code}")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    assert "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"] == DEFAULT
    assert demo_client.get("/co-quan").headers["Cache-Control"] == DEFAULT
    again = demo_client.get(f"/thu-tuc/{code}", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304  # the token's date is not part of the page's ETag


def test_a_response_that_sets_a_cookie_is_private(demo_client, code):
    page = demo_client.get(f"/thu-tuc/{code}?lang=en")  # the language is remembered
    assert page.status_code == 200
    assert "Set-Cookie" in page.headers
    assert page.headers["Cache-Control"] == "private, no-cache"


def test_a_flash_message_is_private(staff_app):
    visitor = staff_app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("success", "Cảm ơn bạn đã góp ý.")]
    page = visitor.get("/co-quan")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-cache"


def test_a_search_with_words_is_not_kept_by_caches(demo_client):
    # Each is an entry of the search log, which a cached copy would never reach.
    for path in ("/tim-kiem?q=khai+sinh", "/api/v1/procedures?q=khai+sinh"):
        response = demo_client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-cache", path


def test_staff_pages_are_never_stored(login_as):
    editor = login_as("editor")
    assert editor.get("/staff/").headers["Cache-Control"] == "no-store"
    assert editor.get("/staff/login").headers["Cache-Control"] == "no-store"


def test_errors_are_not_public(demo_client):
    missing = demo_client.get("/thu-tuc/khong-co")
    assert missing.status_code == 404
    assert "public" not in missing.headers.get("Cache-Control", "")
    bad = demo_client.get("/api/v1/procedures?page=0")
    assert bad.status_code == 400
    assert "public" not in bad.headers.get("Cache-Control", "")
