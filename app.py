"""The application factory: configuration in layers, extensions, blueprints and what templates
share, error pages (every service error mapped once, here), CLI.

`flask --app app run` finds `create_app`; production runs `gunicorn 'app:create_app()'`.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    make_response,
    render_template,
    request,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import BadHost, HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.middleware.proxy_fix import ProxyFix

from services import accounts, cli, content_language, db, mail
from services import search as search_service
from services.errors import Conflict, NotFound, PermissionDenied, ServiceError, ValidationError
from services.inputs import IdConverter
from services.views import (
    admin,
    api,
    audit,
    auth,
    editor,
    feedback,
    files,
    headers,
    journeys,
    language,
    opendata,
    printing,
    public,
    reports,
    review,
    search,
    templating,
)


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> language.Domain:
        return language.Domain(domain=self.domain)


babel = _Babel()
csrf = CSRFProtect()
# Schema changes are Alembic migrations in migrations/ (`flask db ...`); batch mode lets SQLite
# alter tables by copying them.
migrate = Migrate(
    directory=str(Path(__file__).resolve().parent / "migrations"), render_as_batch=True
)
login = LoginManager()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the portal. Settings come from the defaults, then `instance/config.py`, then
    `TTHC_*` environment variables, then `test_config`; `TTHC_INSTANCE` picks the instance
    folder (an absolute path)."""
    instance = os.environ.get("TTHC_INSTANCE")
    if test_config and "INSTANCE_PATH" in test_config:
        instance = str(test_config["INSTANCE_PATH"])
    app = Flask(__name__, instance_path=instance or None, instance_relative_config=True)
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    templating.init_app(app)
    content_language.init_app(app)
    headers.init_app(app)
    language.init_app(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Apply the configuration layers and create the instance folders."""
    instance = Path(app.instance_path)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'tthc.sqlite3'}",
        SEARCH_INDEX_DIR=str(instance / "search-index"),
        UPLOAD_DIR=str(instance / "uploads"),
        PRINT_CACHE_DIR=str(instance / "print-cache"),
        UPLOAD_MAX_BYTES=10 * 1024 * 1024,
        # A whole editor form with several files may exceed one file's limit.
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,
        MAX_FORM_PARTS=20_000,
        TRUSTED_PROXIES=0,
        # A CSRF token lives as long as the session: a long edit must not expire on save.
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="vi",
        # The interface's language outside a request (CLI, background builds): "vi" or "en".
        LANGUAGE=None,
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PREFERRED_URL_SCHEME="http",
        PER_PAGE=20,
        # A pooled connection that a restarted database server dropped is replaced, not used.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # A published procedure nobody has confirmed for this long is listed as stale.
        REVIEW_AFTER_DAYS=365,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("TTHC")
    if test_config:
        app.config.from_mapping(test_config)
    for key in ("SEARCH_INDEX_DIR", "UPLOAD_DIR"):
        try:
            Path(app.config[key]).mkdir(parents=True, exist_ok=True)
        except OSError:
            # A damaged folder must not keep the public pages down; its users say what failed.
            app.logger.exception("cannot create %s (%s)", key, app.config[key])
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy: the client's address (login lock-out) and HTTPS come from it.
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.session_interface = SessionInterface()


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)


def _instance_secret(path: Path) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts."""
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db.db)
    babel.init_app(app, locale_selector=language.select_locale)
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = _l("Hãy đăng nhập để vào khu vực cán bộ.")
    login.login_message_category = "info"
    login.user_loader(accounts.load_user)
    search_service.init_app(app)
    mail.init_app(app)


def register_blueprints(app: Flask) -> None:
    # Every <int:...> in a URL is an id: ASCII digits within the database's integers, so any
    # other value is no match (404), never an overflow.
    app.url_map.converters["int"] = IdConverter
    app.register_blueprint(public.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(opendata.bp)
    app.register_blueprint(printing.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(feedback.bp)
    csrf.exempt(
        feedback.bp
    )  # a visitor's forms carry a token without a session (forms/feedback.py)
    app.register_blueprint(reports.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(journeys.bp)
    app.register_blueprint(journeys.staff)


# The HTTP status of each service error a view lets through; a subclass goes with its base
# (EditConflict with Conflict; printing's EmptyBooklet, which its view shows itself, NotFound).
SERVICE_ERRORS: dict[type[ServiceError], int] = {
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
    ValidationError: 400,
    search_service.SearchUnavailable: 503,
}


def register_errorhandlers(app: Flask) -> None:
    """Friendly error pages in the user's language, JSON errors under /api/: for HTTP errors,
    a refused CSRF token, the service errors of SERVICE_ERRORS and a database that does not
    answer (503, to try again); and the 400 for a Host header no URL can be built from, before
    any view runs."""

    def http_error(error: HTTPException):
        # Werkzeug's own descriptions are English; only messages we wrote are shown.
        message = None if error.description == type(error).description else error.description
        return error_response(error.code or 500, message)

    def csrf_error(error: CSRFError):
        message = _(
            "Biểu mẫu thiếu hoặc sai mã bảo vệ (CSRF), có thể do phiên làm việc đã hết. "
            "Hãy tải lại trang rồi gửi lại."
        )
        return error_response(400, message)

    def service_error(error: ServiceError):
        code = next(code for kind, code in SERVICE_ERRORS.items() if isinstance(error, kind))
        return error_response(code, str(error) or None)

    def database_unavailable(error: OperationalError):
        # The server is down or restarting, or SQLite stayed locked past its busy timeout: the
        # transaction was rolled back, so nothing half-done stays; the visitor may try again.
        app.logger.error("database unavailable: %s", error)
        message = _("Cơ sở dữ liệu tạm thời không trả lời. Hãy thử lại sau ít phút.")
        try:
            db.db.session.rollback()
            response = make_response(error_response(503, message))
        except SQLAlchemyError:  # the page itself reads the site settings: say it plainly
            response = Response(message, 503, mimetype="text/plain")
        response.headers["Retry-After"] = "10"
        return response

    app.before_request(refuse_bad_host)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, csrf_error)
    for kind in SERVICE_ERRORS:
        app.register_error_handler(kind, service_error)


def host_is_valid() -> bool:
    """Whether the request's Host header can make URLs: Werkzeug refuses an IDNA label of more
    than 63 characters when routing (BadHost) and broken punycode ("xn--zz") in request.url."""
    if isinstance(request.routing_exception, BadHost):
        return False
    try:
        return bool(request.url)
    except UnicodeError:
        return False


def refuse_bad_host() -> None:
    """Answer 400 before any view runs for a Host header no URL can be built from."""
    if not host_is_valid():
        abort(400, description=_("Tên máy chủ (Host) trong yêu cầu không hợp lệ."))


def error_response(code: int, message: str | None):
    """The error page for `code` with our `message` (if any); under /api/ the same as JSON;
    plain text when the Host header is unusable (the page's links could not be built)."""
    if not host_is_valid():
        return Response(message or HTTP_STATUS_CODES.get(code, ""), code, mimetype="text/plain")
    if request.path.startswith("/api/"):
        return {
            "error": message or HTTP_STATUS_CODES.get(code, "Unknown Error"),
            "status": code,
        }, code
    return render_template("errors/error.html", code=code, message=message), code


def register_commands(app: Flask) -> None:
    cli.init_app(app)
