"""The audit trail of staff actions: `record` notes one inside the use case that does it (same
transaction, so an action that rolls back leaves no entry), and admins list the entries.

The actor and the client's address are read from the request when there is one (flask-login's
`current_user`, `request.remote_addr`, which ProxyFix sets behind TRUSTED_PROXIES), so services
keep plain arguments; without a request the actor is the command line, "cli". Nothing here, or
anywhere, changes or deletes an entry, but `purge` when AUDIT_RETENTION_DAYS is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, func, select

from . import accounts
from .db import Base, db, use_case, utcnow
from .errors import ValidationError
from .inputs import integer
from .models import AuditEntry, StaffRole, User

CLI = "cli"
# What the page filters on: the part of an action code before its dot.
KINDS = {
    "login": _l("Đăng nhập, đăng xuất"),
    "account": _l("Tài khoản"),
    "procedure": _l("Thủ tục"),
    "agency": _l("Cơ quan"),
    "field": _l("Lĩnh vực"),
    "settings": _l("Thông tin cổng"),
    "dictionary": _l("Từ điển tìm kiếm"),
    "upload": _l("Tệp tải lên"),
    "import": _l("Nhập dữ liệu"),
    "feedback": _l("Góp ý"),
    "poll": _l("Thăm dò"),
    "journey": _l("Hành trình"),
    "backup": _l("Sao lưu, phục hồi"),
}
# The label a target row gets by its table, and which of its columns names it.
_NAMES = {"procedure": "code", "agency": "slug", "field": "slug", "staff_user": "username"}


def _actor(actor: User | None) -> tuple[int | None, str]:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if actor is not None and getattr(actor, "id", None) is not None:
        return actor.id, actor.display_name
    return None, "" if has_request_context() else CLI


def _target(target: Base | tuple[str, object] | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        kind, key = target
        return kind, str(key)
    kind = target.__tablename__
    return kind, str(getattr(target, _NAMES.get(kind, "id")))


def record(
    action: str,
    target: Base | tuple[str, object] | None = None,
    summary: str = "",
    *,
    actor: User | None = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Add an entry for `action` ("kind.verb") on `target` (a row, or (kind, key)) to the
    current unit of work, with a short `summary` in words (flush only: the use case commits).

    `actor` defaults to the logged-in user (None without one: the command line); `actor_name`
    overrides the name kept (the login name a failed login tried)."""
    actor_id, name = _actor(actor)
    kind, key = _target(target)
    address = (request.remote_addr or "") if has_request_context() else ""
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor_name=(name if actor_name is None else actor_name)[:200],
        action=action,
        target_kind=kind,
        target_id=key[:120],
        summary=summary[:500],
        address=address[:64],
    )
    db.session.add(entry)
    return entry


# --- the admins' page --------------------------------------------------------------------------


@dataclass
class Filters:
    """What the page shows: every field optional."""

    actor: str = ""  # a user id, or "cli", or a name typed (a failed login's)
    kind: str = ""
    target: str = ""  # "kind:key" or a key alone
    first: date | None = None
    last: date | None = None


@dataclass
class Page:
    entries: list[AuditEntry]
    number: int
    pages: int
    total: int


def _conditions(filters: Filters) -> list:
    conditions = []
    try:
        conditions.append(AuditEntry.actor_id == integer(filters.actor))
    except ValueError:  # not an account's id: "cli", or the name a failed login tried
        if filters.actor:
            conditions.append(func.lower(AuditEntry.actor_name) == filters.actor.lower())
    if filters.kind:
        if filters.kind not in KINDS:
            raise ValidationError({"kind": _("Loại thao tác không hợp lệ.")})
        conditions.append(AuditEntry.action.startswith(f"{filters.kind}.", autoescape=True))
    kind, sep, key = filters.target.strip().rpartition(":")
    if key:
        conditions.append(AuditEntry.target_id == key)
    if sep and kind:
        conditions.append(AuditEntry.target_kind == kind)
    if filters.first and filters.last and filters.last < filters.first:
        raise ValidationError({"last": _("Ngày kết thúc phải sau ngày bắt đầu.")})
    if filters.first:
        conditions.append(AuditEntry.at >= datetime.combine(filters.first, time()))
    if filters.last:
        conditions.append(
            AuditEntry.at < datetime.combine(filters.last + timedelta(days=1), time())
        )
    return conditions


def list_entries(filters: Filters, number: int, user: User, per_page: int = 50) -> Page:
    """One page of entries, newest first, for admins. Raises PermissionDenied,
    ValidationError (an unknown kind, a period that ends before it starts)."""
    accounts.require(user, StaffRole.ADMIN)
    conditions = _conditions(filters)
    total = db.session.execute(select(func.count(AuditEntry.id)).where(*conditions)).scalar_one()
    pages = max(1, -(-total // per_page))
    number = min(number, pages)
    entries = db.session.execute(
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((number - 1) * per_page)
        .limit(per_page)
    ).scalars()
    return Page(list(entries), number, pages, total)


def actors(user: User) -> list[User]:
    """The accounts the actor filter offers."""
    return accounts.list_users(user)


@use_case
def purge() -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS; keep everything when it is not set.
    Returns how many were deleted."""
    days = current_app.config.get("AUDIT_RETENTION_DAYS")
    if not days:
        return 0
    old = AuditEntry.at < utcnow() - timedelta(days=int(days))
    return db.session.execute(delete(AuditEntry).where(old)).rowcount
