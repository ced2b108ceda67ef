"""What the fuzz suite (tests/test_fuzz.py) and its long run (bench/fuzz.py) share: the routes,
read from `app.url_map` so that a new route is fuzzed without anyone listing it; hypothesis
strategies for path segments by converter, query strings, form bodies and headers; and the
check every answer must pass (no 5xx, no traceback, no staff page for an anonymous client).

Requests go through the Flask test client, the path users take. The app runs with TESTING on,
so an exception escapes to the caller instead of becoming a 500 page: `send` turns it into the
500 a visitor would get, with the traceback's last lines to report.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from services.db import db
from services.models import Agency, Attachment, Field, Procedure, ProcedureRevision, User
from tests.helpers import read_forms

STAFF_BLUEPRINTS = ("auth", "editor", "admin")
# The only staff page a visitor may see.
OPEN_STAFF = {"auth.login"}
# Where bench/fuzz.py puts its plugin (more examples, failures collected) for tests/test_fuzz.py.
LONG_RUN = pytest.StashKey[object]()
# What a server's error page or a debugger would leak.
TRACEBACK_MARKS = (b"Traceback (most recent call last)", b"sqlalchemy.exc.", b'File "/')


@dataclass(frozen=True)
class Route:
    """One rule of the URL map and one of its methods."""

    rule: Rule
    method: str

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule.rule}"

    @property
    def staff(self) -> bool:
        return self.rule.endpoint.split(".")[0] in STAFF_BLUEPRINTS

    @property
    def needs_login(self) -> bool:
        return self.staff and self.rule.endpoint not in OPEN_STAFF


def routes(app: Flask, method: str | None = None) -> list[Route]:
    """Every rule × method of the app (HEAD and OPTIONS aside), in a stable order."""
    found = [
        Route(rule, m)
        for rule in app.url_map.iter_rules()
        for m in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if method in (None, m)
    ]
    return sorted(found, key=lambda r: r.name)


def known_values(app: Flask) -> dict[str, list[str]]:
    """Values that exist in the app's database, by URL argument name, so that fuzzing reaches
    the pages behind real codes and slugs as well as the 404s of made-up ones."""
    with app.app_context():
        session = db.session

        def column(*columns):
            return [str(v) for v in session.execute(db.select(*columns)).scalars()]

        values = {
            "code": column(Procedure.code),
            "slug": column(Agency.slug) + column(Field.slug),
            "user_id": column(User.id),
            "number": sorted(set(column(ProcedureRevision.number))) or ["1"],
            "name": column(Attachment.stored_name) or ["khong-co.pdf"],
            "filename": ["css/site.css", "js/editor.js"],
        }
        session.remove()
    return values


# --- strategies ---------------------------------------------------------------------------------

# Latin-1 without control characters: what an HTTP header can carry.
_HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
)
_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
_DIGITS = st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=8)
NASTY = [
    "",
    "0",
    "-1",
    "9" * 40,
    "1e309",
    "²",
    "١٢",
    "NaN",
    "\x00",
    "\r\n",
    "\x1b[31m",
    "%",
    "%%",
    "//evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "/staff/\x00",
    "/staff/\t/x",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "../../etc/passwd",
    '=HYPERLINK("http://x")',
    "a" * 600,
    "đăng ký khai sinh",
    "Ð̸̢",
]
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    _DIGITS,
    st.sampled_from(["0", "00", "-0", "9" * 400, "²", "١٢", "1.5", "0x10", " 3 "]),
)
VALUES = st.one_of(st.sampled_from(NASTY), NUMBERS, _ANY_TEXT)
# Parameters the pages read, and any other name.
PARAMS = [
    "q",
    "page",
    "per_page",
    "agency",
    "field",
    "level",
    "subject",
    "online",
    "sort",
    "status",
    "a",
    "b",
    "next",
    "truc-thuoc",
    "limit",
]
QUERIES = st.lists(
    st.tuples(st.one_of(st.sampled_from(PARAMS), _ANY_TEXT), VALUES), max_size=6
).map(lambda pairs: urlencode(pairs))


def segment(name: str, converter, known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """Values for one URL argument: existing ones, then what its converter should refuse."""
    real = st.sampled_from(known.get(name) or ["x"])
    if isinstance(converter, IntegerConverter):
        return st.one_of(real, NUMBERS)
    if isinstance(converter, AnyConverter):
        return st.one_of(st.sampled_from(sorted(converter.items)), real, VALUES)
    if isinstance(converter, PathConverter):
        return st.one_of(real, VALUES, st.lists(VALUES, max_size=4).map("/".join))
    return st.one_of(real, VALUES.filter(lambda v: "/" not in v))


_ARGUMENT = re.compile(r"<[^>]*?(\w+)>")


@st.composite
def urls(draw, route: Route, known: dict[str, list[str]]) -> str:
    """A URL of `route` with drawn path arguments and query string."""
    converters = route.rule._converters

    def argument(match: re.Match) -> str:
        name = match.group(1)
        return quote(draw(segment(name, converters[name], known)), safe="")

    path = _ARGUMENT.sub(argument, route.rule.rule)
    query = draw(QUERIES)
    return f"{path}?{query}" if query else path


# Values that found defects before: run first on every route, whatever the random draw.
BOUNDARY_QUERY = urlencode(
    [
        ("page", "9" * 30),
        ("per_page", "9" * 30),
        ("a", "9" * 30),
        ("b", "²"),
        ("next", "/staff/\x00\r\n"),
        ("q", "\x00"),
        ("agency", "a" * 600),
    ]
)
BOUNDARY_NUMBERS = (str(2**63), "9" * 40, "²", "١٢")
# Rows of the editor's lists whose index is not an ASCII number.
BOUNDARY_ROWS = [(f"{row}-{n}-name", "x") for row in ("dossier", "steps") for n in ("²", "١٢")]


def boundary_urls(route: Route, known: dict[str, list[str]]) -> list[str]:
    """URLs of `route` with existing path arguments and odd parameters, then with each
    integer argument too large or in other digits."""

    def build(numbers: str | None) -> str:
        def argument(match: re.Match) -> str:
            name = match.group(1)
            converter = route.rule._converters[name]
            if numbers is not None and isinstance(converter, IntegerConverter):
                return quote(numbers, safe="")
            return quote((known.get(name) or ["x"])[0], safe="")

        return _ARGUMENT.sub(argument, route.rule.rule)

    urls = [f"{build(None)}?{BOUNDARY_QUERY}", f"{build(None)}?page={'9' * 400}"]
    if any(isinstance(c, IntegerConverter) for c in route.rule._converters.values()):
        urls += [build(number) for number in BOUNDARY_NUMBERS]
    return urls


BOUNDARY_HOSTS = ("a" * 64 + ".example", "xn--", "xn--zz.example", ".")
HOSTS = st.one_of(
    st.sampled_from(
        [
            *BOUNDARY_HOSTS,
            "localhost",
            ("b" * 63 + ".") * 5 + "example",
            "localhost:99999",
            "localhost:-1",
            "[::1",
            "evil.example",
            "",
        ]
    ),
    _HEADER_TEXT,
)
COOKIES = st.one_of(
    _HEADER_TEXT,
    _HEADER_TEXT.map(lambda v: f"session={v}"),
    st.sampled_from(
        [
            "session=.eJyrVkosLcmIz8nPS1eyUkrOzytJzSvRUcpMUbIyNjI0MDRVqgUAXecGGQ.Zz.bad",
            "session=" + "A" * 5000,
            "session=.e30",
            'session="unterminated',
            "session=a; session=b",
        ]
    ),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Host": HOSTS,
        "Accept-Language": st.one_of(
            st.sampled_from(["en", "vi;q=abc", "*", "en-US,en;q=0.9,vi;q=2", "x" * 500]),
            _HEADER_TEXT,
        ),
        "Referer": st.one_of(st.sampled_from(NASTY[12:19]), _HEADER_TEXT),
        "If-None-Match": st.one_of(
            st.sampled_from(['W/"x"', "*", '"', '"a", W/', '"' + "z" * 300 + '"']),
            _HEADER_TEXT,
        ),
        "If-Modified-Since": st.one_of(
            st.sampled_from(["yesterday", "Mon, 32 Foo 99999"]), _HEADER_TEXT
        ),
        "Cookie": COOKIES,
        "X-Forwarded-For": _HEADER_TEXT,
    },
)


@st.composite
def form_changes(draw, fields: list[tuple[str, str]]) -> MultiDict:
    """The fields a page's form sends, with some values replaced, some dropped and some odd
    fields added (row indices that are not numbers, unknown actions)."""
    data = MultiDict(fields)
    names = sorted({name for name, _ in fields if name != "csrf_token"})
    if names:
        for name in draw(st.lists(st.sampled_from(names), max_size=6, unique=True)):
            if draw(st.booleans()):
                data.setlist(name, [draw(VALUES)])
            else:
                data.poplist(name)
    rows = st.sampled_from(["dossier", "steps", "channels", "agencies", "legal_bases", "results"])
    extra_name = st.one_of(
        st.tuples(
            rows, st.one_of(NUMBERS, _ANY_TEXT), st.sampled_from(["name", "kind", "code"])
        ).map("-".join),
        st.sampled_from(["action", "version", "note", "next", "username", "password"]),
        _ANY_TEXT,
    )
    for name, value in draw(st.lists(st.tuples(extra_name, VALUES), max_size=4)):
        data.add(name, value)
    if draw(st.integers(0, 9)) == 0:
        data.poplist("csrf_token")
    return data


# --- sending and checking -----------------------------------------------------------------------


@dataclass
class Answer:
    """What one request got: its status (500 for an exception) and what is wrong with it."""

    status: int
    problems: list[str] = field(default_factory=list)
    location: str = ""


def _open(client: FlaskClient, route: Route, url: str, request: dict[str, Any]) -> Response:
    """`client.open`, except with a Host override: Werkzeug's test client itself fails on a host
    it cannot decode (while adding its cookies), so such a request goes straight to the app,
    carrying the client's session cookie by hand."""
    if "HTTP_HOST" not in request.get("environ_overrides", {}):
        return client.open(url, method=route.method, **request)
    headers = dict(request.get("headers", {}))
    name = client.application.config["SESSION_COOKIE_NAME"]
    if cookie := client.get_cookie(name):
        headers["Cookie"] = f"{name}={cookie.value}"
    environ = EnvironBuilder(
        path=url,
        method=route.method,
        headers=headers,
        data=request.get("data"),
        environ_overrides=request["environ_overrides"],
    ).get_environ()
    return Response.from_app(client.application, environ, buffered=True)


def send(client: FlaskClient, route: Route, url: str, role: str, **request: Any) -> Answer:
    """Send one request and check it: no 5xx, no traceback in the body, and no 200 from a staff
    route that needs a login for an anonymous client."""
    sent = {**request.get("headers", {}), **request.get("environ_overrides", {})}
    what = f"{role} {route.method} {url!r}" + (f" with {sent!r}" if sent else "")
    try:
        response = _open(client, route, url, request)
    except Exception as error:  # TESTING propagates what would be a 500 page
        lines = traceback.format_exception(error)
        tail = "".join(lines[-3:]).strip()
        return Answer(500, [f"500 (exception) for {what}: {tail}"])
    answer = Answer(response.status_code, location=response.headers.get("Location", ""))
    body = response.get_data()
    response.close()
    # A 503 that says the portal has no base URL yet is the configured state speaking (feeds,
    # sitemap and exports need one; a fuzzed settings form may well have erased it), not a bug.
    unconfigured = answer.status == 503 and b"base_url" in body
    if answer.status >= 500 and not unconfigured:
        answer.problems.append(f"{answer.status} for {what}")
    for mark in TRACEBACK_MARKS:
        if mark in body:
            answer.problems.append(f"traceback text {mark!r} for {what}")
    if role == "anonymous" and route.needs_login:
        if answer.status == 200:
            answer.problems.append(f"staff page answered 200 to {what}")
        # 308 is the URL map's own redirect to the canonical address (merged slashes).
        elif answer.status in (301, 302, 303, 307) and not answer.location.startswith(
            "/staff/login"
        ):
            answer.problems.append(f"{what} sent to {answer.location}")
    return answer


def form_of(client: FlaskClient, url: str) -> list[tuple[str, str]]:
    """The fields of the form on the page at `url` that posts back to it (or its first form),
    as a browser would send them; none when there is no such page."""
    try:
        page = client.get(url)
    except Exception:  # the GET side is checked by its own examples
        return []
    if page.status_code != 200 or page.mimetype != "text/html":
        return []
    forms = [f for f in read_forms(page.text) if f["action"] != "/staff/logout"]
    path = url.split("?")[0]
    chosen = [f for f in forms if f["action"] in ("", path)] or forms
    return [(k, v) for k, v in chosen[0]["fields"]] if chosen else []
