"""The procedure editor and the workflow, through the pages staff use: drafts the public does
not see, publishing, conflicts, validation that keeps what was typed, rows without JavaScript,
history with diffs and restore, abolishing."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from services.catalogue import queries
from services.db import db
from services.editorial.diff import diff_records
from services.forms.editor import reshape
from services.models import Procedure, ProcedureRevision
from tests.helpers import read_forms, submit

P = "/staff/procedures/1.000001"


@pytest.fixture
def app(staff_app):
    return staff_app


def _public_limit(client, code="1.000001"):
    page = client.get(f"/thu-tuc/{code}")
    assert page.status_code == 200
    return page.text


def _editor_fields(page) -> MultiDict:
    return MultiDict(next(f for f in read_forms(page.text) if f["action"] == "")["fields"])


def _edit(client, which="1.000001", **changes):
    page = client.get(f"/staff/procedures/{which}/edit")
    assert page.status_code == 200
    return submit(client, page, "", **changes)


def test_a_draft_is_invisible_to_the_public_until_published(staff_app, login_as):
    editor, publisher, public = login_as("editor"), login_as("publisher"), staff_app.test_client()
    assert "5 ngày làm việc" in _public_limit(public)

    response = _edit(
        editor,
        channels__0__time_limit_value="12",
        channels__0__time_limit_text="12 ngày làm việc",
        note="Rút ngắn thời hạn",
    )
    assert response.status_code == 302
    assert "5 ngày làm việc" in _public_limit(public)
    assert "12 ngày làm việc" not in _public_limit(public)
    assert "12 ngày làm việc" in editor.get(f"{P}/preview").text

    page = editor.get(P)
    assert submit(editor, page, f"{P}/submit").status_code == 302
    assert "12 ngày làm việc" not in _public_limit(public)

    page = publisher.get(P)
    assert "Chờ duyệt" in page.text
    assert submit(publisher, page, f"{P}/publish", note="Đồng ý").status_code == 302
    assert "12 ngày làm việc" in _public_limit(public)
    with staff_app.app_context():
        procedure = queries.get_procedure("1.000001")
        assert procedure.local_edit_at is not None
        actions = db.session.execute(
            db.select(ProcedureRevision.action).order_by(ProcedureRevision.number)
        ).scalars()
        assert list(actions) == ["initial", "saved", "submitted", "published"]


def test_an_editor_cannot_publish(login_as):
    editor = login_as("editor")
    _edit(editor, name="Tên mới")
    page = editor.get(P)
    assert f'action="{P}/publish"' not in page.text
    form = read_forms(page.text)[1]
    response = editor.post(f"{P}/publish", data=dict(form["fields"]))
    assert response.status_code == 403


def test_a_new_procedure_stays_hidden_until_published(staff_app, login_as):
    editor, publisher, public = login_as("editor"), login_as("publisher"), staff_app.test_client()
    page = editor.get("/staff/procedures/new")
    response = submit(
        editor,
        page,
        "",
        code="2.000100",
        name="Cấp bản sao trích lục",
        fields=["Hộ tịch"],
        agencies__0__agency="phong-a",
        steps__0__text="Nộp hồ sơ",
        dossier__0__name="Tờ khai",
    )
    assert response.status_code == 302, response.text
    assert response.location == "/staff/procedures/2.000100"
    assert public.get("/thu-tuc/2.000100").status_code == 404
    assert "Cấp bản sao trích lục" in editor.get("/staff/procedures/2.000100/preview").text
    page = publisher.get("/staff/procedures/2.000100")
    submit(publisher, page, "/staff/procedures/2.000100/publish")
    assert "Cấp bản sao trích lục" in public.get("/thu-tuc/2.000100").text


@pytest.mark.parametrize("code", ["1.000001", "1.000002"])  # published (a draft), unpublished
def test_the_second_of_two_concurrent_saves_is_refused_and_shows_both(staff_app, login_as, code):
    first, second = login_as("editor"), login_as("publisher")
    with staff_app.app_context():
        original = queries.get_procedure(code, public=False).name
    page_first = first.get(f"/staff/procedures/{code}/edit")
    page_second = second.get(f"/staff/procedures/{code}/edit")
    assert submit(first, page_first, "", name="Tên của người thứ nhất").status_code == 302

    response = submit(second, page_second, "", name="Tên của người thứ hai")
    assert response.status_code == 409
    assert "CHƯA được lưu" in response.text
    assert "Tên của người thứ nhất" in response.text  # the stored version
    assert "Tên của người thứ hai" in response.text  # theirs, kept in the form
    with staff_app.app_context():
        revisions = db.session.execute(
            db.select(ProcedureRevision.action, ProcedureRevision.record).order_by(
                ProcedureRevision.number
            )
        ).all()
        assert [(action, r["name"]) for action, r in revisions] == [
            ("initial", original),
            ("saved", "Tên của người thứ nhất"),
        ]

    # The page now quotes the stored version: saving again is a deliberate merge.
    response = submit(second, response, "", name="Tên đã gộp")
    assert response.status_code == 302
    assert "Tên đã gộp" in second.get(f"/staff/procedures/{code}/preview").text


def test_a_stale_workflow_step_is_refused(login_as):
    editor, publisher = login_as("editor"), login_as("publisher")
    _edit(editor, name="Bản nháp một")
    old_page = publisher.get(P)
    _edit(editor, name="Bản nháp hai")
    response = submit(publisher, old_page, f"{P}/publish")
    assert response.status_code == 302
    assert "CHƯA được lưu" in publisher.get(P).text
    assert "Bản nháp hai" not in publisher.get("/thu-tuc/1.000001").text


def test_bad_input_is_explained_beside_each_field_and_kept(login_as):
    editor = login_as("editor")
    response = _edit(
        editor,
        code="mã sai!",
        name="Tên đã sửa nhưng chưa lưu",
        decision_date="2024-13-45",
        channels__0__time_limit_value="mười lăm",
        channels__0__fee_amount="-5",
        dossier__0__originals="hai",
        dossier__0__template_url="không phải địa chỉ",
        source_url="ftp//sai",
    )
    assert response.status_code == 400
    text = response.text
    for message in (
        "Mã thủ tục chỉ gồm chữ, số",
        "Ngày không hợp lệ.",
        "Phải là một số, ví dụ 15 hoặc 0,5.",
        "Phải từ 0 đến",
        "Phải là số nguyên.",
        "Địa chỉ web không hợp lệ",
    ):
        assert message in text, message
    for typed in ("mã sai!", "Tên đã sửa nhưng chưa lưu", "2024-13-45", "mười lăm", "hai"):
        assert typed in text, typed
    assert "Tên đã sửa nhưng chưa lưu" not in editor.get(f"{P}/preview").text


def test_service_rules_land_beside_their_fields(login_as):
    editor = login_as("editor")
    page = editor.get("/staff/procedures/new")
    response = submit(editor, page, "", code="1.000001", name="Trùng mã", fields=["Không có"])
    assert response.status_code == 400
    assert "Đã có thủ tục mang mã 1.000001." in response.text
    assert "Lĩnh vực chưa có trong danh mục" in response.text
    assert "Trùng mã" in response.text

    response = _edit(editor, code="1.999999")
    assert "Không đổi được mã của thủ tục đã công bố." in response.text


def test_an_editor_cannot_move_a_procedure_out_of_their_scope(login_as):
    editor = login_as("editor")
    response = _edit(editor, agencies__0__agency="phong-b")
    assert response.status_code == 400
    assert "Cần ít nhất một cơ quan thực hiện thuộc phạm vi của bạn." in response.text
    # An agency under theirs is in scope.
    assert _edit(editor, agencies__0__agency="to-a1").status_code == 302
    assert login_as("other_editor").get(P).status_code == 403


def test_rows_are_added_moved_and_removed_without_javascript(staff_app, login_as):
    editor = login_as("editor")
    page = editor.get(f"{P}/edit")
    page = submit(editor, page, "", action="add:steps", steps__0__text="Bước một đã sửa")
    assert page.status_code == 200
    fields = _editor_fields(page)
    assert fields["steps-0-text"] == "Bước một đã sửa"
    assert fields["steps-2-text"] == ""

    page = submit(editor, page, "", action="up:steps:1", steps__2__text="Bước ba")
    fields = _editor_fields(page)
    assert [fields[f"steps-{i}-text"] for i in range(3)] == [
        "Nhận kết quả.",
        "Bước một đã sửa",
        "Bước ba",
    ]
    page = submit(editor, page, "", action="remove:steps:0")
    page = submit(editor, page, "", action="add:dossier:0", dossier__0__group="Cấp mới")
    fields = _editor_fields(page)
    assert fields["dossier-1-group"] == "Cấp mới"
    assert fields["dossier-1-required"] == "y"
    with staff_app.app_context():
        assert db.session.execute(db.select(ProcedureRevision)).first() is None

    response = submit(editor, page, "", dossier__1__name="Giấy tờ thêm")
    assert response.status_code == 302
    preview = editor.get(f"{P}/preview").text
    assert preview.index("Bước một đã sửa") < preview.index("Bước ba")
    assert "Nhận kết quả." not in preview
    assert "Giấy tờ thêm" in preview


def test_history_diff_and_restore(staff_app, login_as):
    editor, publisher, public = login_as("editor"), login_as("publisher"), staff_app.test_client()
    _edit(editor, name="Tên thứ nhất", steps__1__text="Nhận kết quả tại bộ phận một cửa.")
    _edit(editor, name="Tên thứ hai", steps__1__text=None, legal_bases__0__title="Luật mới")

    page = editor.get(f"{P}/diff?a=2&b=3")
    assert page.status_code == 200
    for text in ("Tên thứ nhất", "Tên thứ hai", "Trình tự thực hiện", "bỏ", "Căn cứ pháp lý",
                 "Luật mới", "Trích yếu"):  # fmt: skip
        assert text in page.text, text
    assert editor.get(f"{P}/diff?a=2&b=99").status_code == 404

    history = publisher.get(f"{P}/history")
    response = submit(publisher, history, f"{P}/history/2/restore", publish="y")
    assert response.status_code == 302
    assert "Tên thứ nhất" in public.get("/thu-tuc/1.000001").text
    with staff_app.app_context():
        rows = db.session.execute(
            db.select(ProcedureRevision.number, ProcedureRevision.action).order_by(
                ProcedureRevision.number
            )
        ).all()
    assert [tuple(r) for r in rows] == [(1, "initial"), (2, "saved"), (3, "saved"),
                                        (4, "restored"), (5, "published")]  # fmt: skip
    assert "Khôi phục phiên bản số 2" in editor.get("/staff/activity").text


def test_discard_and_return_to_draft(login_as):
    editor, publisher = login_as("editor"), login_as("publisher")
    _edit(editor, name="Sẽ bị trả lại", action="submit")
    assert "Chờ duyệt" in publisher.get(P).text
    submit(publisher, publisher.get(P), f"{P}/return", note="Thiếu căn cứ")
    assert "Bản nháp" in editor.get(P).text
    submit(editor, editor.get(P), f"{P}/discard")
    assert "Sẽ bị trả lại" not in editor.get(f"{P}/preview").text
    assert "Không có thay đổi chờ công bố" in editor.get(P).text


def test_abolish_with_a_replacement(staff_app, login_as, make_procedure):
    make_procedure(code="1.000003", name="Thủ tục thay thế",
                   agencies=[{"role": "implementing", "agency": "phong-a"}])  # fmt: skip
    publisher, public = login_as("publisher"), staff_app.test_client()
    page = publisher.get(f"{P}/abolish")
    response = submit(publisher, page, "", reason="", replaced_by="1.000001")
    assert response.status_code == 400
    assert "Không được để trống." in response.text
    response = submit(publisher, page, "", reason="Đã có thủ tục mới", replaced_by="9.9")
    assert "Cần mã của một thủ tục khác đang công khai." in response.text
    response = submit(publisher, page, "", reason="Đã có thủ tục mới", replaced_by="1.000003")
    assert response.status_code == 302
    text = public.get("/thu-tuc/1.000001").text
    assert "Thủ tục này đã bị bãi bỏ." in text
    assert "Thủ tục thay thế" in text
    assert login_as("editor").get(f"{P}/abolish").status_code == 403


def test_reshape_keeps_raw_text_and_renumbers():
    data = MultiDict([("steps-0-text", "một"), ("steps-3-text", "hai"), ("name", "x")])
    moved = reshape(data, "down:steps:0")
    assert moved.getlist("steps-0-text") == ["hai"]
    assert moved.getlist("steps-1-text") == ["một"]
    assert reshape(data, "remove:steps:5") == MultiDict(
        [("name", "x"), ("steps-0-text", "một"), ("steps-1-text", "hai")]
    )
    assert reshape(data, "explode:steps:0") is data


def test_diff_reports_list_items_added_removed_and_changed():
    old = {"name": "A", "steps": ["một", "hai"], "dossier": [{"name": "Tờ khai", "copies": 0}]}
    new = {
        "name": "A",
        "steps": ["một", "ba", "bốn"],
        "dossier": [{"name": "Tờ khai", "copies": 1}],
    }
    changes = {c.key: c for c in diff_records(old, new)}
    assert set(changes) == {"steps", "dossier"}
    assert [(i.kind, i.position) for i in changes["steps"].items] == [
        ("changed", 2),
        ("added", 3),
    ]
    assert changes["dossier"].items[0].keys == ["copies"]


def test_drafts_never_touch_the_public_row(staff_app, login_as):
    editor = login_as("editor")
    with staff_app.app_context():
        before = db.session.execute(
            db.select(Procedure.name, Procedure.status).order_by(Procedure.code)
        ).all()
    _edit(editor, name="Chỉ trong bản nháp")
    with staff_app.app_context():
        after = db.session.execute(
            db.select(Procedure.name, Procedure.status).order_by(Procedure.code)
        ).all()
    assert before == after
