"""Staff accounts: users and their roles, the agencies they work for, logging in with a lock-out
after repeated failures, and changing passwords.

Passwords are hashed with scrypt (werkzeug) and never logged. Failed logins are stored in the
database, so the lock-out (5 failures in 15 minutes for one account from one address locks that
pair for 15 minutes) holds however many server processes run.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .db import db, transaction, use_case, utcnow
from .errors import NotFound, PermissionDenied, ServiceError, ValidationError
from .inputs import integer
from .models import Agency, LoginAttempt, StaffRole, User
from .text import clean

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
MIN_PASSWORD = 8
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
HASH_METHOD = "scrypt"


class LoginFailed(ServiceError):
    """Wrong username or password (which one is never said), or an inactive account."""


class LockedOut(ServiceError):
    """Too many failed logins for this account from this address; `minutes` until retry."""

    def __init__(self, minutes: int):
        self.minutes = minutes
        super().__init__(
            ngettext(
                "Đăng nhập bị tạm khóa; hãy thử lại sau %(m)s phút.",
                "Đăng nhập bị tạm khóa; hãy thử lại sau %(m)s phút.",
                minutes,
                m=minutes,
            )
        )


# --- logging in ---------------------------------------------------------------------------------


def _login_key(username: str) -> str:
    return clean(username).lower()[:80]


@cache
def _decoy_hash() -> str:
    """A hash to check against when the account does not exist, so that both cases take the
    same time and timing does not tell which usernames exist."""
    return generate_password_hash(secrets.token_hex(16), method=HASH_METHOD)


def _locked_until(username: str, address: str):
    """When the lock on this account and address ends, or None when it is not locked."""
    now = utcnow()
    times = list(
        db.session.execute(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.address == address,
                LoginAttempt.at > now - WINDOW - LOCK,
            )
            .order_by(LoginAttempt.at)
        ).scalars()
    )
    # The lock starts at the failure that makes MAX_FAILURES within WINDOW and lasts LOCK.
    until = None
    for i in range(MAX_FAILURES - 1, len(times)):
        if times[i] - times[i - MAX_FAILURES + 1] <= WINDOW:
            until = times[i] + LOCK
    return until if until and until > now else None


def authenticate(username: str, password: str, address: str) -> User:
    """Check a login and record its outcome.

    Arguments: what was typed and the client's address. Returns the active user. Raises
    LockedOut while the pair (account, address) is locked (the password is not checked then),
    LoginFailed for a wrong username or password or an inactive account.
    """
    key = _login_key(username)
    address = (address or "unknown")[:64]
    until = _locked_until(key, address)
    if until is not None:
        with transaction():
            audit.record("login.locked", None, _("Đăng nhập khi đang bị khóa"), actor_name=key)
        raise LockedOut(max(1, -(-int((until - utcnow()).total_seconds()) // 60)))
    user = db.session.execute(select(User).where(User.username == key)).scalar_one_or_none()
    valid = check_password_hash(user.password_hash if user else _decoy_hash(), password or "")
    if user is None or not valid or not user.active:
        # The failure is kept (it counts toward the lock-out) although the login fails.
        with transaction():
            now = utcnow()
            db.session.add(LoginAttempt(username=key, address=address, at=now))
            old = LoginAttempt.at < now - timedelta(days=1)
            db.session.execute(delete(LoginAttempt).where(old))
            audit.record("login.failed", None, _("Đăng nhập không thành công"), actor_name=key)
        raise LoginFailed(_("Tên đăng nhập hoặc mật khẩu không đúng."))
    with transaction():
        db.session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.username == key, LoginAttempt.address == address
            )
        )
        user.last_login_at = utcnow()
        audit.record("login.ok", user, _("Đăng nhập"), actor=user)
    return user


def load_user(session_id: str) -> User | None:
    """The active user a session's id names ("<id>:<stamp>"), or None when the id is stale."""
    user_id, _sep, stamp = session_id.partition(":")
    try:
        key = integer(user_id)
    except ValueError:
        return None
    user = db.session.execute(
        select(User).where(User.id == key).options(selectinload(User.agencies))
    ).scalar_one_or_none()
    if user is None or not user.active or not secrets.compare_digest(user.session_stamp, stamp):
        return None
    return user


def _new_stamp(user: User) -> None:
    """End every session of `user`: their ids carry the old stamp, which no longer matches."""
    user.session_stamp = secrets.token_hex(16)


@use_case
def end_sessions(user: User) -> None:
    """End every session of `user`, on every server at once (logging out: a copy of the session
    cookie taken before must not work after)."""
    _new_stamp(user)
    audit.record("login.logout", user, _("Đăng xuất"), actor=user)


# --- access rules -------------------------------------------------------------------------------


def require(user: User | None, role: StaffRole) -> None:
    """Raise PermissionDenied unless `user` is logged in with `role` or a higher one."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.has_role(role):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def scope(user: User) -> set[int] | None:
    """Ids of the agencies `user` works for, with every agency under them; None for admins,
    whose scope is everything."""
    if user.has_role(StaffRole.ADMIN):
        return None
    children: dict[int | None, list[int]] = {}
    for agency_id, parent_id in db.session.execute(select(Agency.id, Agency.parent_id)):
        children.setdefault(parent_id, []).append(agency_id)
    found: set[int] = set()
    stack = [agency.id for agency in user.agencies]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def in_scope(user: User, agency_ids: Iterable[int]) -> bool:
    """True when `user` may act for at least one of `agency_ids`."""
    allowed = scope(user)
    return allowed is None or bool(allowed & set(agency_ids))


# --- managing accounts --------------------------------------------------------------------------


@dataclass
class Account:
    """What an admin sets on an account (plain values from a form or the command line)."""

    username: str
    role: str
    agencies: list[str]
    full_name: str = ""
    email: str = ""
    active: bool = True


def _check_password(password: str, path: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError({path: _("Mật khẩu cần ít nhất %(n)s ký tự.", n=MIN_PASSWORD)})


def _apply(user: User, account: Account) -> None:
    if account.role not in [r.value for r in StaffRole]:
        raise ValidationError({"role": _("Vai trò không hợp lệ.")})
    agencies = []
    for slug in dict.fromkeys(account.agencies):
        agency = db.session.execute(select(Agency).where(Agency.slug == slug)).scalar_one_or_none()
        if agency is None:
            raise ValidationError({"agencies": _("Không có cơ quan “%(slug)s”.", slug=slug)})
        agencies.append(agency)
    if account.role != StaffRole.ADMIN and not agencies:
        raise ValidationError(
            {"agencies": _("Biên tập viên và người duyệt cần thuộc ít nhất một cơ quan.")}
        )
    if user.id is not None and (user.role != account.role or (user.active and not account.active)):
        _new_stamp(user)  # a demoted or deactivated account logs in again, with what it now has
    user.role = account.role
    user.agencies = agencies
    user.full_name = clean(account.full_name)
    user.email = clean(account.email)
    user.active = account.active


@use_case
def create_user(account: Account, password: str, actor: User | None = None) -> User:
    """Create a staff account. `actor` is the admin doing it (None: the command line).

    Raises PermissionDenied for a non-admin actor, ValidationError for a bad or taken username,
    a short password, an unknown role or agency, or an editor without an agency.
    """
    if actor is not None:
        require(actor, StaffRole.ADMIN)
    username = _login_key(account.username)
    if not USERNAME_PATTERN.match(username):
        raise ValidationError(
            {"username": _("Tên đăng nhập gồm 3–80 chữ thường không dấu, số, dấu . _ -")}
        )
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise ValidationError({"username": _("Tên đăng nhập này đã có người dùng.")})
    _check_password(password)
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method=HASH_METHOD),
        session_stamp=secrets.token_hex(16),
    )
    _apply(user, account)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "account.create", user, _("Tạo tài khoản, vai trò %(r)s", r=user.role), actor=actor
    )
    return user


@use_case
def update_user(
    user_id: int, account: Account, actor: User, new_password: str | None = None
) -> User:
    """Change an account's role, agencies, details, active flag and (optionally) password.

    A new role, deactivating or a new password ends the account's sessions. Raises PermissionDenied,
    NotFound, ValidationError (also when the change would leave no active admin).
    """
    user = get_user(user_id, actor)
    before = (user.role, [a.slug for a in user.agencies], user.active)
    _apply(user, account)
    if new_password:
        _check_password(new_password, "new_password")
        user.password_hash = generate_password_hash(new_password, method=HASH_METHOD)
        _new_stamp(user)
    db.session.flush()
    admins = db.session.execute(
        select(User.id).where(User.role == StaffRole.ADMIN, User.active.is_(True))
    ).first()
    if admins is None:
        raise ValidationError({"role": _("Phải còn ít nhất một quản trị viên đang hoạt động.")})
    summary = _account_summary(user, before, bool(new_password))
    audit.record("account.update", user, summary, actor=actor)
    return user


def _account_summary(user: User, before: tuple, new_password: bool) -> str:
    """What an update changed, in words."""
    role, agencies, active = before
    said = [_("Sửa tài khoản")]
    if role != user.role:
        said.append(_("vai trò %(a)s → %(b)s", a=role, b=user.role))
    if agencies != [a.slug for a in user.agencies]:
        said.append(_("cơ quan: %(s)s", s=", ".join(a.slug for a in user.agencies) or "—"))
    if active != user.active:
        said.append(_("mở khóa") if user.active else _("khóa tài khoản"))
    if new_password:
        said.append(_("đặt mật khẩu mới"))
    return "; ".join(said)


@use_case
def change_password(user: User, current: str, new: str) -> User:
    """Change one's own password after checking the current one; other sessions end.

    Raises ValidationError when the current password is wrong or the new one too short.
    """
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError({"current_password": _("Mật khẩu hiện tại không đúng.")})
    _check_password(new, "new_password")
    user.password_hash = generate_password_hash(new, method=HASH_METHOD)
    _new_stamp(user)
    audit.record("account.password", user, _("Đổi mật khẩu của mình"), actor=user)
    return user


def get_user(user_id: int, actor: User) -> User:
    """An account, for an admin. Raises PermissionDenied, NotFound."""
    require(actor, StaffRole.ADMIN)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("Không có tài khoản này."))
    return user


def list_users(actor: User) -> list[User]:
    """Every account, by username, for an admin. Raises PermissionDenied."""
    require(actor, StaffRole.ADMIN)
    return list(
        db.session.execute(
            select(User).order_by(User.username).options(selectinload(User.agencies))
        ).scalars()
    )
