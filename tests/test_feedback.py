"""'Was this page useful?': a visitor's yes or no and comment through the procedure page's
plain forms, abuse (floods, huge comments, script, posts without CSRF), no address stored,
and staff seeing only their own agencies' answers."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import inspect, select

from services.db import db
from services.forms.feedback import PUBLIC_TOKEN_SALT, public_token
from services.models import PageFeedback
from tests.helpers import read_forms, submit

PAGE = "/thu-tuc/1.000001"


def _answers(app) -> list[PageFeedback]:
    with app.app_context():
        return list(db.session.execute(select(PageFeedback).order_by(PageFeedback.id)).scalars())


def _answer(client, useful: str = "no"):
    page = client.get(PAGE)
    return submit(client, page, "/thu-tuc/1.000001/gop-y", useful=useful), page


def test_a_visitor_answers_no_then_gives_a_reason_and_a_comment(staff_app, login_as):
    client = login_as("anonymous")
    page = client.get(PAGE)
    assert "Trang này có hữu ích với bạn không?" in page.text
    response = submit(client, page, "/thu-tuc/1.000001/gop-y", useful="no")
    assert response.status_code == 302
    assert response.location == "/thu-tuc/1.000001/gop-y"
    thanks = client.get(response.location)
    assert "Cảm ơn" in thanks.text
    sent = submit(
        client, thanks, "/thu-tuc/1.000001/gop-y/y-kien", reason="fee_wrong", comment="Phí 50.000đ"
    )
    assert sent.status_code == 302
    assert "Góp ý của bạn đã được gửi" in client.get(sent.location).text
    [answer] = _answers(staff_app)
    assert (answer.useful, answer.reason, answer.comment) == (False, "fee_wrong", "Phí 50.000đ")
    # The same comment form posted again does not overwrite the answer.
    again = submit(client, thanks, "/thu-tuc/1.000001/gop-y/y-kien", comment="khác")
    assert again.status_code == 404
    assert _answers(staff_app)[0].comment == "Phí 50.000đ"


def test_a_yes_is_stored_without_a_comment(staff_app, login_as):
    response, _page = _answer(login_as("anonymous"), "yes")
    assert response.status_code == 302
    assert [(a.useful, a.comment) for a in _answers(staff_app)] == [(True, "")]


def test_bad_answers_are_refused_with_a_message(staff_app, login_as):
    client = login_as("anonymous")
    page = client.get(PAGE)
    response = submit(client, page, "/thu-tuc/1.000001/gop-y", useful="maybe")
    assert response.status_code == 400
    assert "Hãy chọn Có hoặc Không." in response.text
    assert client.post("/thu-tuc/9.999999/gop-y", data={}).status_code in (400, 404)
    assert _answers(staff_app) == []


def test_a_comment_without_an_answer_of_ones_own_is_refused(staff_app, login_as):
    _answer(login_as("anonymous"))
    stranger = login_as("anonymous")
    page = stranger.get(PAGE)
    token = next(f for f in read_forms(page.text) if f["action"].endswith("/gop-y"))["fields"]
    data = dict(token, comment="không phải của tôi")
    response = stranger.post("/thu-tuc/1.000001/gop-y/y-kien", data=data)
    assert response.status_code == 404
    assert _answers(staff_app)[0].comment == ""


def test_a_100_kb_comment_is_refused_in_vietnamese_and_nothing_is_stored(staff_app, login_as):
    client = login_as("anonymous")
    response, _page = _answer(client)
    thanks = client.get(response.location)
    response = submit(client, thanks, "/thu-tuc/1.000001/gop-y/y-kien", comment="a" * 100_000)
    assert response.status_code == 400
    assert "Tối đa 2000 ký tự." in response.text
    assert _answers(staff_app)[0].comment == ""
    # Still the visitor's answer: a shorter comment goes through.
    ok = submit(client, thanks, "/thu-tuc/1.000001/gop-y/y-kien", comment="a" * 2000)
    assert ok.status_code == 302
    assert len(_answers(staff_app)[0].comment) == 2000


def test_a_script_in_a_comment_is_stored_as_text_and_shown_escaped(staff_app, login_as):
    client = login_as("anonymous")
    response, _page = _answer(client)
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    submit(
        client,
        client.get(response.location),
        "/thu-tuc/1.000001/gop-y/y-kien",
        comment=script + "\x00",
    )
    assert _answers(staff_app)[0].comment == script
    page = login_as("editor").get("/staff/feedback").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page


def test_posts_without_csrf_token_are_refused(staff_app, login_as):
    client = login_as("anonymous")
    response = client.post("/thu-tuc/1.000001/gop-y", data={"useful": "yes"})
    assert response.status_code == 400
    assert "CSRF" in response.text
    response = client.post("/thu-tuc/1.000001/gop-y/y-kien", data={"comment": "x"})
    assert response.status_code == 400
    assert _answers(staff_app) == []


def test_a_visitor_without_any_cookie_sends_the_pages_form(staff_app):
    visitor = staff_app.test_client(use_cookies=False)
    page = visitor.get(PAGE)
    assert "Set-Cookie" not in page.headers
    assert submit(visitor, page, "/thu-tuc/1.000001/gop-y", useful="no").status_code == 302
    assert [a.useful for a in _answers(staff_app)] == [False]


@pytest.mark.parametrize("token", ["another site's", "too old"])
def test_a_token_this_site_did_not_sign_lately_is_refused(staff_app, monkeypatch, token):
    client = staff_app.test_client()
    if token == "too old":
        now = time.time()
        monkeypatch.setattr(time, "time", lambda: now - 3 * 86400)
        with staff_app.test_request_context():
            value = public_token()
        monkeypatch.undo()
    else:
        value = URLSafeTimedSerializer("another key", salt=PUBLIC_TOKEN_SALT).dumps("form")
    response = client.post("/thu-tuc/1.000001/gop-y", data={"useful": "yes", "csrf_token": value})
    assert response.status_code == 400
    assert "mã bảo vệ (CSRF)" in response.text
    assert _answers(staff_app) == []


def test_a_post_from_another_site_is_refused(staff_app):
    client = staff_app.test_client()
    form = next(f for f in read_forms(client.get(PAGE).text) if f["action"].endswith("/gop-y"))
    data = {**dict(form["fields"]), "useful": "yes"}
    forged = client.post(form["action"], data=data, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert "chỉ gửi được từ trang của cổng thông tin" in forged.text
    assert _answers(staff_app) == []
    own = client.post(form["action"], data=data, headers={"Origin": "http://localhost"})
    assert own.status_code == 302
    assert len(_answers(staff_app)) == 1


def test_a_flood_from_one_address_is_stopped_with_429_others_go_on(staff_app, login_as):
    staff_app.config["FEEDBACK_RATE_LIMIT"] = "3 per minute"
    client = login_as("anonymous")
    page = client.get(PAGE)
    codes = [
        submit(client, page, "/thu-tuc/1.000001/gop-y", useful="yes").status_code for _ in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]
    refused = submit(client, page, "/thu-tuc/1.000001/gop-y", useful="yes")
    assert "Bạn đã gửi quá nhiều lần" in refused.text
    assert len(_answers(staff_app)) == 3
    other = staff_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    page = other.get(PAGE)
    assert submit(other, page, "/thu-tuc/1.000001/gop-y", useful="no").status_code == 302


def test_no_address_is_stored_with_an_answer(staff_app, login_as):
    client = login_as("anonymous")
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    response, _page = _answer(client)
    submit(client, client.get(response.location), "/thu-tuc/1.000001/gop-y/y-kien", comment="x")
    with staff_app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("page_feedback")}
        dump = "\n".join(db.session.connection().connection.iterdump())
    assert not columns & {"ip", "address", "remote_addr", "client"}
    assert "203.0.113.77" not in dump


@pytest.mark.parametrize("done", [False, True])
def test_staff_see_their_agencies_answers_and_mark_them_done(staff_app, login_as, done):
    _answer(login_as("anonymous"), "no")
    editor = login_as("editor")
    page = editor.get("/staff/feedback")
    assert "1.000001" in page.text
    assert "Không hữu ích" in page.text
    assert "1.000001" not in login_as("other_editor").get("/staff/feedback").text
    assert "1.000001" in login_as("admin").get("/staff/feedback").text
    [answer] = _answers(staff_app)
    prefix = f"a{answer.id}-"
    changes = {f"{prefix}note": "Đã sửa mức phí"}
    if done:
        changes[f"{prefix}done"] = "y"
    response = submit(editor, page, f"/staff/feedback/{answer.id}", **changes)
    assert response.status_code == 302
    [answer] = _answers(staff_app)
    assert (answer.done, answer.note) == (done, "Đã sửa mức phí")
    listed = editor.get("/staff/feedback?xong=1").text
    assert ("Đã sửa mức phí" in listed) is done


def test_another_agencys_editor_cannot_handle_an_answer(staff_app, login_as):
    _answer(login_as("anonymous"))
    [answer] = _answers(staff_app)
    staff_app.config["WTF_CSRF_ENABLED"] = False
    response = login_as("other_editor").post(
        f"/staff/feedback/{answer.id}", data={f"a{answer.id}-done": "y"}
    )
    assert response.status_code == 403
    assert _answers(staff_app)[0].done is False


def test_a_staff_note_over_the_limit_is_refused(staff_app, login_as):
    _answer(login_as("anonymous"))
    [answer] = _answers(staff_app)
    editor = login_as("editor")
    page = editor.get("/staff/feedback")
    response = submit(
        editor, page, f"/staff/feedback/{answer.id}", **{f"a{answer.id}-note": "n" * 3000}
    )
    assert response.status_code == 302
    assert "Tối đa 2000 ký tự." in editor.get(response.location).text
    assert _answers(staff_app)[0].note == ""
