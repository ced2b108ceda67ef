"""Odd input from outside never gives a 500 (services/inputs.py): integers in URLs, query
strings, form fields and row names; redirect targets after login; Host headers no URL can be
built from. The routes are read from the app's URL map, so a new route is covered as soon as
it exists."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from services.inputs import IdConverter
from tests.helpers import STAFF_PASSWORD, submit

# Too large for any database integer, negative, a superscript digit (str.isdigit says yes, int()
# says no), Arabic-Indic digits (int() reads them as 12), one past PostgreSQL's integer.
ODD_INTEGERS = [str(10**30), "-1", "²", "١٢", str(2**31)]
# A valid value for each other kind of URL argument of the staff fixture.
ARGUMENTS = {
    "code": "1.000001",
    "slug": "phong-a",
    "filename": "css/site.css",
    "name": "khong-co.pdf",
    "step": "submit",
}
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _path(rule, odd: str) -> str:
    """The rule's URL with `odd` for its integers and a valid value for the rest."""

    def value(match: re.Match) -> str:
        converter, name = match.groups()
        return odd if converter == "int" else ARGUMENTS.get(name, "x")

    return _ARGUMENT.sub(value, rule.rule)


def _rules(app: Flask, *, integers: bool):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if integers == any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


@pytest.fixture
def admin(staff_app, login_as):
    """An admin's client on an app that answers a 500 as a page instead of raising it."""
    staff_app.config["PROPAGATE_EXCEPTIONS"] = False
    return login_as("admin")


def test_every_integer_in_a_url_goes_through_the_bounded_converter(staff_app):
    rules = _rules(staff_app, integers=True)
    assert {r.endpoint for r in rules} >= {"editor.revision", "admin.user", "editor.restore"}
    converters = [
        c for r in rules for c in r._converters.values() if isinstance(c, IntegerConverter)
    ]
    assert all(isinstance(c, IdConverter) for c in converters)


@pytest.mark.parametrize("odd", ODD_INTEGERS)
def test_an_odd_integer_in_any_url_is_not_found(staff_app, admin, odd):
    answers = {}
    for rule in _rules(staff_app, integers=True):
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            answers[f"{method} {_path(rule, odd)}"] = admin.open(
                _path(rule, odd), method=method
            ).status_code
    assert answers
    # 405 where the path has one rule per method (the poll's page and its vote): Werkzeug
    # records the other method's rule as a match before the converter refuses the value.
    assert {url: code for url, code in answers.items() if code not in (404, 405)} == {}


def test_a_good_integer_in_a_url_still_reaches_its_page(admin):
    assert admin.get("/staff/admin/users/1").status_code == 200


@pytest.mark.parametrize("odd", [str(10**30), "-1", "١٢"])
def test_odd_numbers_in_the_query_string_of_any_page(staff_app, admin, odd):
    # With a base URL, so that the feeds, the sitemap and the export answer rather than 503.
    settings = admin.get("/staff/admin/settings")
    assert submit(admin, settings, "", base_url="https://tthc.example/").status_code == 302
    query = dict.fromkeys(("page", "per_page", "a", "b"), odd)
    answers = {}
    for rule in _rules(staff_app, integers=False):
        if "GET" in rule.methods:
            answers[_path(rule, "")] = admin.get(_path(rule, ""), query_string=query).status_code
    assert len(answers) > 20
    assert {url: code for url, code in answers.items() if code >= 500} == {}


def test_odd_page_numbers_are_a_clear_400_where_a_form_reads_them(admin):
    response = admin.get("/tim-kiem", query_string={"page": "١٢"})
    assert response.status_code == 400
    assert "Phải là số nguyên." in response.text or "Trang không hợp lệ." in response.text
    response = admin.get("/api/v1/procedures", query_string={"per_page": str(10**30)})
    assert response.status_code == 400
    assert response.json["status"] == 400
    response = admin.get("/staff/procedures/1.000001/diff", query_string={"a": "²", "b": "1"})
    assert response.status_code == 400
    assert "Cần chọn hai phiên bản để so sánh." in response.text


# --- row numbers and integers in the editor's form --------------------------------------------


@pytest.mark.parametrize("odd", ["²", "١٢", str(10**30)])
def test_a_row_field_with_an_odd_number_is_ignored(admin, odd):
    page = admin.get("/staff/procedures/1.000001/edit")
    response = submit(
        admin, page, **{f"steps-{odd}-text": "Bước lạ", "note": "thử", "action": "save"}
    )
    assert response.status_code == 302
    assert "Bước lạ" not in admin.get("/staff/procedures/1.000001/preview").text


@pytest.mark.parametrize("odd", ["²", "١٢", str(10**30), "-1"])
def test_a_row_action_with_an_odd_number_changes_nothing(admin, odd):
    page = admin.get("/staff/procedures/1.000001/edit")
    steps = page.text.count('id="steps-')
    response = submit(admin, page, action=f"remove:steps:{odd}")
    assert response.status_code == 200
    assert response.text.count('id="steps-') == steps


@pytest.mark.parametrize("odd", ["١٢", str(10**30), "1_000"])
def test_an_odd_integer_in_a_form_field_is_a_message_beside_it(admin, odd):
    page = admin.get("/staff/procedures/1.000001/edit")
    response = submit(admin, page, **{"dossier-0-copies": odd, "action": "save"})
    assert response.status_code == 400
    assert "Phải là số nguyên." in response.text or "Phải từ 0 đến 1000" in response.text


def test_a_file_sent_as_an_integer_field_is_a_message_beside_it(admin):
    page = admin.get("/staff/admin/agencies/phong-a")
    response = submit(admin, page, position=None, files={"position": (io.BytesIO(b"7"), "7.txt")})
    assert response.status_code == 400
    assert "Phải là số nguyên." in response.text


# --- where to go after logging in --------------------------------------------------------------

ODD_TARGETS = [
    "/staff/\r\nSet-Cookie: x=1",
    "/staff/\x00",
    "/staff/\x7f",
    "/staff/\u2028",
    "/staff/\u202eevil",
    "//evil.example/staff/",
    "/\\evil.example/staff/",
    "/staff/\\\\evil.example",
    "/staff//evil.example",
    "https://evil.example/staff/",
    "javascript:alert(1)//staff/",
    "staff/",
]


@pytest.mark.parametrize("target", ODD_TARGETS)
def test_login_never_follows_an_odd_next(staff_app, target):
    staff_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = staff_app.test_client()
    page = client.get("/staff/login", query_string={"next": target})
    assert page.status_code == 200
    response = submit(client, page, username="editor", password=STAFF_PASSWORD)
    assert response.status_code == 302
    assert response.location == "/staff/"


def test_login_follows_a_plain_staff_next(staff_app):
    client = staff_app.test_client()
    page = client.get("/staff/login", query_string={"next": "/staff/activity?page=2"})
    response = submit(client, page, username="editor", password=STAFF_PASSWORD)
    assert response.location == "/staff/activity?page=2"


# --- Host headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "xn--zz", "a..example", "." * 3])
@pytest.mark.parametrize(
    "path", ["/", "/staff/", "/staff/login", "/api/v1/procedures", "/thu-tuc/1.000001/in"]
)
def test_a_host_no_url_can_be_built_from_is_a_400(staff_app, host, path):
    staff_app.config["PROPAGATE_EXCEPTIONS"] = False
    # Straight to the app: Werkzeug's test client itself fails on such a host (cookies).
    environ = EnvironBuilder(path=path, headers={"Host": host}).get_environ()
    response = Response.from_app(staff_app, environ, buffered=True)
    assert response.status_code == 400
    assert "Host" in response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_an_ordinary_host_is_served(staff_app):
    client = staff_app.test_client(use_cookies=False)
    assert client.get("/", headers={"Host": "thutuc.donghung.example"}).status_code == 200


@pytest.mark.parametrize("query", ["limit=²", "since=١", "limit=" + "9" * 30, "since=-1"])
def test_the_change_list_refuses_odd_numbers_with_a_message(client, query):
    response = client.get("/api/v1/changes?" + query)
    assert response.status_code == 400
    assert "phải là số nguyên" in response.json["error"]
