"""Who may reach the review queue, the stale list and the legal documents: every route × every
role (as tests/test_staff_access.py does for the rest of the staff area), CSRF on every form,
and staff seeing only their own agencies' entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from services import accounts
from services.db import db, utcnow
from services.editorial import workflow, working_copy
from services.models import Procedure, User
from tests.test_staff_access import AGENCY_A, EVERYONE, NO, OK, PUBLISHERS_A, matrix_failures

PUBLISHERS = {"editor": NO, "other_editor": NO, "publisher": OK, "admin": OK}

MATRIX = [
    ("GET", "/staff/review", PUBLISHERS),
    ("POST", "/staff/review/1.000002/approve", PUBLISHERS_A),
    ("POST", "/staff/review/1.000002/return", PUBLISHERS_A),
    ("GET", "/staff/stale", EVERYONE),
    ("POST", "/staff/procedures/1.000001/checked", AGENCY_A),
    ("GET", "/staff/legal-documents", EVERYONE),
    ("POST", "/staff/legal-documents", PUBLISHERS),
]


def user(username: str) -> User:
    return db.session.execute(db.select(User).filter_by(username=username)).scalar_one()


def make_stale(code: str, days: int = 800) -> None:
    """Say `code` was last reviewed `days` ago (inside an app context)."""
    db.session.execute(
        update(Procedure.__table__)
        .where(Procedure.__table__.c.code == code)
        .values(last_reviewed_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def seed(app: Flask) -> None:
    """1.000001 (agency A) not reviewed for 800 days; the draft 1.000002 (agency A) sent for
    review by the editor."""
    with app.app_context():
        make_stale("1.000001")
        editor = user("editor")
        copy = working_copy.get_working_copy("1.000002", editor)
        workflow.submit("1.000002", copy.token, editor, "xin duyệt")


def test_matrix_covers_every_route_of_the_review_blueprint(staff_app):
    adapter = staff_app.url_map.bind("localhost")
    covered = set()
    for method, url, _expected in MATRIX:
        rule, _args = adapter.match(url.split("?")[0], method=method, return_rule=True)
        covered.add((method, rule.rule))
    rules = {
        (method, rule.rule)
        for rule in staff_app.url_map.iter_rules()
        if rule.endpoint.startswith("review.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules - covered == set()


def test_every_route_for_every_role(staff_app, login_as):
    staff_app.config["WTF_CSRF_ENABLED"] = False  # the CSRF test below covers tokens
    seed(staff_app)
    assert matrix_failures(MATRIX, login_as) == []


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_form_refuses_a_post_without_csrf_token(staff_app, login_as, role):
    seed(staff_app)
    client = login_as(role)
    for url in sorted(url for method, url, _ in MATRIX if method == "POST"):
        response = client.post(url, data={"note": "x", "number": "60/2014/QH13", "replaced": "y"})
        assert response.status_code == 400, url
        assert "CSRF" in response.text, url
    with staff_app.app_context():
        waiting = working_copy.get_working_copy("1.000002", user("admin"))
        assert waiting.status == "in_review"  # neither published nor returned
        procedure = db.session.execute(db.select(Procedure).filter_by(code="1.000001")).scalar_one()
        assert procedure.last_reviewed_at < utcnow() - timedelta(days=700)  # not "checked"
    assert "60/2014/QH13" not in login_as("editor").get("/staff/stale").text  # not replaced


def test_an_editor_of_agency_a_sees_only_as_stale_list(staff_app, login_as):
    seed(staff_app)
    page = login_as("editor").get("/staff/stale").text
    assert "1.000001" in page
    assert "Phòng A" in page
    other = login_as("other_editor").get("/staff/stale").text
    assert "1.000001" not in other
    assert "Không có thủ tục nào cần rà soát." in other
    assert "1.000001" in login_as("admin").get("/staff/stale").text


def test_a_publisher_sees_only_the_queue_of_their_agencies(staff_app, login_as):
    seed(staff_app)
    with staff_app.app_context():
        accounts.create_user(
            accounts.Account("publisher-b", "publisher", ["phong-b"]), "mat-khau-thu-nghiem"
        )
    assert "1.000002" in login_as("publisher").get("/staff/review").text
    assert "1.000002" in login_as("admin").get("/staff/review").text
    client = login_as("publisher_b")
    page = client.get("/staff/review")
    assert page.status_code == 200
    assert "1.000002" not in page.text
    assert "Không có bản nào chờ duyệt." in page.text
    # Nor can they act on it by posting the form of another agency's draft.
    staff_app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/staff/review/1.000002/approve", data={"note": ""})
    assert response.status_code == 403
    assert login_as("editor").get("/staff/review").status_code == 403


def test_the_staff_menu_and_home_page_link_the_new_pages(staff_app, login_as):
    seed(staff_app)
    publisher = login_as("publisher").get("/staff/").text
    assert 'href="/staff/review"' in publisher
    assert 'href="/staff/stale"' in publisher
    assert "1 bản thay đổi chờ duyệt" in publisher
    assert "1 thủ tục cần rà soát" in publisher
    editor = login_as("editor").get("/staff/").text
    assert 'href="/staff/review"' not in editor  # editors do not review
    assert "1 thủ tục cần rà soát" in editor
    assert "0 thủ tục cần rà soát" in login_as("other_editor").get("/staff/").text
