"""Staff composing journeys through the pages: publishers create, edit and delete them, editors
are refused with a message; a code not in the catalogue, a blank name or a step without a
procedure are refused beside the field, never a 500; two saves from one form conflict (409,
the form kept); every save is in the audit trail; and a journey over real procedure codes."""

from __future__ import annotations

import re

from services import accounts
from services.db import db
from services.journeys import queries
from services.models import AuditEntry, Journey
from tests.helpers import STAFF_PASSWORD, submit

NEW = "/staff/journeys/new"


def _create(client, **changes):
    page = client.get(NEW)
    assert page.status_code == 200
    fields = {
        "name": "Thử nghiệm",
        "name_en": "Trial",
        "steps-0-title": "Bước một",
        "steps-0-procedures-0": "1.000001",
        **changes,
    }
    return submit(client, page, 0, **fields)


def test_a_publisher_creates_edits_and_deletes_a_journey(staff_app, login_as):
    client = login_as("publisher")
    assert "/staff/journeys/" in client.get("/staff/").text  # linked from the navigation
    created = _create(client, **{"steps-0-procedures-1": "1.000001 — Tên bất kỳ"})
    assert created.status_code == 302
    assert created.headers["Location"] == "/staff/journeys/thu-nghiem"
    page = client.get("/hanh-trinh/thu-nghiem")
    assert page.status_code == 200
    assert 'href="/thu-tuc/1.000001"' in page.text
    edit = client.get("/staff/journeys/thu-nghiem")
    assert 'list="journey-procedures"' in edit.text
    assert 'value="1.000001 — ' in edit.text  # the datalist of published procedures
    saved = submit(client, edit, 0, **{"steps-0-title": "Bước đầu", "steps-0-optional": "y"})
    assert saved.status_code == 302
    with staff_app.app_context():
        journey = queries.get_journey("thu-nghiem")
        assert journey.steps[0].title == "Bước đầu"
        assert journey.steps[0].optional is True
        assert [link.code for link in journey.steps[0].procedures] == ["1.000001"]  # once
        actions = db.session.execute(
            db.select(AuditEntry.action).where(AuditEntry.target_kind == "journey")
        ).scalars()
        assert list(actions) == ["journey.created", "journey.updated"]
    deleted = submit(client, client.get("/staff/journeys/thu-nghiem"), "/staff/journeys/thu")
    assert deleted.status_code == 302
    assert client.get("/hanh-trinh/thu-nghiem").status_code == 404
    with staff_app.app_context():
        last = db.session.execute(db.select(AuditEntry).order_by(AuditEntry.id.desc())).scalar()
        assert last.action == "journey.deleted"


def test_add_a_step_without_javascript(login_as):
    client = login_as("publisher")
    page = client.get(NEW)
    assert "steps-1-title" not in page.text
    more = submit(client, page, 0, name="X", action="add-step")
    assert more.status_code == 200
    assert 'name="steps-1-title"' in more.text
    assert 'value="X"' in more.text


def test_editors_are_refused_with_a_message(login_as):
    client = login_as("editor")
    page = client.get("/staff/journeys/")
    assert page.status_code == 403
    assert "Chỉ người duyệt, công bố và quản trị viên được soạn hành trình." in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/").text)[1]
    posted = client.post(NEW, data={"csrf_token": token, "name": "X"})
    assert posted.status_code == 403
    assert login_as("anonymous").get("/staff/journeys/").status_code == 302


def test_a_code_not_in_the_catalogue_is_named_beside_its_step(staff_app, login_as):
    client = login_as("publisher")
    refused = _create(client, **{"steps-0-procedures-0": "9.999999"})
    assert refused.status_code == 400
    assert "Không có thủ tục “9.999999” trong danh mục." in refused.text
    assert 'value="9.999999"' in refused.text  # the form is kept
    with staff_app.app_context():
        assert db.session.execute(db.select(Journey.id)).first() is None


def test_bad_values_are_refused_with_messages_never_a_500(login_as):
    client = login_as("publisher")
    blank = _create(client, name="")
    assert blank.status_code == 400
    assert "Không được để trống." in blank.text
    no_code = _create(client, **{"steps-0-procedures-0": ""})
    assert no_code.status_code == 400
    assert "Mỗi bước cần ít nhất một thủ tục." in no_code.text
    untitled = _create(client, **{"steps-0-title": ""})  # a procedure but no title
    assert untitled.status_code == 400
    assert (
        '<p class="field-error" id="steps-0-title-error">Không được để trống.</p>' in untitled.text
    )
    no_step = _create(client, **{"steps-0-title": "", "steps-0-procedures-0": ""})
    assert no_step.status_code == 400
    assert "Hành trình cần ít nhất một bước." in no_step.text
    false_rows = {"steps-²-title": "A", "steps-0-procedures-²": "1.000001"}
    assert _create(client, **false_rows).status_code == 302  # the false rows are dropped
    assert client.get("/staff/journeys/thu-nghiem").status_code == 200
    for changes in ({"position": "abc"}, {"position": "99999999999999"}, {"steps-0-mode": "x"}):
        response = _create(client, **changes)
        assert response.status_code == 400, changes
    bad_slug = _create(client, slug="Có Dấu")
    assert bad_slug.status_code == 400
    assert "Tên đường dẫn chỉ gồm chữ thường không dấu" in bad_slug.text
    taken = _create(client)
    assert taken.status_code == 400
    assert "Đã có hành trình mang tên đường dẫn này." in taken.text
    assert client.get("/staff/journeys/khong-co").status_code == 404


def test_two_saves_from_one_form_conflict_and_the_form_is_kept(login_as):
    client = login_as("publisher")
    assert _create(client).status_code == 302
    first = client.get("/staff/journeys/thu-nghiem")
    second = client.get("/staff/journeys/thu-nghiem")
    assert submit(client, first, 0, name="Bản một").status_code == 302
    late = submit(client, second, 0, name="Bản hai")
    assert late.status_code == 409
    assert "Hành trình này vừa được người khác thay đổi" in late.text
    assert 'value="Bản hai"' in late.text
    again = submit(client, late, 0)  # saved again with the token the conflict gave
    assert again.status_code == 302
    stale_delete = submit(client, second, "/staff/journeys/thu")
    assert stale_delete.status_code == 302
    assert client.get("/hanh-trinh/thu-nghiem").status_code == 200  # not deleted


def test_a_journey_over_real_procedure_codes_renders_and_totals(portal_app):
    with portal_app.app_context():
        choices = queries.procedure_choices()[:5]
        accounts.create_user(accounts.Account("quan-tri", "admin", []), STAFF_PASSWORD)
    client = portal_app.test_client()
    login = client.get("/staff/login")
    assert submit(client, login, username="quan-tri", password=STAFF_PASSWORD).status_code == 302
    picked = [f"{code} — {name}" for code, name in choices]  # as picked from the list
    two_steps = submit(client, client.get(NEW), 0, action="add-step")  # the second step's row
    saved = submit(
        client,
        two_steps,
        0,
        name="Thử trên dữ liệu thật",
        **{
            "steps-0-title": "Một",
            "steps-0-mode": "any",
            "steps-0-procedures-0": picked[0],
            "steps-0-procedures-1": picked[1],
            "steps-0-procedures-2": choices[2][0],
            "steps-1-title": "Hai",
            "steps-1-procedures-0": picked[3],
            "steps-1-procedures-1": picked[4],
        },
    )
    assert saved.status_code == 302, saved.text
    with portal_app.test_request_context():
        page = queries.journey_page("thu-tren-du-lieu-that")
        assert [[item.code for item in view.items] for view in page.steps] == [
            [code for code, _name in choices[:3]],
            [code for code, _name in choices[3:]],
        ]
        assert all(item.counted for view in page.steps for item in view.items)
        assert page.totals.left_out == 0
    response = client.get("/hanh-trinh/thu-tren-du-lieu-that")
    assert response.status_code == 200
    assert f'href="/thu-tuc/{choices[0][0]}"' in response.text
    assert client.get("/hanh-trinh/thu-tren-du-lieu-that.pdf").status_code == 200
    assert client.get("/api/v1/journeys/thu-tren-du-lieu-that").status_code == 200
