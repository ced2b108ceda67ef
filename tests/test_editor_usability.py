"""The procedure editor's aids, through the pages staff use (real login, CSRF): the section
index and the Save bar, rows labelled by what they hold, one fee for every channel, related
procedures picked by name, and the check that keeps a time limit whose number disagrees with its
own text from review and publication (the draft is kept)."""

from __future__ import annotations

import html
import re

import pytest
from werkzeug.datastructures import MultiDict

from services.catalogue import convert, transfer
from services.db import db
from services.editorial import checks
from services.editorial.working_copy import working_copy_of
from services.models import Procedure, ProcedureRevision
from tests.helpers import read_forms, submit

P = "/staff/procedures/1.000001"
LEGEND = re.compile(r"<legend data-legend[^>]*>(.*?)</legend>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")


@pytest.fixture
def app(staff_app):
    return staff_app


def _legends(page) -> list[str]:
    text = re.sub(r"<template\b.*?</template>", "", page.text, flags=re.DOTALL)
    return [" ".join(html.unescape(TAG.sub("", m)).split()) for m in LEGEND.findall(text)]


def _fields(page) -> MultiDict:
    """What the editor form of `page` would send."""
    forms = read_forms(page.text)
    return MultiDict(next(f for f in forms if any(n == "code" for n, _ in f["fields"]))["fields"])


def _edit(client, **changes):
    page = client.get(f"{P}/edit")
    assert page.status_code == 200
    return submit(client, page, "", **changes)


def _error_of(page, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page.text)
    return html.unescape(match.group(1)) if match else ""


def _two_channels(client, second_fee="Lệ phí: 50.000 đồng", amount="50000", **changes):
    """1.000001 with a second channel (online), saved through the editor."""
    response = _edit(
        client,
        channels__1__kind="online",
        channels__1__time_limit_value="5",
        channels__1__time_limit_unit="working_days",
        channels__1__time_limit_text="05 ngày làm việc",
        channels__1__fee_text=second_fee,
        channels__1__fee_amount=amount,
        **changes,
    )
    assert response.status_code == 302, response.text


# --- the index, the Save bar, the row labels ----------------------------------------------------


def test_the_index_links_every_section_and_save_stays_in_the_form(login_as):
    page = login_as("editor").get(f"{P}/edit")
    index = re.search(r'<nav class="editor-index".*?</nav>', page.text, re.DOTALL).group(0)
    targets = re.findall(r'href="#([^"]+)"', index)
    assert targets[:3] == ["s-general", "s-agencies", "s-steps"]
    for expected in ("s-channels", "s-dossier", "s-legal_bases", "s-related", "s-save"):
        assert expected in targets
    for target in targets:
        assert len(re.findall(rf'<section[^>]* id="{target}"', page.text)) == 1, target
    assert 'Trình tự thực hiện</a> <span class="count">2</span>' in index
    bar = re.search(r'<div class="editor-save".*?</div>', page.text, re.DOTALL).group(0)
    assert 'value="save"' in bar
    assert 'value="submit"' in bar


def test_rows_are_labelled_by_what_they_hold(login_as):
    editor = login_as("editor")
    legends = _legends(editor.get(f"{P}/edit"))
    assert legends == [
        "Cơ quan thực hiện: Phòng A",
        "Bước 1: Nộp hồ sơ.",
        "Bước 2: Nhận kết quả.",
        "Trực tiếp — 5 ngày làm việc",
        "Tờ khai (bản chính)",
        "Giấy chứng nhận (KQ.1)",
        "60/2014/QH13 — Luật Hộ tịch",
    ]

    long_step = "Người nộp hồ sơ mang giấy tờ đến Bộ phận tiếp nhận và trả kết quả của " * 3
    page = editor.get(f"{P}/edit")
    added = submit(editor, page, "", action="add:steps", steps__0__text=long_step)
    legends = _legends(added)
    assert "Mục mới 3" in legends
    step = next(legend for legend in legends if legend.startswith("Bước 1: "))
    shown = step.removeprefix("Bước 1: ")
    assert shown.endswith("…")
    assert len(shown) <= 71
    assert long_step.startswith(shown.removesuffix("…") + " ")  # cut between words


# --- one fee for every channel ------------------------------------------------------------------


def test_one_fee_is_given_to_every_channel_when_asked(login_as):
    editor = login_as("editor")
    _two_channels(editor)
    page = editor.get(f"{P}/edit")
    assert _fields(page).get("same_fee") == "y"  # the fees agree: the option is on

    response = submit(
        editor,
        page,
        "",
        channels__0__fee_text="Lệ phí: 70.000 đồng",
        channels__0__fee_amount="70000",
    )
    assert response.status_code == 302
    fields = _fields(editor.get(f"{P}/edit"))
    assert fields.getlist("channels-0-fee_amount") == fields.getlist("channels-1-fee_amount")
    assert fields["channels-1-fee_amount"] == "70000"
    assert fields["channels-1-fee_text"] == "Lệ phí: 70.000 đồng"


def test_without_the_option_only_the_edited_channel_changes(login_as):
    editor = login_as("editor")
    _two_channels(editor)
    response = _edit(
        editor,
        same_fee=None,
        channels__0__fee_text="Lệ phí: 70.000 đồng",
        channels__0__fee_amount="70000",
    )
    assert response.status_code == 302
    page = editor.get(f"{P}/edit")
    fields = _fields(page)
    assert fields["channels-0-fee_amount"] == "70000"
    assert fields["channels-1-fee_amount"] == "50000"
    assert "same_fee" not in fields  # the fees differ now: the option starts off


# --- related procedures by name -----------------------------------------------------------------


def _related_code(staff_app) -> list[str]:
    with staff_app.app_context():
        procedure = db.session.execute(
            db.select(Procedure).where(Procedure.code == "1.000001")
        ).scalar_one()
        return working_copy_of(procedure).record["related"]


@pytest.mark.parametrize(
    "typed",
    [
        "1.000300",
        "1.000300 — Đăng ký kết hôn có yếu tố nước ngoài",
        "đăng ký kết hôn CÓ YẾU TỐ nước ngoài",
    ],
)
def test_a_related_procedure_is_found_by_code_or_name(staff_app, login_as, make_procedure, typed):
    make_procedure(code="1.000300", name="Đăng ký kết hôn có yếu tố nước ngoài")
    editor = login_as("editor")
    response = _edit(editor, related__0__code=typed)
    assert response.status_code == 302, response.text
    assert _related_code(staff_app) == ["1.000300"]
    legends = _legends(editor.get(f"{P}/edit"))
    assert legends[-1] == "1.000300 — Đăng ký kết hôn có yếu tố nước ngoài"


def test_an_unknown_or_ambiguous_related_name_is_explained_and_the_form_kept(
    staff_app, login_as, make_procedure
):
    make_procedure(code="1.000301", name="Cấp bản sao")
    make_procedure(code="1.000302", name="Cấp bản sao")
    editor = login_as("editor")
    response = _edit(editor, name="Tên vừa sửa", related__0__code="Thủ tục không có thật")
    assert response.status_code == 400
    assert _error_of(response, "related-0-code") == (
        "Không tìm thấy thủ tục “Thủ tục không có thật”: hãy gõ mã hoặc chọn trong danh sách."
    )
    fields = _fields(response)
    assert fields["related-0-code"] == "Thủ tục không có thật"
    assert fields["name"] == "Tên vừa sửa"
    assert _related_code(staff_app) == []

    response = _edit(editor, related__0__code="cấp bản sao")
    assert response.status_code == 400
    assert "Có 2 thủ tục tên “cấp bản sao”" in _error_of(response, "related-0-code")
    response = _edit(editor, related__0__code="1.999999")  # a code the catalogue lacks
    assert response.status_code == 400
    assert "Không tìm thấy thủ tục “1.999999”" in _error_of(response, "related-0-code")


# --- the time limit agrees with its text --------------------------------------------------------

DISAGREE = {
    "channels__0__time_limit_value": "21",
    "channels__0__time_limit_text": "15 ngày làm việc",
}
MISMATCH = "Thời hạn 21 ngày làm việc không khớp với mô tả “15 ngày làm việc”"


def _actions(staff_app) -> list[str]:
    with staff_app.app_context():
        return list(
            db.session.execute(
                db.select(ProcedureRevision.action).order_by(ProcedureRevision.number)
            ).scalars()
        )


def test_publishing_is_refused_while_the_time_limit_disagrees(staff_app, login_as):
    publisher, public = login_as("publisher"), staff_app.test_client()
    assert _edit(publisher, **DISAGREE).status_code == 302  # a draft may disagree
    page = publisher.get(P)
    response = submit(publisher, page, f"{P}/publish")
    assert response.status_code == 302
    assert response.location == f"{P}/edit"
    editor_page = publisher.get(response.location)
    assert MISMATCH in _error_of(editor_page, "channels-0-time_limit_value")
    assert _fields(editor_page)["channels-0-time_limit_value"] == "21"  # the draft is kept
    assert "21 ngày" not in public.get("/thu-tuc/1.000001").text
    assert _actions(staff_app) == ["initial", "saved"]

    fixed = submit(publisher, editor_page, "", channels__0__time_limit_text="21 ngày làm việc")
    assert fixed.status_code == 302
    page = publisher.get(P)
    assert submit(publisher, page, f"{P}/publish").status_code == 302
    assert "21 ngày làm việc" in public.get("/thu-tuc/1.000001").text
    assert _actions(staff_app)[-1] == "published"


def test_sending_for_review_is_refused_too_and_the_draft_saved(staff_app, login_as):
    editor = login_as("editor")
    response = _edit(editor, action="submit", note="Xin duyệt", **DISAGREE)
    assert response.status_code == 400
    assert "Đã lưu bản nháp nhưng chưa gửi duyệt" in response.text
    assert MISMATCH in _error_of(response, "channels-0-time_limit_value")
    assert _actions(staff_app) == ["initial", "saved"]  # saved, not submitted

    # The page now quotes the saved draft: fixing the text and sending again works.
    fixed = submit(editor, response, "", action="submit", channels__0__time_limit_text="21 ngày")
    assert fixed.status_code == 302, fixed.text
    assert _actions(staff_app) == ["initial", "saved", "submitted"]


def test_the_submit_button_of_the_procedure_page_is_refused_too(staff_app, login_as):
    editor = login_as("editor")
    assert _edit(editor, **DISAGREE).status_code == 302
    response = submit(editor, editor.get(P), f"{P}/submit")
    assert response.location == f"{P}/edit"
    assert MISMATCH in _error_of(editor.get(f"{P}/edit"), "channels-0-time_limit_value")
    assert _actions(staff_app) == ["initial", "saved"]


def test_a_new_procedure_sent_with_a_disagreement_is_kept_as_a_draft(staff_app, login_as):
    editor = login_as("editor")
    page = editor.get("/staff/procedures/new")
    response = submit(
        editor, page, "", action="submit", code="2.000500", name="Thủ tục mới",
        agencies__0__agency="phong-a", steps__0__text="Nộp hồ sơ", dossier__0__name="Tờ khai",
        channels__0__time_limit_unit="working_days", **DISAGREE,
    )  # fmt: skip
    assert response.status_code == 400
    assert MISMATCH in _error_of(response, "channels-0-time_limit_value")
    assert 'action="/staff/procedures/2.000500/edit"' in response.text
    fixed = submit(editor, response, "/staff/procedures/2.000500/edit", action="submit",
                   channels__0__time_limit_value="15")  # fmt: skip
    assert fixed.status_code == 302, fixed.text
    assert _actions(staff_app)[-2:] == ["created", "submitted"]


def test_restoring_with_publication_is_refused_for_a_disagreeing_revision(staff_app, login_as):
    publisher, public = login_as("publisher"), staff_app.test_client()
    assert _edit(publisher, **DISAGREE).status_code == 302  # revision 2
    assert _edit(publisher, channels__0__time_limit_text="21 ngày").status_code == 302
    history = publisher.get(f"{P}/history")
    response = submit(publisher, history, f"{P}/history/2/restore", publish="y")
    assert response.status_code == 302
    assert MISMATCH in publisher.get(response.location).text
    assert "21 ngày" not in public.get("/thu-tuc/1.000001").text
    assert _actions(staff_app) == ["initial", "saved", "saved"]


@pytest.mark.parametrize(
    ("value", "unit", "text", "agrees"),
    [
        (21, "working_days", "15 ngày làm việc", False),
        (3, "working_days", "03 ngày làm việc", True),
        (10, "days", "05 ngày đối với hồ sơ A; 10 ngày đối với hồ sơ B", True),
        (7, "days", "05 ngày đối với hồ sơ A; 10 ngày đối với hồ sơ B", False),
        (15, "working_days", "15 ngày", True),
        (15, "hours", "15 ngày làm việc", False),
        (8, "hours", "08 giờ làm việc", True),
        (2, "months", "02 tháng", True),
        (0.5, "working_days", "0,5 ngày làm việc", True),
        (15, "working_days", "Không quy định", True),
        (15, "working_days", "Theo Nghị định 123/2015/NĐ-CP ngày 01/7", True),
        (1, "working_days", "Trong ngày làm việc đối với yêu cầu nhận trước 15 giờ", True),
        (1, "working_days", "Ngay trong ngày; nhận sau 15 giờ thì trả trong ngày tiếp theo", True),
        (3, "working_days", "Trong ngày; trường hợp phức tạp không quá 03 ngày làm việc", True),
        (2, "working_days", "Ngay trong ngày tiếp nhận hồ sơ", False),
        (21, "days", "15", False),
        (15, "days", "15", True),
        (None, None, "15 ngày làm việc", True),
    ],
)
def test_the_time_limit_rule(staff_app, value, unit, text, agrees):
    channel = {"time_limit_value": value, "time_limit_unit": unit, "time_limit_text": text}
    with staff_app.test_request_context():
        problems = checks.time_limit_problems({"channels": [channel]})
    assert (problems == {}) is agrees, problems


def _disagreements(application) -> tuple[int, dict[str, dict]]:
    with application.test_request_context():
        procedures = db.session.execute(db.select(Procedure)).scalars().all()
        records = [convert.procedure_record(p) for p in procedures]
        problems = {r["code"]: checks.time_limit_problems(r) for r in records}
    return len(records), {code: found for code, found in problems.items() if found}


def test_the_demo_catalogue_has_no_disagreement(demo_app):
    # Its texts say "trong ngày" (one day) and "nhận trước 15 giờ" (an hour of the day).
    shipped = transfer.read_document(transfer.DEMO_CATALOGUE)["procedures"]
    assert _disagreements(demo_app) == (len(shipped), {})  # every procedure read, none refused


def test_the_real_catalogue_has_no_disagreement(portal_app):
    # 7,118 channels, 6,743 with a number: "15 Ngày làm việc", or the number alone ("5").
    assert _disagreements(portal_app) == (2642, {})
