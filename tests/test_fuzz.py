"""Fuzzing every route of the URL map (public pages, the API, the staff area) with hypothesis:
random path arguments by converter (existing codes and slugs, text, huge, negative and
non-ASCII digits), query strings, form bodies posted with a valid CSRF token by each role, and
odd headers and cookies. No answer may be a 5xx or show a traceback, and no staff page that
needs a login may answer 200 to an anonymous client.

Routes come from `app.url_map`, so a new route is fuzzed without being listed here. CI (and
`CI=1`) runs a derandomized profile without hypothesis's example database; elsewhere failures
are remembered in instance/.hypothesis and replayed first. The long run is bench/fuzz.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from werkzeug.datastructures import MultiDict
from werkzeug.security import check_password_hash, generate_password_hash

from services import accounts
from services.catalogue import transfer
from services.db import db
from services.models import Agency, LoginAttempt, User
from tests import fuzzing
from tests.helpers import STAFF_ACCOUNTS, STAFF_PASSWORD, close_app, make_app, read_forms, submit

ROLES = ("anonymous", *STAFF_ACCOUNTS)
CI = bool(os.environ.get("CI"))
ROOT = Path(__file__).resolve().parent.parent


def fuzz_settings(examples: int) -> settings:
    """`examples` per route, no deadline (a PDF takes a while), reproducible in CI."""
    database = None if CI else DirectoryBasedExampleDatabase(ROOT / "instance" / ".hypothesis")
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=CI,
        database=database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


@pytest.fixture(scope="module")
def fuzz_app(staff_instance: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The staff instance (accounts of every role, agencies phong-a and phong-b) with the demo
    catalogue added, whose procedures have every kind of field (dated legal bases too)."""
    instance = tmp_path_factory.mktemp("fuzz") / "instance"
    shutil.copytree(staff_instance, instance)
    application = make_app(instance)
    with application.app_context():
        transfer.load_demo()
    yield application
    close_app(application)


def restore_accounts(app: Flask) -> None:
    """Put the accounts of STAFF_ACCOUNTS back as they were (a fuzzed admin form may have
    changed a role, deactivated an account or set a password; fuzzed logins lock accounts)."""
    with app.app_context():
        db.session.execute(db.delete(LoginAttempt))
        for username, (role, slugs) in STAFF_ACCOUNTS.items():
            user = db.session.execute(
                db.select(User).filter_by(username=username.replace("_", "-"))
            ).scalar_one()
            user.role, user.active = role, True
            user.agencies = list(
                db.session.execute(db.select(Agency).where(Agency.slug.in_(slugs))).scalars()
            )
            if not check_password_hash(user.password_hash, STAFF_PASSWORD):
                user.password_hash = generate_password_hash(
                    STAFF_PASSWORD, method=accounts.HASH_METHOD
                )
        db.session.commit()
        db.session.remove()


class Clients:
    """One logged-in test client per role, logged in again when a fuzzed request ended its
    session (logout, a password or role change)."""

    def __init__(self, app: Flask):
        self.app = app
        self.clients: dict[str, FlaskClient] = {}

    def _login(self, role: str) -> FlaskClient:
        client = self.app.test_client()
        page = client.get("/staff/login")
        if role != "anonymous":
            username = role.replace("_", "-")
            response = submit(client, page, username=username, password=STAFF_PASSWORD)
            if response.status_code != 302:
                restore_accounts(self.app)
                page = client.get("/staff/login")
                response = submit(client, page, username=username, password=STAFF_PASSWORD)
            assert response.status_code == 302, response.text
        return client

    def get(self, role: str) -> FlaskClient:
        if role not in self.clients:
            self.clients[role] = self._login(role)
        return self.clients[role]

    def check(self, role: str) -> None:
        """Log `role` in again if its session has ended."""
        if role == "anonymous":
            return
        response = self.clients[role].get("/staff/password")
        if response.status_code != 200:
            del self.clients[role]

    def token(self, role: str) -> str:
        """A valid CSRF token of the role's session, read from a form as a browser would."""
        page = self.get(role).get("/staff/login" if role == "anonymous" else "/staff/password")
        return dict(read_forms(page.text)[-1]["fields"])["csrf_token"]


@pytest.fixture(scope="module")
def clients(fuzz_app: Flask) -> Clients:
    return Clients(fuzz_app)


@pytest.fixture(scope="module")
def known(fuzz_app: Flask) -> dict[str, list[str]]:
    return fuzzing.known_values(fuzz_app)


def keyed(test: Callable, route: fuzzing.Route) -> Callable:
    """Tell hypothesis which route `test` fuzzes, so that its example database keeps each
    route's failures apart (the attribute pytest's parametrize uses for the same purpose)."""
    test._hypothesis_internal_add_digest = route.name.encode()
    return test


def run_get(route: fuzzing.Route, known, clients: Clients, examples: int, report: Callable):
    """Fuzz one GET route: path arguments and query string, as each role; the boundary URLs
    first, as a visitor (and, on staff routes, as an admin)."""

    def fuzz(url: str, role: str) -> None:
        report(route, fuzzing.send(clients.get(role), route, url, role))

    test = given(url=fuzzing.urls(route, known), role=st.sampled_from(ROLES))(keyed(fuzz, route))
    for url in fuzzing.boundary_urls(route, known):
        for role in ("anonymous", "admin") if route.staff else ("anonymous",):
            test = example(url=url, role=role)(test)
    fuzz_settings(examples)(test)()


def run_post(route: fuzzing.Route, known, clients: Clients, examples: int, report: Callable):
    """Fuzz one POST route: the page's own form (when the route has a GET) with values changed,
    fields dropped and odd fields added, with the role's CSRF token, as each role; first, as an
    admin, the form with rows whose index is not an ASCII number."""
    has_page = "GET" in route.rule.methods

    def fields_for(client: FlaskClient, url: str, role: str) -> list[tuple[str, str]]:
        fields = fuzzing.form_of(client, url) if has_page else []
        if not any(name == "csrf_token" for name, _ in fields):
            fields = [*fields, ("csrf_token", clients.token(role))]
        return fields

    def post(url: str, role: str, body: MultiDict) -> None:
        report(route, fuzzing.send(clients.get(role), route, url, role, data=body))
        clients.check(role)

    url = fuzzing.boundary_urls(route, known)[0].split("?")[0]
    post(url, "admin", MultiDict(fields_for(clients.get("admin"), url, "admin")))
    post(
        url,
        "admin",
        MultiDict(fields_for(clients.get("admin"), url, "admin") + fuzzing.BOUNDARY_ROWS),
    )

    def fuzz(url: str, role: str, data) -> None:
        fields = fields_for(clients.get(role), url, role)
        post(url, role, data.draw(fuzzing.form_changes(fields), label="form"))

    strategies = {"url": fuzzing.urls(route, known), "role": st.sampled_from(ROLES)}
    fuzz_settings(examples)(given(**strategies, data=st.data())(keyed(fuzz, route)))()


def run_headers(all_routes, known, clients: Clients, examples: int, report: Callable):
    """Fuzz headers and cookies on any GET route; the Host headers that found defects first."""
    targets = st.sampled_from(all_routes).flatmap(
        lambda route: st.tuples(st.just(route), fuzzing.urls(route, known))
    )

    def fuzz(target: tuple[fuzzing.Route, str], headers: dict[str, str], role: str) -> None:
        route, url = target
        headers = dict(headers)
        overrides = {"HTTP_HOST": headers.pop("Host")} if "Host" in headers else {}
        client = clients.get(role)
        if "Cookie" in headers:
            role = "anonymous"  # a garbage cookie replaces the session
            client = clients.app.test_client()
        answer = fuzzing.send(
            client, route, url, role, headers=headers, environ_overrides=overrides
        )
        report(route, answer)

    test = given(target=targets, headers=fuzzing.HEADERS, role=st.sampled_from(ROLES))(fuzz)
    home = next(route for route in all_routes if route.rule.rule == "/")
    for host in fuzzing.BOUNDARY_HOSTS:
        test = example(target=(home, "/"), headers={"Host": host}, role="anonymous")(test)
    fuzz_settings(examples)(test)()


def fail_at_once(route: fuzzing.Route, answer: fuzzing.Answer) -> None:
    assert answer.problems == []


# Examples per route in `make test`; bench/fuzz.py multiplies them and collects every failure
# instead of stopping at the first.
GET_EXAMPLES, PDF_EXAMPLES, POST_EXAMPLES, HEADER_EXAMPLES = 10, 3, 8, 120


@pytest.fixture(scope="module")
def long_run(request: pytest.FixtureRequest):
    """The plugin of bench/fuzz.py when it runs this file (`scale` and `record`), else None."""
    return request.config.stash.get(fuzzing.LONG_RUN, None)


@pytest.fixture(scope="module")
def report(long_run) -> Callable:
    return long_run.record if long_run else fail_at_once


@pytest.fixture(scope="module")
def scale(long_run) -> int:
    return long_run.scale if long_run else 1


def test_every_route_of_the_url_map_is_fuzzed(fuzz_app):
    found = fuzzing.routes(fuzz_app)
    blueprints = {route.rule.endpoint.split(".")[0] for route in found}
    assert {"public", "search", "api", "printing", "files", "auth", "editor", "admin"} <= blueprints
    # The tests below send GETs and POSTs: a route with another method needs its own test.
    assert {route.method for route in found} == {"GET", "POST"}
    # Only the login page is open to visitors; every other staff route is checked for that.
    open_staff = [route.name for route in found if route.staff and not route.needs_login]
    assert open_staff == ["GET /staff/login", "POST /staff/login"]


def _printing(route: fuzzing.Route) -> bool:
    """PDFs take a while to build: fewer examples for them."""
    return route.rule.endpoint.startswith("printing.")


@pytest.mark.parametrize("pdf", [False, True], ids=["pages", "pdfs"])
def test_public_get_routes(fuzz_app, known, clients, report, scale, pdf):
    examples = (PDF_EXAMPLES if pdf else GET_EXAMPLES) * scale
    for route in fuzzing.routes(fuzz_app, "GET"):
        if not route.staff and _printing(route) == pdf:
            run_get(route, known, clients, examples, report)


def test_staff_get_routes(fuzz_app, known, clients, report, scale):
    for route in fuzzing.routes(fuzz_app, "GET"):
        if route.staff:
            run_get(route, known, clients, GET_EXAMPLES * scale, report)


def test_post_routes_with_forms_and_a_valid_csrf_token(fuzz_app, known, clients, report, scale):
    posts = fuzzing.routes(fuzz_app, "POST")
    assert posts
    for route in posts:
        run_post(route, known, clients, POST_EXAMPLES * scale, report)


def test_headers_and_cookies(fuzz_app, known, clients, report, scale):
    cheap = [route for route in fuzzing.routes(fuzz_app, "GET") if not _printing(route)]
    run_headers(cheap, known, clients, HEADER_EXAMPLES * scale, report)


def test_a_garbage_session_cookie_is_an_anonymous_visitor(fuzz_app):
    """The good case beside the fuzzed one: a forged cookie opens no staff page."""
    client = fuzz_app.test_client()
    client.set_cookie("session", ".eJyrVkosLcmIz8nPS1eyUkrOzytJzSvRUcpMUbIyNjI0MDRVqgUA.x.y")
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.location.startswith("/staff/login")
