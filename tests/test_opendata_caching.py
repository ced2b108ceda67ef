"""Conditional requests through the test client: pages, a PDF, the CSV, a feed and API responses
carry an ETag and are answered 304 Not Modified when the client already has them, 200 with the
new body once they change; staff pages are never stored by caches."""

from __future__ import annotations

import pytest

from services.catalogue import queries
from tests.helpers import submit

PUBLIC = [
    "/",
    "/co-quan",
    "/linh-vuc",
    "/thu-tuc/{code}",
    "/thu-tuc/{code}.pdf",
    "/thu-tuc.csv",
    "/thay-doi.atom",
    "/sitemap.xml",
    "/robots.txt",
    "/api/v1/procedures",
    "/api/v1/procedures/{code}",
    "/api/v1/changes",
    "/api/v1/openapi.json",
    "/api/v1/cpsv-ap.jsonld",
]


@pytest.fixture
def code(demo_app):
    with demo_app.app_context():
        return queries.recent_procedures(1)[0].code


@pytest.mark.parametrize("path", PUBLIC)
def test_an_unchanged_response_is_not_sent_again(demo_client, code, path):
    path = path.format(code=code)
    first = demo_client.get(path)
    assert first.status_code == 200, path
    etag = first.headers["ETag"]
    again = demo_client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304, path
    assert again.data == b""
    assert demo_client.get(path, headers={"If-None-Match": '"autre"'}).status_code == 200
    head = demo_client.head(path, headers={"If-None-Match": etag})
    assert head.status_code == 304, path


def test_a_changed_page_gets_a_new_etag(staff_app, login_as):
    public = staff_app.test_client()
    before = public.get("/thu-tuc/1.000001")
    publisher = login_as("publisher")
    page = publisher.get("/staff/procedures/1.000001/edit")
    assert submit(publisher, page, "", name="Tên đã đổi").status_code == 302
    page = publisher.get("/staff/procedures/1.000001")
    assert submit(publisher, page, "/staff/procedures/1.000001/publish").status_code == 302
    after = public.get("/thu-tuc/1.000001", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "Tên đã đổi" in after.text
    assert after.headers["ETag"] != before.headers["ETag"]


def test_errors_and_posts_are_not_made_conditional(demo_client):
    missing = demo_client.get("/thu-tuc/khong-co")
    assert missing.status_code == 404
    assert "ETag" not in missing.headers
    bad = demo_client.get("/api/v1/changes?since=x")
    assert bad.status_code == 400
    assert "ETag" not in bad.headers


def test_staff_pages_are_never_stored(login_as):
    editor = login_as("editor")
    for path in ("/staff/", "/staff/procedures/1.000001", "/staff/login"):
        response = editor.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "ETag" not in response.headers, path
