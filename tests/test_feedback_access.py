"""Who may reach the staff pages of public feedback, polls and the search report: every route
× every role (as tests/test_staff_access.py does for the rest of the staff area), CSRF on
every form, and an editor of agency A seeing only A's answers."""

from __future__ import annotations

import pytest
from flask import Flask

from services import polls
from services.db import db
from services.models import PageFeedback, Procedure, User
from tests.test_staff_access import ADMINS, EVERYONE, NO, OK, matrix_failures

AGENCY_A = {"editor": OK, "other_editor": NO, "publisher": OK, "admin": OK}

MATRIX = [
    ("GET", "/staff/feedback", EVERYONE),
    ("GET", "/staff/feedback?xong=1", EVERYONE),
    ("POST", "/staff/feedback/1", AGENCY_A),
    ("GET", "/staff/polls", EVERYONE),
    ("POST", "/staff/polls", ADMINS),
    ("GET", "/staff/polls/1", EVERYONE),
    ("GET", "/staff/polls/1/chart.svg", EVERYONE),
    ("POST", "/staff/polls/1/state", ADMINS),
    ("GET", "/staff/reports/search", EVERYONE),
    ("GET", "/staff/reports/search/weeks.svg", EVERYONE),
    ("POST", "/staff/reports/search/rule", ADMINS),
]


def _seed(app: Flask) -> None:
    """An answer about 1.000001 (agency A) and a poll, ids 1."""
    with app.app_context():
        procedure = db.session.execute(db.select(Procedure).filter_by(code="1.000001")).scalar_one()
        db.session.add(PageFeedback(procedure_id=procedure.id, useful=False, comment="sai phí"))
        db.session.commit()
        admin_user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        polls.create_poll("Bạn thấy thông tin thế nào?", ["Tốt", "Chưa tốt"], admin_user)


def _rules(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("feedback.staff.", "reports.staff."))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_matrix_covers_every_staff_route_of_feedback_and_reports(staff_app):
    adapter = staff_app.url_map.bind("localhost")
    covered = set()
    for method, url, _expected in MATRIX:
        rule, _args = adapter.match(url.split("?")[0], method=method, return_rule=True)
        covered.add((method, rule.rule))
    assert _rules(staff_app) - covered == set()


def test_every_route_for_every_role(staff_app, login_as):
    staff_app.config["WTF_CSRF_ENABLED"] = False  # the CSRF test below covers tokens
    _seed(staff_app)
    assert matrix_failures(MATRIX, login_as) == []


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_form_refuses_a_post_without_csrf_token(staff_app, login_as, role):
    _seed(staff_app)
    client = login_as(role)
    for url in sorted(url for method, url, _ in MATRIX if method == "POST"):
        response = client.post(url, data={"note": "x", "question": "x", "target": "x"})
        assert response.status_code == 400, url
        assert "CSRF" in response.text, url
    with staff_app.app_context():
        answer = db.session.get(PageFeedback, 1)
        assert (answer.done, answer.note) == (False, "")
        assert len(polls.list_polls(db.session.get(User, _admin_id()))) == 1


def _admin_id() -> int:
    return db.session.execute(db.select(User.id).filter_by(username="admin")).scalar_one()


def test_an_editor_of_agency_a_sees_only_as_answers(staff_app, login_as):
    _seed(staff_app)
    assert "sai phí" in login_as("editor").get("/staff/feedback").text
    assert "sai phí" in login_as("publisher").get("/staff/feedback").text
    assert "sai phí" in login_as("admin").get("/staff/feedback").text
    page = login_as("other_editor").get("/staff/feedback").text
    assert "sai phí" not in page
    assert "Không có góp ý nào." in page


def test_the_staff_menu_links_the_new_pages(login_as):
    page = login_as("editor").get("/staff/").text
    for url in ("/staff/feedback", "/staff/polls", "/staff/reports/search"):
        assert f'href="{url}"' in page
