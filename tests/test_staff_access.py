"""Who may reach what in the staff area: every staff route × every role, CSRF on every form."""

from __future__ import annotations

import pytest
from flask import Flask

from services import accounts
from services.db import db
from services.editorial import admin, workflow, working_copy
from services.models import User
from tests.helpers import STAFF_ACCOUNTS

ROLES = ("anonymous", "editor", "other_editor", "publisher", "admin")
P = "/staff/procedures/1.000001"

# What each role gets. "ok" means the role may act (any answer but 401/403 and the login
# redirect: a page, a redirect after the action, or a 400 for the empty form the matrix sends);
# "403" must be refused; anonymous visitors are always sent to the login page.
OK, NO = "ok", "403"
EVERYONE = {"editor": OK, "other_editor": OK, "publisher": OK, "admin": OK}
AGENCY_A = {"editor": OK, "other_editor": NO, "publisher": OK, "admin": OK}
PUBLISHERS_A = {"editor": NO, "other_editor": NO, "publisher": OK, "admin": OK}
ADMINS = {"editor": NO, "other_editor": NO, "publisher": NO, "admin": OK}

MATRIX = [
    ("POST", "/staff/logout", EVERYONE),
    ("GET", "/staff/password", EVERYONE),
    ("POST", "/staff/password", EVERYONE),
    ("GET", "/staff/", EVERYONE),
    ("GET", "/staff/procedures/new", EVERYONE),
    ("POST", "/staff/procedures/new", EVERYONE),
    ("GET", P, AGENCY_A),
    ("GET", f"{P}/edit", AGENCY_A),
    ("POST", f"{P}/edit", AGENCY_A),
    ("GET", f"{P}/preview", AGENCY_A),
    ("GET", f"{P}/history", AGENCY_A),
    ("GET", f"{P}/history/1", AGENCY_A),
    ("GET", f"{P}/diff?a=1&b=2", AGENCY_A),
    ("POST", f"{P}/history/1/restore", AGENCY_A),
    ("POST", f"{P}/submit", AGENCY_A),
    ("POST", f"{P}/discard", AGENCY_A),
    ("POST", f"{P}/return", PUBLISHERS_A),
    ("POST", f"{P}/publish", PUBLISHERS_A),
    ("GET", f"{P}/abolish", PUBLISHERS_A),
    ("POST", f"{P}/abolish", PUBLISHERS_A),
    ("GET", "/staff/activity", EVERYONE),
    ("GET", "/staff/agencies/phong-a/activity", AGENCY_A),
    ("GET", "/staff/agencies/to-a1/activity", AGENCY_A),
    ("GET", "/staff/admin/users", ADMINS),
    ("GET", "/staff/admin/users/new", ADMINS),
    ("POST", "/staff/admin/users/new", ADMINS),
    ("GET", "/staff/admin/users/1", ADMINS),
    ("POST", "/staff/admin/users/1", ADMINS),
    ("GET", "/staff/admin/agencies", ADMINS),
    ("GET", "/staff/admin/agencies/new", ADMINS),
    ("POST", "/staff/admin/agencies/new", ADMINS),
    ("GET", "/staff/admin/agencies/phong-a", ADMINS),
    ("POST", "/staff/admin/agencies/phong-a", ADMINS),
    ("GET", "/staff/admin/agencies/phong-a/history", ADMINS),
    ("GET", "/staff/admin/agencies/phong-a/diff?a=1&b=1", ADMINS),
    ("POST", "/staff/admin/agencies/phong-a/history/1/restore", ADMINS),
    ("GET", "/staff/admin/fields", ADMINS),
    ("GET", "/staff/admin/fields/new", ADMINS),
    ("POST", "/staff/admin/fields/new", ADMINS),
    ("GET", "/staff/admin/fields/ho-tich", ADMINS),
    ("POST", "/staff/admin/fields/ho-tich", ADMINS),
    ("GET", "/staff/admin/settings", ADMINS),
    ("POST", "/staff/admin/settings", ADMINS),
    ("GET", "/staff/admin/synonyms", ADMINS),
    ("POST", "/staff/admin/synonyms", ADMINS),
    ("POST", "/staff/admin/synonyms/reset", ADMINS),
]


def _staff_rules(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("auth", "editor", "admin")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def _rule_of(app: Flask, method: str, url: str) -> tuple[str, str]:
    adapter = app.url_map.bind("localhost")
    rule, _args = adapter.match(url.split("?")[0], method=method, return_rule=True)
    return method, rule.rule


def _add_revisions(app: Flask) -> None:
    """Two saves of 1.000001 by its editor, so history pages have revisions 1 and 2."""
    with app.app_context():
        editor = db.session.execute(db.select(User).filter_by(username="editor")).scalar_one()
        for name in ("Tên thứ nhất", "Tên thứ hai"):
            copy = working_copy.get_working_copy("1.000001", editor)
            raw = {**copy.record, "name": name}
            workflow.save_procedure("1.000001", raw, copy.token, editor)
        admin_user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        agency, record = admin.get_agency("phong-a", admin_user)
        raw = {**record, "phone": "0227 3851 234"}
        admin.save_agency("phong-a", raw, admin.version_token(agency), admin_user)


def test_matrix_covers_every_staff_route(staff_app):
    covered = {_rule_of(staff_app, method, url) for method, url, _ in MATRIX}
    covered.add(("GET", "/staff/login"))
    covered.add(("POST", "/staff/login"))
    assert _staff_rules(staff_app) - covered == set()


def matrix_failures(matrix, login_as) -> list[str]:
    """Every (method, url, expected) of `matrix` asked by every role: visitors (and whoever
    logs out) are sent to the login page, a role marked NO gets 403, and any other is let in
    (no 401, 403, 404, 405 or 500, no login page). A logout ends the role's session, so that
    role logs in again."""
    clients = {role: login_as(role) for role in ROLES}
    failures = []
    for method, url, expected in matrix:
        for role in ROLES:
            response = clients[role].open(url, method=method, data={})
            code = response.status_code
            to_login = code == 302 and response.location.startswith("/staff/login")
            if role == "anonymous" or url == "/staff/logout":
                good = to_login
            elif expected[role] == NO:
                good = code == 403
            else:
                good = code not in (401, 403, 404, 405, 500) and not to_login
            if not good:
                failures.append(f"{role} {method} {url} → {code}")
            if method == "POST" and url == "/staff/logout" and role != "anonymous":
                clients[role] = login_as(role)
    return failures


def test_every_staff_route_for_every_role(staff_app, login_as):
    staff_app.config["WTF_CSRF_ENABLED"] = False  # the CSRF test below covers tokens
    _add_revisions(staff_app)
    assert matrix_failures(MATRIX, login_as) == []


def test_login_page_is_open_and_sends_logged_in_users_on(login_as):
    assert login_as("anonymous").get("/staff/login").status_code == 200
    response = login_as("editor").get("/staff/login")
    assert response.status_code == 302
    assert response.location == "/staff/"


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_staff_form_refuses_a_post_without_csrf_token(staff_app, login_as, role):
    client = login_as(role)
    posts = sorted(url for method, url, _ in MATRIX if method == "POST")
    for url in [*posts, "/staff/login"]:
        response = client.post(url, data={"note": "x", "username": "admin"})
        assert response.status_code == 400, url
        assert "CSRF" in response.text or "phiên làm việc" in response.text.lower(), url


def test_an_editor_sees_only_procedures_of_their_agencies(login_as):
    page = login_as("editor").get("/staff/").text
    assert "1.000001" in page
    assert "1.000002" in page
    assert "1.000001" not in login_as("other_editor").get("/staff/").text


def test_deactivating_an_account_ends_its_sessions(staff_app, login_as):
    client = login_as("editor")
    assert client.get("/staff/").status_code == 200
    with staff_app.app_context():
        admin_user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        editor = db.session.execute(db.select(User).filter_by(username="editor")).scalar_one()
        role, agencies = STAFF_ACCOUNTS["editor"]
        account = accounts.Account("editor", role, agencies, active=False)
        accounts.update_user(editor.id, account, admin_user)
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.location.startswith("/staff/login")
