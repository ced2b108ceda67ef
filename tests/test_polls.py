"""Polls: an admin creates a question with options and opens it, visitors answer once (a
signed cookie, and the database refuses a second vote of the same cookie), staff see the
results as a pygal chart and the public only when the admin publishes them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from services.db import db
from services.models import PollVote
from tests.helpers import submit


def _create(login_as, *, public: bool = False):
    admin = login_as("admin")
    page = admin.get("/staff/polls")
    response = submit(
        admin,
        page,
        "/staff/polls",
        question="Đánh giá khách quan của bạn về thông tin chúng tôi cung cấp?",
        options="Rất hữu ích\nHữu ích\nChưa hữu ích",
    )
    assert response.status_code == 302
    poll_url = response.location
    state = {"is_open": "y"}
    if public:
        state["public_results"] = "y"
    submit(admin, admin.get(poll_url), f"{poll_url}/state", **state)
    return admin, int(poll_url.rsplit("/", 1)[1])


def _votes(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(PollVote)).scalar_one()


def _options(page) -> dict[str, str]:
    """The poll's answers on a page: label → the radio button's value."""
    found = re.findall(r'<input([^>]*name="option"[^>]*)> ([^<]+)</label>', page.text)
    return {label: re.search(r'value="(\d+)"', attrs).group(1) for attrs, label in found}


def _vote(client, poll_id: int, label: str):
    page = client.get("/tham-do")
    return submit(client, page, f"/tham-do/{poll_id}", option=_options(page)[label]), page


def test_a_visitor_answers_once_and_staff_see_the_counts(staff_app, login_as):
    admin, poll_id = _create(login_as)
    visitor = login_as("anonymous")
    response, page = _vote(visitor, poll_id, "Hữu ích")
    assert response.status_code == 302
    assert "Cảm ơn bạn đã trả lời!" in visitor.get(response.location).text
    # The same visitor: the form is gone, and re-posting the old form counts nothing.
    assert "Bạn đã trả lời câu hỏi này" in visitor.get("/tham-do").text
    replay = _vote_on_page(visitor, page, poll_id)
    assert replay.status_code == 302
    assert "trước đây" in visitor.get(replay.location).text
    other = staff_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    _vote(other, poll_id, "Chưa hữu ích")
    assert _votes(staff_app) == 2
    results = admin.get(f"/staff/polls/{poll_id}").text
    counts = [cell.split("<")[0] for cell in results.split('class="num votes">')[1:]]
    assert counts == ["0", "1", "1"]
    assert f'src="/staff/polls/{poll_id}/chart.svg"' in results
    assert "<script" not in results.split("<main", 1)[-1].split("</main>")[0]


def test_a_forged_cookie_does_not_let_anyone_vote_twice(staff_app, login_as):
    _admin, poll_id = _create(login_as)
    visitor = login_as("anonymous")
    _vote(visitor, poll_id, "Hữu ích")
    visitor.set_cookie("tthc_voter", "forged-value")
    response, _page = _vote(visitor, poll_id, "Hữu ích")
    # A forged cookie is a new visitor: it can vote, but it cannot pose as another one.
    assert response.status_code == 302
    assert _votes(staff_app) == 2
    with staff_app.app_context():
        voters = db.session.execute(select(PollVote.voter)).scalars().all()
    assert "forged-value" not in voters


def test_the_chart_is_a_pygal_svg_without_script(staff_app, login_as):
    admin, poll_id = _create(login_as)
    _vote(login_as("anonymous"), poll_id, "Rất hữu ích")
    chart = admin.get(f"/staff/polls/{poll_id}/chart.svg")
    assert chart.status_code == 200
    assert chart.mimetype == "image/svg+xml"
    assert b"pygal" in chart.data
    assert b"<script" not in chart.data
    assert "Rất hữu ích" in chart.text
    assert "default-src 'none'" in chart.headers["Content-Security-Policy"]


def test_results_are_public_only_when_published(staff_app, login_as):
    _admin, poll_id = _create(login_as)
    visitor = login_as("anonymous")
    assert visitor.get(f"/tham-do/{poll_id}/bieu-do.svg").status_code == 404
    assert "Kết quả" not in visitor.get(f"/tham-do/{poll_id}").text.split("<main")[-1]
    _admin, public_id = _create(login_as, public=True)
    assert visitor.get(f"/tham-do/{public_id}/bieu-do.svg").status_code == 200
    assert 'class="num votes"' in visitor.get(f"/tham-do/{public_id}").text


def test_a_closed_poll_and_a_foreign_option_are_refused(staff_app, login_as):
    admin, poll_id = _create(login_as)
    visitor = login_as("anonymous")
    page = visitor.get("/tham-do")
    bad = submit(visitor, page, f"/tham-do/{poll_id}", option="999999")
    assert bad.status_code == 400
    assert "Lựa chọn không hợp lệ." in bad.text
    empty = submit(visitor, page, f"/tham-do/{poll_id}", option=None)
    assert empty.status_code == 400
    assert "Hãy chọn một câu trả lời." in empty.text
    state = admin.get(f"/staff/polls/{poll_id}")
    submit(admin, state, f"/staff/polls/{poll_id}/state", is_open=None)
    closed = _vote_on_page(visitor, page, poll_id)
    assert closed.status_code == 404
    assert _votes(staff_app) == 0
    assert "Hiện chưa có cuộc thăm dò nào." in visitor.get("/tham-do").text


def _vote_on_page(client, page, poll_id: int):
    return submit(client, page, f"/tham-do/{poll_id}", option=_options(page)["Hữu ích"])


def test_bad_polls_are_refused_in_vietnamese(staff_app, login_as):
    admin = login_as("admin")
    page = admin.get("/staff/polls")
    one = submit(admin, page, "/staff/polls", question="Câu hỏi?", options="Chỉ một")
    assert one.status_code == 400
    assert "Cần từ 2 đến 10 lựa chọn." in one.text
    twice = submit(admin, page, "/staff/polls", question="Câu hỏi?", options="Có\ncó")
    assert "Hai lựa chọn trùng nhau." in twice.text
    assert "Chưa có cuộc thăm dò nào." in admin.get("/staff/polls").text


def test_votes_are_rate_limited_per_address(staff_app, login_as):
    staff_app.config["FEEDBACK_RATE_LIMIT"] = "2 per minute"
    _admin, poll_id = _create(login_as)
    visitor = login_as("anonymous")
    page = visitor.get("/tham-do")
    codes = [_vote_on_page(visitor, page, poll_id).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert _votes(staff_app) == 1
