"""The audit trail: an entry for each kind of staff action, driven through the real staff pages
and the command line (who, what, on what, from where), written only when the action commits;
the admins' page with its filters, in the route × role matrix; nothing can change an entry."""

from __future__ import annotations

import io
import json
import shutil
from datetime import timedelta

import pytest
from flask import Flask

from services.db import db, utcnow
from services.models import AuditEntry, User
from tests.helpers import STAFF_ACCOUNTS, STAFF_PASSWORD, close_app, make_app, submit
from tests.test_staff_access import ADMINS, NO, ROLES
from tests.test_uploads import PDF

P = "/staff/procedures/1.000001"
AUDIT = "/staff/audit/"


def _entries(app: Flask, prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    """(action, actor name, target, summary, address) of the entries after the staff
    instance's own (its accounts, created outside any request: by "cli"), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            db.select(AuditEntry)
            .where(AuditEntry.action.startswith(prefix), AuditEntry.id > len(STAFF_ACCOUNTS))
            .order_by(AuditEntry.id)
        ).scalars()
        return [
            (e.action, e.actor_name, f"{e.target_kind}:{e.target_id}", e.summary, e.address)
            for e in rows
        ]


def _user_id(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(User.id).filter_by(username=username)).scalar_one()


def _login(client, username: str, password: str):
    page = client.get("/staff/login")
    return submit(client, page, username=username, password=password)


# --- who may see it ----------------------------------------------------------------------------


def test_only_admins_see_the_audit_page(staff_app, login_as):
    routes = {
        (method, rule.rule)
        for rule in staff_app.url_map.iter_rules()
        if rule.endpoint.startswith("audit.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {("GET", AUDIT)}  # read only: no route edits or deletes an entry
    for role in ROLES:
        response = login_as(role).get(AUDIT)
        if role == "anonymous":
            assert response.status_code == 302
            assert response.location.startswith("/staff/login")
        elif ADMINS[role] == NO:
            assert response.status_code == 403, role
        else:
            assert response.status_code == 200
            assert 'id="audit"' in response.text
    assert 'href="/staff/audit/"' in login_as("admin").get("/staff/").text
    assert 'href="/staff/audit/"' not in login_as("publisher").get("/staff/").text
    for method in ("POST", "PUT", "DELETE"):
        assert login_as("admin").open(AUDIT, method=method).status_code == 405


# --- logging in and out ------------------------------------------------------------------------


@pytest.fixture
def proxied_app(staff_instance, tmp_path):
    """The staff instance behind one trusted reverse proxy."""
    instance = tmp_path / "proxied"
    shutil.copytree(staff_instance, instance)
    application = make_app(instance, TRUSTED_PROXIES=1)
    yield application
    close_app(application)


def test_logins_failed_logins_and_logouts_with_the_address_behind_a_proxy(proxied_app):
    client = proxied_app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    assert _login(client, "Khong-Co-Ai", "sai").status_code == 401
    assert _login(client, "editor", "sai-mat-khau").status_code == 401
    assert _login(client, "editor", STAFF_PASSWORD).status_code == 302
    submit(client, client.get("/staff/"), "/staff/logout")
    editor = _user_id(proxied_app, "editor")
    assert _entries(proxied_app, "login.") == [
        ("login.failed", "khong-co-ai", ":", "Đăng nhập không thành công", "203.0.113.7"),
        ("login.failed", "editor", ":", "Đăng nhập không thành công", "203.0.113.7"),
        ("login.ok", "editor", "staff_user:editor", "Đăng nhập", "203.0.113.7"),
        ("login.logout", "editor", "staff_user:editor", "Đăng xuất", "203.0.113.7"),
    ]
    with proxied_app.app_context():
        ids = db.session.execute(db.select(AuditEntry.actor_id).order_by(AuditEntry.id))
        assert [row[0] for row in ids][-4:] == [None, None, editor, editor]


def test_a_locked_out_attempt_is_noted_too(staff_app):
    client = staff_app.test_client()
    for _attempt in range(6):
        _login(client, "editor", "sai-mat-khau")
    actions = [entry[0] for entry in _entries(staff_app, "login.")]
    assert actions == ["login.failed"] * 5 + ["login.locked"]


# --- accounts, settings, the dictionary, lĩnh vực, agencies -------------------------------------


def test_account_changes_and_password_changes(staff_app, login_as):
    admin = login_as("admin")
    page = admin.get("/staff/admin/users/new")
    response = submit(
        admin, page, username="can-bo-moi", role="editor", agencies=["phong-b"],
        full_name="Nguyễn Văn A", new_password="mat-khau-dai",
    )  # fmt: skip
    assert response.status_code == 302
    user_id = _user_id(staff_app, "can-bo-moi")
    page = admin.get(f"/staff/admin/users/{user_id}")
    assert submit(admin, page, role="publisher", active=None).status_code == 302
    # A refused change leaves no entry: the entry is in the action's own transaction.
    assert submit(admin, page, username="x", role="nope").status_code == 400
    editor = login_as("editor")
    page = editor.get("/staff/password")
    submit(editor, page, current_password=STAFF_PASSWORD, new_password="mot-mat-khau-moi",
           confirm="mot-mat-khau-moi")  # fmt: skip
    entries = _entries(staff_app, "account.")
    assert [e[:3] for e in entries] == [
        ("account.create", "admin", "staff_user:can-bo-moi"),
        ("account.update", "admin", "staff_user:can-bo-moi"),
        ("account.password", "editor", "staff_user:editor"),
    ]
    assert entries[0][3] == "Tạo tài khoản, vai trò editor"
    assert entries[1][3] == "Sửa tài khoản; vai trò editor → publisher; khóa tài khoản"


def test_agencies_fields_settings_and_the_dictionaries(staff_app, login_as):
    admin = login_as("admin")
    A = "/staff/admin/agencies/phong-a"
    assert (
        submit(admin, admin.get(A), "", phone="0227 3851 234", note="Số máy mới").status_code == 302
    )
    assert submit(admin, admin.get(A), "", name="").status_code == 400  # refused: no entry
    assert submit(admin, admin.get(A), "", phone="0227 0000 000").status_code == 302
    history = admin.get(f"{A}/history")
    assert submit(admin, history, f"{A}/history/1/restore").status_code == 302
    page = admin.get("/staff/admin/fields/new")
    assert submit(admin, page, "", name="Đất đai", code="G01").status_code == 302
    page = admin.get("/staff/admin/settings")
    assert submit(admin, page, "", portal_name="Cổng thủ tục xã Thử").status_code == 302
    page = admin.get("/staff/admin/synonyms")
    response = submit(admin, page, 0, text="gpxd => giấy phép xây dựng\n")
    assert response.status_code == 302
    submit(admin, admin.get("/staff/admin/synonyms"), "/staff/admin/synonyms/reset")
    staff_app.test_client().get("/tim-kiem", query_string={"q": "abcdef"})
    report = admin.get("/staff/reports/search")
    submit(admin, report, "/staff/reports/search/rule", kind="glossary", target="hộ tịch")
    assert [e[:4] for e in _entries(staff_app) if not e[0].startswith("login.")] == [
        ("agency.updated", "admin", "agency:phong-a", "Số máy mới"),
        ("agency.updated", "admin", "agency:phong-a", "Phòng A"),
        ("agency.updated", "admin", "agency:phong-a", "Khôi phục phiên bản số 1"),
        ("field.created", "admin", "field:dat-dai", "Đất đai"),
        ("settings.updated", "admin", ":", "Sửa thông tin cổng"),
        ("dictionary.synonyms", "admin", ":", "Sửa từ điển: 1 dòng"),
        ("dictionary.reset", "admin", ":", "Về từ điển gốc"),
        ("dictionary.glossary", "admin", ":", "abcdef => hộ tịch"),
    ]


# --- procedures, uploads, feedback, polls --------------------------------------------------------


def test_procedure_edits_uploads_and_the_workflow(staff_app, login_as):
    editor, publisher = login_as("editor"), login_as("publisher")
    page = editor.get(f"{P}/edit")
    files = {"dossier-0-template_upload": (io.BytesIO(PDF), "mẫu tờ khai.pdf")}
    assert submit(editor, page, "", files=files, note="Thêm mẫu").status_code == 302
    assert submit(editor, editor.get(P), f"{P}/submit").status_code == 302
    assert submit(publisher, publisher.get(P), f"{P}/publish").status_code == 302
    entries = [e for e in _entries(staff_app) if not e[0].startswith("login.")]
    assert [e[:2] for e in entries] == [
        ("upload.stored", "editor"),
        ("procedure.saved", "editor"),
        ("procedure.submitted", "editor"),
        ("procedure.published", "publisher"),
    ]
    assert entries[0][2].startswith("attachment:")
    assert entries[0][3] == "mẫu tờ khai.pdf"
    assert {e[2] for e in entries[1:]} == {"procedure:1.000001"}
    assert entries[1][3] == "Thêm mẫu"


def test_every_other_step_of_a_procedure(staff_app, login_as):
    editor, publisher = login_as("editor"), login_as("publisher")
    page = editor.get("/staff/procedures/new")
    response = submit(editor, page, "", code="2.000100", name="Cấp bản sao trích lục",
                      fields=["Hộ tịch"], agencies__0__agency="phong-a",
                      steps__0__text="Nộp hồ sơ", dossier__0__name="Tờ khai")  # fmt: skip
    assert response.status_code == 302, response.text
    page = editor.get(f"{P}/edit")
    submit(editor, page, "", name="Sẽ bị trả lại", action="submit")
    submit(publisher, publisher.get(P), f"{P}/return", note="Thiếu căn cứ")
    submit(editor, editor.get(P), f"{P}/discard")
    history = publisher.get(f"{P}/history")
    submit(publisher, history, f"{P}/history/1/restore")
    page = publisher.get(f"{P}/abolish")
    assert submit(publisher, page, "", reason="Đã có thủ tục mới").status_code == 302
    entries = [e[:4] for e in _entries(staff_app) if not e[0].startswith("login.")]
    assert entries == [
        ("procedure.created", "editor", "procedure:2.000100", "Cấp bản sao trích lục"),
        ("procedure.submitted", "editor", "procedure:1.000001", "Sẽ bị trả lại"),
        ("procedure.returned", "publisher", "procedure:1.000001", "Thiếu căn cứ"),
        ("procedure.discarded", "editor", "procedure:1.000001", ""),
        ("procedure.restored", "publisher", "procedure:1.000001", "Khôi phục phiên bản số 1"),
        ("procedure.abolished", "publisher", "procedure:1.000001", "Đã có thủ tục mới"),
    ]


def test_feedback_handling_and_polls(staff_app, login_as):
    visitor = staff_app.test_client()
    page = visitor.get("/thu-tuc/1.000001")
    submit(visitor, page, "/thu-tuc/1.000001/gop-y", useful="no")
    editor = login_as("editor")
    page = editor.get("/staff/feedback")
    answer_form = next(
        f for f in page.text.split('action="')[1:] if f.startswith("/staff/feedback/")
    )
    answer_id = int(answer_form.split('"')[0].rsplit("/", 1)[1])
    submit(editor, page, f"/staff/feedback/{answer_id}", **{f"a{answer_id}-done": "y"})
    admin = login_as("admin")
    response = submit(admin, admin.get("/staff/polls"), "/staff/polls", question="Bạn thấy sao?",
                      options="Tốt\nChưa tốt")  # fmt: skip
    poll_url = response.location
    submit(admin, admin.get(poll_url), f"{poll_url}/state", is_open="y")
    poll_id = poll_url.rsplit("/", 1)[1]
    assert [e[:4] for e in _entries(staff_app) if not e[0].startswith("login.")] == [
        ("feedback.handled", "editor", f"page_feedback:{answer_id}", "Đánh dấu đã xử lý"),
        ("poll.created", "admin", f"poll:{poll_id}", "Bạn thấy sao?"),
        ("poll.state", "admin", f"poll:{poll_id}", "mở"),
    ]


# --- the command line ----------------------------------------------------------------------------


def test_imports_and_accounts_from_the_command_line_are_by_cli(staff_app, tmp_path):
    runner = staff_app.test_cli_runner()
    result = runner.invoke(args=["export", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "c.json").read_text())
    document["procedures"][0]["name"] = "Tên đổi khi nhập"
    (tmp_path / "c.json").write_text(json.dumps(document, ensure_ascii=False))
    result = runner.invoke(args=["import", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import", "--dry-run", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["create-user", "tu-dong-lenh", "--role", "admin", "--password-stdin"],
        input="mat-khau-dong-lenh\n",
    )
    assert result.exit_code == 0, result.output
    assert [e[:4] for e in _entries(staff_app)] == [
        ("import.files", "cli", ":", "Thủ tục: tạo mới 0, cập nhật 1, bỏ qua 0"),
        ("account.create", "cli", "staff_user:tu-dong-lenh", "Tạo tài khoản, vai trò admin"),
    ]  # the dry run kept nothing, its entry neither


# --- the page's filters --------------------------------------------------------------------------


def _seed_entries(app: Flask, n: int = 60) -> None:
    with app.app_context():
        admin_id = db.session.execute(db.select(User.id).filter_by(username="admin")).scalar_one()
        old = utcnow() - timedelta(days=40)
        for i in range(n):
            db.session.add(AuditEntry(at=old + timedelta(minutes=i), actor_id=admin_id,
                                      actor_name="admin", action="agency.updated",
                                      target_kind="agency", target_id=f"co-quan-{i}",
                                      summary=f"sửa số {i}"))  # fmt: skip
        db.session.add(AuditEntry(actor_name="cli", action="import.files", summary="nhập"))
        db.session.commit()


def _shown(page) -> list[str]:
    return [cell.split("</td>")[0] for cell in page.text.split('<td class="summary-text">')[1:]]


def test_the_page_filters_by_actor_kind_target_and_period_a_page_at_a_time(staff_app, login_as):
    _seed_entries(staff_app)
    admin = login_as("admin")  # its login is an entry too
    admin_id = _user_id(staff_app, "admin")
    first = admin.get(AUDIT)
    accounts = [f"Tạo tài khoản, vai trò {role}" for role, _agencies in STAFF_ACCOUNTS.values()]
    today = ["Đăng nhập", "nhập", *reversed(accounts)]
    assert _shown(first)[:7] == [*today, "sửa số 59"]  # newest first
    assert len(_shown(first)) == 50
    assert "Trang 1/2" in first.text
    second = admin.get(AUDIT, query_string={"page": "2"})
    assert _shown(second) == [f"sửa số {i}" for i in range(15, -1, -1)]
    assert admin.get(AUDIT, query_string={"page": "abc"}).text.count("Trang 1/2") == 1
    assert "Trang 2/2" in admin.get(AUDIT, query_string={"page": "99"}).text
    assert _shown(admin.get(AUDIT, query_string={"actor": "cli"})) == today[1:]
    by_id = _shown(admin.get(AUDIT, query_string={"actor": str(admin_id), "kind": "login"}))
    assert by_id == ["Đăng nhập"]
    for odd in ("²", "99999999999999999999", "-1"):  # no such account: nothing, not a 500
        response = admin.get(AUDIT, query_string={"actor": odd})
        assert response.status_code == 200
        assert _shown(response) == []
    assert _shown(admin.get(AUDIT, query_string={"target": "agency:co-quan-7"})) == ["sửa số 7"]
    assert _shown(admin.get(AUDIT, query_string={"target": "co-quan-8"})) == ["sửa số 8"]
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    assert _shown(admin.get(AUDIT, query_string={"first": since})) == today
    old = admin.get(AUDIT, query_string={"last": (utcnow() - timedelta(days=30)).date()})
    assert "60 mục" in old.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kind": "khong-co"}, "Loại thao tác không hợp lệ."),
        ({"first": "2026-05-02", "last": "2026-05-01"}, "Ngày kết thúc phải sau ngày bắt đầu."),
        ({"first": "ngày mai"}, "Ngày không hợp lệ"),
    ],
)
def test_bad_filters_are_explained(login_as, query, message):
    response = login_as("admin").get(AUDIT, query_string=query)
    assert response.status_code == 400
    assert message in response.text


def test_entries_are_kept_unless_a_retention_is_configured(staff_app):
    _seed_entries(staff_app, n=3)  # 40 days old
    runner = staff_app.test_cli_runner()
    result = runner.invoke(args=["audit-purge"])
    assert result.exit_code == 0, result.output
    assert "Đã xóa 0 mục" in result.output
    assert len(_entries(staff_app)) == 4
    staff_app.config["AUDIT_RETENTION_DAYS"] = 30
    result = runner.invoke(args=["audit-purge"])
    assert "Đã xóa 3 mục" in result.output
    assert [entry[3] for entry in _entries(staff_app)] == ["nhập"]
