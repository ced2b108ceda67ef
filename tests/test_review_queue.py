"""The review queue through the staff pages: a draft sent for review is shown to its
publishers with its diff, approved or returned with a note; the submitter's e-mail and the
publishers' digest are received by a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

import email
import logging
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from services.db import db
from services.models import SiteSettings
from tests.helpers import free_port, read_forms, submit
from tests.test_review_access import user

P = "/staff/procedures/1.000001"
BASE = "https://tthc.example.vn/"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def _configure(app, port: int | None, *, base_url: str = BASE) -> None:
    """Point the app at the SMTP server on `port` (None: no SMTP server configured), give the
    editor and the publisher addresses and the site a name and base URL."""
    if port is not None:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                          MAIL_DEFAULT_SENDER="tthc@example.vn")  # fmt: skip
    with app.app_context():
        db.session.add(SiteSettings(portal_name="Cổng TTHC thử", base_url=base_url))
        user("editor").email = "bien-tap@example.vn"
        user("publisher").email = "duyet@example.vn"
        db.session.commit()


def _edit_and_send(login_as):
    """The editor changes the published 1.000001 and sends it for review, through the pages."""
    editor = login_as("editor")
    response = submit(editor, editor.get(f"{P}/edit"), "", name="Tên mới để duyệt",
                      action="submit", note="xin duyệt")  # fmt: skip
    assert response.status_code == 302, response.text


def _subject(message: EmailMessage) -> str:
    # The encoded subject is folded onto its own line ("Subject:\n =?utf-8?b?...?="), so the
    # unfolded value starts with that line's space, which mail programs do not show.
    return message["Subject"].strip()


def _body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_publisher_sees_the_diff_and_approves_and_the_submitter_is_told(
    staff_app, login_as, inbox
):
    handler, port = inbox
    _configure(staff_app, port)
    _edit_and_send(login_as)
    publisher = login_as("publisher")
    page = publisher.get("/staff/review")
    assert "1.000001" in page.text
    assert "Tên mới để duyệt" in page.text
    assert 'class="diff"' in page.text
    assert "xin duyệt" in page.text
    response = submit(publisher, page, "/staff/review/1.000001/approve", note="Được")
    assert response.status_code == 302
    assert "Tên mới để duyệt" in login_as("anonymous").get("/thu-tuc/1.000001").text
    assert "Không có bản nào chờ duyệt." in publisher.get("/staff/review").text
    [(to, message)] = handler.messages
    assert to == ["bien-tap@example.vn"]
    assert _subject(message) == "[Cổng TTHC thử] Đã công bố: Tên mới để duyệt (1.000001)"
    body = _body(message)
    assert "Chào editor," in body
    assert "đã được publisher công bố" in body
    assert "Ghi chú của người duyệt: Được" in body
    assert f"{BASE}thu-tuc/1.000001" in body


def test_a_returned_draft_tells_the_submitter_why_with_a_link_to_it(staff_app, login_as, inbox):
    handler, port = inbox
    _configure(staff_app, port)
    _edit_and_send(login_as)
    publisher = login_as("publisher")
    response = submit(publisher, publisher.get("/staff/review"), "/staff/review/1.000001/return",
                      note="Thiếu mức phí mới")  # fmt: skip
    assert response.status_code == 302
    assert "Bản nháp" in login_as("editor").get(P).text  # back to the editor as a draft
    [(to, message)] = handler.messages
    assert to == ["bien-tap@example.vn"]
    assert _subject(message).startswith("[Cổng TTHC thử] Trả lại để sửa: Tên mới để duyệt")
    body = _body(message)
    assert "Ghi chú của người duyệt: Thiếu mức phí mới" in body
    assert f"{BASE}staff/procedures/1.000001" in body


def test_without_a_base_url_the_mail_has_no_link(staff_app, login_as, inbox):
    handler, port = inbox
    _configure(staff_app, port, base_url="")
    _edit_and_send(login_as)
    publisher = login_as("publisher")
    submit(publisher, publisher.get("/staff/review"), "/staff/review/1.000001/approve")
    [(_to, message)] = handler.messages
    assert "http" not in _body(message)  # never the Host of the request


def test_without_smtp_nothing_is_sent_and_the_queue_works(staff_app, login_as, caplog, inbox):
    handler, _port = inbox
    _configure(staff_app, None)
    _edit_and_send(login_as)
    publisher = login_as("publisher")
    with caplog.at_level(logging.INFO):
        response = submit(publisher, publisher.get("/staff/review"),
                          "/staff/review/1.000001/approve")  # fmt: skip
    assert response.status_code == 302
    assert "Tên mới để duyệt" in login_as("anonymous").get("/thu-tuc/1.000001").text
    assert handler.messages == []
    assert "no MAIL_SERVER configured" in caplog.text


def test_a_dead_smtp_server_loses_neither_the_publication_nor_the_return(
    staff_app, login_as, caplog
):
    _configure(staff_app, free_port())  # nothing listens there
    _edit_and_send(login_as)
    publisher = login_as("publisher")
    with caplog.at_level(logging.ERROR):
        response = submit(publisher, publisher.get("/staff/review"),
                          "/staff/review/1.000001/return", note="Sửa lại")  # fmt: skip
    assert response.status_code == 302
    assert "could not be sent" in caplog.text
    page = login_as("editor").get(P).text
    assert "Bản nháp" in page
    assert "Sửa lại" in page


def test_the_daily_digest_lists_what_waits_for_each_publisher(staff_app, login_as, inbox):
    handler, port = inbox
    _configure(staff_app, port)
    _edit_and_send(login_as)
    result = staff_app.test_cli_runner().invoke(args=["review-digest"])
    assert result.exit_code == 0, result.output
    assert "Đã gửi 1 thư" in result.output
    [(to, message)] = handler.messages  # the admin, who has no address, gets none
    assert to == ["duyet@example.vn"]
    assert _subject(message) == "[Cổng TTHC thử] 1 bản chờ duyệt"
    body = _body(message)
    assert "Tên mới để duyệt (1.000001) — editor" in body
    assert f"{BASE}staff/review" in body


def test_bad_input_is_refused_with_a_message(staff_app, login_as):
    _configure(staff_app, None)
    _edit_and_send(login_as)
    publisher = login_as("publisher")
    page = publisher.get("/staff/review")
    response = submit(publisher, page, "/staff/review/1.000001/approve", note="x" * 501)
    assert response.status_code == 400
    assert "Tối đa 500 ký tự." in response.text
    response = submit(publisher, page, "/staff/review/1.000001/return", note="")
    assert response.status_code == 400
    assert "Cần ghi lý do trả lại" in response.text
    fields = dict(next(f for f in read_forms(page.text) if "approve" in f["action"])["fields"])
    for code in ("9.999999", "9" * 5000):
        response = publisher.post(f"/staff/review/{code}/approve", data=fields)
        assert response.status_code == 404, code
        assert "Không tìm thấy thủ tục" in response.text
    assert submit(publisher, page, "/staff/review/1.000001/approve").status_code == 302
    stale_form = submit(publisher, page, "/staff/review/1.000001/approve")
    assert stale_form.status_code == 409  # the same form again: already published
    assert "vừa được người khác thay đổi" in stale_form.text
    assert "Tên mới để duyệt" in login_as("anonymous").get("/thu-tuc/1.000001").text


def test_the_digest_without_smtp_or_with_a_dead_server_says_so(staff_app, login_as, caplog):
    _configure(staff_app, None)
    _edit_and_send(login_as)
    runner = staff_app.test_cli_runner()
    result = runner.invoke(args=["review-digest"])
    assert result.exit_code == 0
    assert "Chưa cấu hình máy chủ thư (MAIL_SERVER): không gửi thư nào." in result.output
    staff_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with caplog.at_level(logging.ERROR):
        result = runner.invoke(args=["review-digest"])
    assert result.exit_code == 1
    assert "1 thư không gửi được (xem nhật ký)." in result.output
    assert "could not be sent" in caplog.text
