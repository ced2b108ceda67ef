"""Staff accounts under /staff/: logging in and out and changing one's password, and what every
staff blueprint runs first (the login requirement) and last (no caching).

Only the login page is open to visitors; every other staff URL sends them to it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import accounts
from ..errors import ValidationError
from ..forms.auth import LoginForm, PasswordForm
from ..forms.common import put_errors
from ..inputs import local_path

bp = Blueprint("auth", __name__, url_prefix="/staff")


def require_login():
    """Send a visitor who has not logged in to the login page (the login page excepted)."""
    if request.endpoint != "auth.login" and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


def no_store(response: Response) -> Response:
    """Staff pages are private and change often: no shared or browser caching."""
    response.headers["Cache-Control"] = "no-store"
    return response


def guard(blueprint: Blueprint) -> None:
    """Make every page of a staff blueprint need a login and never be cached."""
    blueprint.before_request(require_login)
    blueprint.after_request(no_store)


guard(bp)


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path inside the staff area, never another site."""
    path = local_path(target)
    if path is None or not path.startswith("/staff/"):
        return url_for("editor.dashboard")
    return path


def _start_session(user) -> None:
    """Log `user` in on a new session: nothing from before the login is kept (the CSRF token
    a visitor's page held, or one planted on them, is not valid after it)."""
    session.clear()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("editor.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.username.data, form.password.data, request.remote_addr or ""
            )
        except (accounts.LoginFailed, accounts.LockedOut) as error:
            form.form_errors.append(str(error))
            status = 429 if isinstance(error, accounts.LockedOut) else 401
        else:
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
def logout():
    # Ends this session on the server too: a copy of the cookie made before is refused after.
    accounts.end_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationError as error:
            put_errors(form, error.errors, "new_password")
        else:
            # Every session of the account ended with the password; this one goes on, renewed.
            _start_session(user)
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("editor.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/password.html", form=form), status
