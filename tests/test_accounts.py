"""Staff accounts: the create-user command, logging in and out, the lock-out after failed
logins, session cookies, changing one's password, managing accounts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from services.db import db
from services.models import LoginAttempt, User
from tests.helpers import STAFF_PASSWORD, make_app, submit


@pytest.fixture
def app(staff_app):
    return staff_app


def _login(client, username, password, address="10.0.0.1", headers=None):
    page = client.get("/staff/login", environ_base={"REMOTE_ADDR": address})
    forms = [f for f in page.text.split("<form") if "csrf_token" in f]
    token = forms[-1].split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post(
        "/staff/login",
        data={"csrf_token": token, "username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _age_failures(app, minutes: int) -> None:
    """Move every recorded failure `minutes` into the past."""
    with app.app_context():
        for attempt in db.session.execute(db.select(LoginAttempt)).scalars():
            attempt.at -= timedelta(minutes=minutes)
        db.session.commit()


def test_create_user_command_with_prompt_and_stdin(staff_app):
    runner = staff_app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "Can.Bo", "--role", "publisher", "--agency", "phong-b"],
        input="mat-khau-moi-1\nmat-khau-moi-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "Đã tạo tài khoản publisher can.bo." in result.output
    assert "mat-khau-moi-1" not in result.output
    assert _login(staff_app.test_client(), "can.bo", "mat-khau-moi-1").status_code == 302

    result = runner.invoke(
        args=["create-user", "nguoi-khac", "--role", "admin", "--password-stdin"],
        input="mat-khau-tu-stdin\n",
    )
    assert result.exit_code == 0, result.output
    assert _login(staff_app.test_client(), "nguoi-khac", "mat-khau-tu-stdin").status_code == 302


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["x1", "--role", "chief"], "mat-khau-dai\n", "Invalid value for '--role'"),
        (["can-bo", "--role", "editor", "--agency", "xx"], "mat-khau-dai\n", "Không có cơ quan"),
        (["can-bo", "--role", "editor"], "mat-khau-dai\n", "cần thuộc ít nhất một cơ quan"),
        (["can-bo", "--role", "admin"], "ngan\n", "Mật khẩu cần ít nhất 8 ký tự."),
        (["editor", "--role", "admin"], "mat-khau-dai\n", "Tên đăng nhập này đã có người dùng."),
        (["ab", "--role", "admin"], "mat-khau-dai\n", "Tên đăng nhập gồm 3–80"),
    ],
)
def test_create_user_command_refuses_bad_input(staff_app, args, stdin, message):
    result = staff_app.test_cli_runner().invoke(
        args=["create-user", *args, "--password-stdin"], input=stdin
    )
    assert result.exit_code != 0
    assert message in result.output


def test_a_failed_login_does_not_say_which_part_was_wrong(staff_app):
    client = staff_app.test_client()
    wrong_password = _login(client, "editor", "sai-mat-khau")
    unknown_user = _login(client, "khong-ai", STAFF_PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 401
    message = "Tên đăng nhập hoặc mật khẩu không đúng."
    assert message in wrong_password.text
    assert message in unknown_user.text
    assert STAFF_PASSWORD not in wrong_password.text + unknown_user.text


def test_five_failures_lock_that_account_and_address_for_fifteen_minutes(staff_app):
    client = staff_app.test_client()
    for _ in range(5):
        assert _login(client, "editor", "sai-mat-khau").status_code == 401
    locked = _login(client, "editor", STAFF_PASSWORD)
    assert locked.status_code == 429
    assert "Đăng nhập bị tạm khóa; hãy thử lại sau 15 phút." in locked.text
    # Another address, or another account from this address, is not locked.
    assert _login(staff_app.test_client(), "editor", STAFF_PASSWORD, "10.0.0.2").status_code == 302
    assert _login(staff_app.test_client(), "publisher", STAFF_PASSWORD).status_code == 302
    # Fourteen minutes later it is still locked; sixteen minutes later it is not.
    _age_failures(staff_app, minutes=14)
    assert _login(staff_app.test_client(), "editor", STAFF_PASSWORD).status_code == 429
    _age_failures(staff_app, minutes=2)
    assert _login(staff_app.test_client(), "editor", STAFF_PASSWORD).status_code == 302
    with staff_app.app_context():
        assert db.session.execute(db.select(LoginAttempt)).first() is None


def test_four_failures_spread_out_do_not_lock(staff_app):
    client = staff_app.test_client()
    for _ in range(4):
        _login(client, "editor", "sai")
    _age_failures(staff_app, minutes=16)
    _login(client, "editor", "sai")
    assert _login(client, "editor", STAFF_PASSWORD).status_code == 302


def test_an_inactive_account_cannot_log_in(staff_app):
    with staff_app.app_context():
        db.session.execute(update(User).where(User.username == "editor").values(active=False))
        db.session.commit()
    assert _login(staff_app.test_client(), "editor", STAFF_PASSWORD).status_code == 401


def test_session_cookie_is_httponly_samesite_and_secure_over_https(staff_app):
    response = _login(staff_app.test_client(), "editor", STAFF_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    client = staff_app.test_client()
    page = client.get("/staff/login", base_url="https://localhost")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "editor", "password": STAFF_PASSWORD},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/staff/login"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_goes_back_only_to_staff_pages(staff_app):
    client = staff_app.test_client()
    assert client.get("/staff/procedures/1.000001").location.startswith(
        "/staff/login?next=%2Fstaff%2Fprocedures%2F1.000001"
    )
    page = client.get("/staff/login?next=/staff/procedures/1.000001")
    response = submit(client, page, username="editor", password=STAFF_PASSWORD)
    assert response.location == "/staff/procedures/1.000001"
    client = staff_app.test_client()
    page = client.get("/staff/login?next=https://evil.example/")
    response = submit(client, page, username="editor", password=STAFF_PASSWORD)
    assert response.location == "/staff/"


def test_logout_ends_the_session(login_as):
    client = login_as("editor")
    page = client.get("/staff/")
    response = submit(client, page, "/staff/logout")
    assert response.location == "/staff/login"
    assert client.get("/staff/").status_code == 302


def _replay(staff_app, cookie: str):
    """A new client that sends a copy of a session cookie taken earlier."""
    client = staff_app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_a_session_cookie_copied_before_logout_is_refused_after_it(staff_app, login_as):
    client = login_as("editor")
    copy = client.get_cookie("session").value
    assert _replay(staff_app, copy).get("/staff/").status_code == 200
    submit(client, client.get("/staff/"), "/staff/logout")
    response = _replay(staff_app, copy).get("/staff/")
    assert response.status_code == 302
    assert response.location.startswith("/staff/login")


def test_logging_out_ends_the_accounts_other_sessions_too(login_as):
    here, elsewhere = login_as("editor"), login_as("editor")
    submit(here, here.get("/staff/"), "/staff/logout")
    assert elsewhere.get("/staff/").location.startswith("/staff/login")
    assert login_as("editor").get("/staff/").status_code == 200


def test_a_session_cookie_copied_before_a_password_change_is_refused_after_it(staff_app, login_as):
    here = login_as("editor")
    copy = here.get_cookie("session").value
    page = here.get("/staff/password")
    response = submit(
        here, page, current_password=STAFF_PASSWORD, new_password="mat-khau-moi-2",
        confirm="mat-khau-moi-2",
    )  # fmt: skip
    assert response.status_code == 302
    assert here.get_cookie("session").value != copy
    assert here.get("/staff/").status_code == 200  # the session that changed it goes on
    assert _replay(staff_app, copy).get("/staff/").location.startswith("/staff/login")


def _csrf_token(html: str) -> str:
    return html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def test_the_csrf_token_is_renewed_at_login(staff_app):
    client = staff_app.test_client()
    before = _csrf_token(client.get("/staff/login").text)
    response = client.post(
        "/staff/login",
        data={"csrf_token": before, "username": "editor", "password": STAFF_PASSWORD},
    )
    assert response.status_code == 302
    after = _csrf_token(client.get("/staff/password").text)
    assert after != before
    # The token of the page seen before logging in no longer passes, the new one does.
    data = {"current_password": "sai", "new_password": "x" * 8, "confirm": "x" * 8}
    refused = client.post("/staff/password", data={**data, "csrf_token": before})
    assert refused.status_code == 400
    assert "CSRF" in refused.text
    checked = client.post("/staff/password", data={**data, "csrf_token": after})
    assert "Mật khẩu hiện tại không đúng." in checked.text


def test_a_new_role_ends_the_accounts_sessions(staff_app, login_as):
    editor, admin = login_as("editor"), login_as("admin")
    with staff_app.app_context():
        editor_id = db.session.execute(
            db.select(User.id).where(User.username == "editor")
        ).scalar_one()
    page = admin.get(f"/staff/admin/users/{editor_id}")
    assert submit(admin, page, full_name="Chỉ đổi tên").status_code == 302
    assert editor.get("/staff/").status_code == 200  # details alone do not end it
    page = admin.get(f"/staff/admin/users/{editor_id}")
    assert submit(admin, page, role="publisher").status_code == 302
    assert editor.get("/staff/").location.startswith("/staff/login")


def test_changing_ones_password_ends_other_sessions(staff_app, login_as):
    here, elsewhere = login_as("editor"), login_as("editor")
    page = here.get("/staff/password")
    response = submit(
        here, page, current_password="sai", new_password="mat-khau-moi-2", confirm="mat-khau-moi-2"
    )
    assert response.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in response.text
    response = submit(
        here, page, current_password=STAFF_PASSWORD, new_password="mk2", confirm="khac"
    )
    assert "Hai lần nhập không khớp nhau." in response.text
    response = submit(
        here,
        page,
        current_password=STAFF_PASSWORD,
        new_password="mat-khau-moi-2",
        confirm="mat-khau-moi-2",
    )
    assert response.status_code == 302
    assert here.get("/staff/").status_code == 200
    assert elsewhere.get("/staff/").status_code == 302
    assert _login(staff_app.test_client(), "editor", "mat-khau-moi-2").status_code == 302


def test_admin_creates_and_edits_accounts(staff_app, login_as):
    admin = login_as("admin")
    page = admin.get("/staff/admin/users/new")
    response = submit(admin, page, username="Mới!", role="admin", new_password="12345678")
    assert response.status_code == 400
    assert "Tên đăng nhập gồm 3–80" in response.text
    response = submit(admin, page, username="moi", role="editor", new_password="12345678")
    assert "cần thuộc ít nhất một cơ quan" in response.text
    response = submit(
        admin, page, username="can-bo-moi", role="editor", agencies=["phong-b"],
        full_name="Nguyễn Văn A", new_password="mat-khau-dai",
    )  # fmt: skip
    assert response.status_code == 302
    users = admin.get("/staff/admin/users").text
    assert "Nguyễn Văn A" in users
    assert "Phòng B" in users
    with staff_app.app_context():
        user_id = db.session.execute(
            db.select(User.id).where(User.username == "can-bo-moi")
        ).scalar_one()
    page = admin.get(f"/staff/admin/users/{user_id}")
    response = submit(admin, page, role="publisher", agencies=["phong-a", "phong-b"])
    assert response.status_code == 302
    client = staff_app.test_client()
    assert _login(client, "can-bo-moi", "mat-khau-dai").status_code == 302
    assert "1.000001" in client.get("/staff/").text


def test_the_last_admin_cannot_be_demoted(staff_app, login_as):
    admin = login_as("admin")
    with staff_app.app_context():
        admin_id = db.session.execute(
            db.select(User.id).where(User.username == "admin")
        ).scalar_one()
    page = admin.get(f"/staff/admin/users/{admin_id}")
    response = submit(admin, page, role="editor", agencies=["phong-a"])
    assert response.status_code == 400
    assert "Phải còn ít nhất một quản trị viên đang hoạt động." in response.text
    assert admin.get("/staff/admin/users").status_code == 200


def test_behind_a_proxy_the_lock_out_counts_the_forwarded_address(staff_app):
    proxied = make_app(
        Path(staff_app.instance_path),
        TRUSTED_PROXIES=1,
        SQLALCHEMY_DATABASE_URI=staff_app.config["SQLALCHEMY_DATABASE_URI"],
    )

    def attempt(password, address):
        client = proxied.test_client()
        return _login(client, "editor", password, "127.0.0.1", {"X-Forwarded-For": address})

    for _ in range(5):
        attempt("sai", "203.0.113.5")
    assert attempt(STAFF_PASSWORD, "203.0.113.5").status_code == 429
    assert attempt(STAFF_PASSWORD, "203.0.113.6").status_code == 302
