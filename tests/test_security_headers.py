"""Security headers on every kind of response (services/views/headers.py): pages, the API,
PDFs, CSV, uploaded files, static files, errors, staff pages; HSTS only over HTTPS as
`request.is_secure` sees it; and pages that need no inline script or style for that CSP."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import make_app, submit

PUBLIC = [
    "/",
    "/co-quan",
    "/co-quan/phong-a",
    "/linh-vuc",
    "/thu-tuc/1.000001",
    "/tim-kiem?q=khai+sinh",
    "/tim-kiem?page=0",  # a 400 page
    "/thu-tuc/1.000001/in",
    "/thu-tuc/1.000001.pdf",
    "/thu-tuc.csv",
    "/api/v1/procedures?q=a",
    "/api/v1/suggest?q=kh",
    "/api/v1/khong-co",
    "/static/css/site.css",
    "/static/js/staff.js",
    "/khong-co",
    "/staff/login",
    "/staff/",  # the redirect to the login page
]
STAFF = [
    "/staff/",
    "/staff/procedures/1.000001/edit",
    "/staff/procedures/1.000001/history",
    "/staff/admin/users",
    "/staff/admin/settings",
]


def _check(response) -> None:
    headers = response.headers
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    if response.mimetype == "application/pdf":
        # Chrome's PDF viewer is a plugin page with inline styles under the PDF's policy.
        assert csp.keys() == {"frame-ancestors", "base-uri", "form-action"}
    else:
        assert csp["script-src"] == "'self'"
        assert csp["style-src"] == "'self'"
        assert csp["object-src"] == "'none'"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP


@pytest.fixture
def app(staff_app):
    return staff_app


@pytest.mark.parametrize("url", PUBLIC)
def test_every_kind_of_public_response_has_the_headers(client, url):
    response = client.get(url)
    assert response.status_code < 500
    assert (response.mimetype == "application/pdf") == url.endswith(".pdf")
    _check(response)


def test_staff_pages_and_an_uploaded_file_have_the_headers(login_as):
    client = login_as("editor")
    for url in STAFF:
        _check(client.get(url))
    page = client.get("/staff/procedures/1.000001/edit")
    files = {"dossier-0-template_upload": (io.BytesIO(b"%PDF-1.4 mau"), "to-khai.pdf")}
    response = submit(client, page, files=files, action="save")
    assert response.status_code == 302
    stored = client.get("/staff/procedures/1.000001/edit").text.split("/tep-mau/")[1].split('"')[0]
    download = client.get(f"/tep-mau/{stored}")
    assert download.status_code == 200
    _check(download)


def test_an_unexpected_error_page_has_the_headers(app):
    def broken():
        raise RuntimeError("hỏng")

    app.add_url_rule("/hong", "broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/hong")
    assert response.status_code == 500
    _check(response)


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_behind_a_proxy_follows_the_trusted_forwarded_scheme(staff_app):
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"}
    # Not behind a proxy: anyone can send that header, and it proves nothing.
    assert (
        "Strict-Transport-Security" not in staff_app.test_client().get("/", headers=https).headers
    )
    proxied = make_app(Path(staff_app.instance_path), TRUSTED_PROXIES=1)
    response = proxied.test_client().get("/", headers=https)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in proxied.test_client().get("/").headers


class _InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block in a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=…>")
        if tag == "script" and "src" not in names and names.get("type") != "application/ld+json":
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        if "javascript:" in (names.get("href") or ""):
            self.found.append(f"<{tag} href=javascript:…>")


def _inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def test_the_inline_check_sees_inline_code():
    html = '<p style="x" onclick="y"></p><script>1</script><script type="application/ld+json">'
    assert _inline_code(html) == ["<p style=…>", "<p onclick=…>", "<script> without src"]


def test_no_page_needs_inline_script_or_style(client, login_as):
    pages = {url: client.get(url) for url in PUBLIC}
    staff = login_as("admin")
    pages.update({url: staff.get(url) for url in [*STAFF, "/staff/procedures/1.000001"]})
    found = {
        url: _inline_code(response.text)
        for url, response in pages.items()
        if response.mimetype == "text/html"
    }
    assert len(found) > 15
    assert {url: items for url, items in found.items() if items} == {}
