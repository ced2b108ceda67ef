"""Revisions and the activity stream.

A revision is a numbered snapshot of a whole canonical record (services.catalogue.records) with
who, when, what action and a note; the staff pages list them, show one, compare two
(services.editorial.diff) and restore one (services.editorial.workflow).

Imports and the demo seed write procedures without revisions (most are never edited here).
The state they left is recorded when it is needed: just before a staff change, as a revision
by no one dated when that state was written (`record_outside_state`), so every staff change
can be compared with what it started from, and undone; and just before an import overwrites
it, so that no published state is lost (a printed sheet may name it: catalogue/outdated.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import accounts
from ..catalogue import convert, queries
from ..catalogue.records import Record
from ..db import db, utcnow
from ..errors import NotFound, PermissionDenied
from ..models import (
    Agency,
    AgencyRevision,
    Procedure,
    ProcedureAgency,
    ProcedureRevision,
    Role,
    StaffRole,
    User,
)
from .diff import Change, diff_records
from .working_copy import WorkingCopy, get_working_copy

ACTIONS = {
    "initial": _l("Dữ liệu ban đầu"),
    "imported": _l("Nhập từ tệp"),
    "created": _l("Tạo mới"),
    "saved": _l("Lưu"),
    "submitted": _l("Gửi duyệt"),
    "returned": _l("Trả lại để sửa"),
    "published": _l("Công bố"),
    "abolished": _l("Bãi bỏ"),
    "restored": _l("Khôi phục phiên bản cũ"),
    "discarded": _l("Hủy bản nháp"),
    "updated": _l("Cập nhật"),
}


# --- revisions ---------------------------------------------------------------------------------


def _next_number(model: type, column, owner_id: int) -> int:
    last = db.session.execute(
        select(func.max(model.number)).where(column == owner_id)
    ).scalar_one_or_none()
    return (last or 0) + 1


def _add(model: type, owner: str, owner_id: int, record: Record, action: str,
         user: User | None, note: str, at: datetime | None = None):  # fmt: skip
    revision = model(
        **{owner: owner_id},
        number=_next_number(model, getattr(model, owner), owner_id),
        action=action,
        note=note,
        record=record,
        user_id=user.id if user is not None else None,
        created_at=at or utcnow(),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def add_procedure_revision(
    procedure: Procedure, record: Record, action: str, user: User | None, note: str = ""
) -> ProcedureRevision:
    """Record a snapshot of a procedure's record (flush only)."""
    return _add(ProcedureRevision, "procedure_id", procedure.id, record, action, user, note)


def has_outside_state(procedure: Procedure) -> bool:
    """True when `procedure`'s row holds a state no revision records yet: the seed's or an
    import's, never edited in the portal or written after its last edit there. That state is
    the next revision `record_outside_state` writes (services.catalogue.outdated counts on it:
    printed sheets name it by that number before it is written)."""
    edited = procedure.local_edit_at
    return edited is None or procedure.updated_at > edited


def record_outside_state(procedure: Procedure) -> ProcedureRevision | None:
    """Before a staff change of `procedure`: when its row holds a state no revision records,
    record that state first (flush only) and return the revision, else None.

    Such a state was written by the demo seed or an import: before the procedure's first edit
    in the portal (`local_edit_at` unset; "initial"), or since its last one (an import may
    overwrite with newer data; "imported"). Every staff change that writes the row stamps
    `local_edit_at` with the row's own `updated_at`, so a later `updated_at` means an import.
    """
    if not has_outside_state(procedure):
        return None
    edited = procedure.local_edit_at
    if edited is None:
        action = "initial"
        note = _("Trạng thái trước lần sửa đầu tiên trên cổng (nhập từ tệp hoặc danh mục mẫu).")
    else:
        action = "imported"
        note = _("Bản nhập từ tệp, ghi sau lần sửa trên cổng lúc %(when)s (UTC).",
                 when=edited.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    record = convert.procedure_record(procedure)
    return _add(ProcedureRevision, "procedure_id", procedure.id, record, action, None, note,
                procedure.updated_at)  # fmt: skip


def add_agency_revision(
    agency: Agency, record: Record, action: str, user: User | None, note: str = ""
) -> AgencyRevision:
    """Record a snapshot of an agency's record (flush only)."""
    return _add(AgencyRevision, "agency_id", agency.id, record, action, user, note)


def _revisions(model: type, owner: str, owner_id: int) -> list:
    return list(
        db.session.execute(
            select(model)
            .where(getattr(model, owner) == owner_id)
            .order_by(model.number.desc())
            .options(selectinload(model.user))
        ).scalars()
    )


def procedure_revisions(procedure: Procedure) -> list[ProcedureRevision]:
    """A procedure's revisions, newest first."""
    return _revisions(ProcedureRevision, "procedure_id", procedure.id)


def agency_revisions(agency: Agency) -> list[AgencyRevision]:
    """An agency's revisions, newest first."""
    return _revisions(AgencyRevision, "agency_id", agency.id)


# --- activity ----------------------------------------------------------------------------------


@dataclass
class Activity:
    """One change in the activity stream: a procedure or agency revision."""

    at: datetime
    kind: str  # "procedure" or "agency"
    key: str  # the procedure's code or the agency's slug
    name: str
    number: int
    action: str
    note: str
    user: User | None

    @property
    def action_label(self) -> str:
        return str(ACTIONS.get(self.action, self.action))


def _stream(agency_ids: set[int] | None, *, limit: int = 50, offset: int = 0) -> list[Activity]:
    """Changes newest first: procedure revisions of procedures carried out by `agency_ids`
    (every procedure when None) and revisions of those agencies."""
    procedures = (
        select(ProcedureRevision)
        .order_by(ProcedureRevision.created_at.desc(), ProcedureRevision.id.desc())
        .limit(limit + offset)
        .options(selectinload(ProcedureRevision.procedure), selectinload(ProcedureRevision.user))
    )
    agencies = (
        select(AgencyRevision)
        .order_by(AgencyRevision.created_at.desc(), AgencyRevision.id.desc())
        .limit(limit + offset)
        .options(selectinload(AgencyRevision.agency), selectinload(AgencyRevision.user))
    )
    if agency_ids is not None:
        procedures = procedures.where(
            ProcedureRevision.procedure.has(
                Procedure.agency_links.any(
                    (ProcedureAgency.role == Role.IMPLEMENTING)
                    & ProcedureAgency.agency_id.in_(agency_ids)
                )
            )
        )
        agencies = agencies.where(AgencyRevision.agency_id.in_(agency_ids))
    items = [
        Activity(r.created_at, "procedure", r.procedure.code, r.procedure.name, r.number,
                 r.action, r.note, r.user)
        for r in db.session.execute(procedures).scalars()
    ] + [
        Activity(r.created_at, "agency", r.agency.slug, r.agency.name, r.number, r.action,
                 r.note, r.user)
        for r in db.session.execute(agencies).scalars()
    ]  # fmt: skip
    items.sort(key=lambda a: a.at, reverse=True)
    return items[offset : offset + limit]


def revisions(code: str, user: User) -> tuple[WorkingCopy, list[ProcedureRevision]]:
    """The working copy and its revisions, newest first."""
    copy = get_working_copy(code, user)
    return copy, procedure_revisions(copy.procedure)


def get_revision(code: str, number: int, user: User) -> ProcedureRevision:
    """One revision of a procedure. Raises NotFound, PermissionDenied."""
    copy = get_working_copy(code, user)
    revision = db.session.execute(
        select(ProcedureRevision)
        .where(
            ProcedureRevision.procedure_id == copy.procedure.id,
            ProcedureRevision.number == number,
        )
        .options(selectinload(ProcedureRevision.user))
    ).scalar_one_or_none()
    if revision is None:
        raise NotFound(_("Không có phiên bản số %(n)s.", n=number))
    return revision


def compare(code: str, old: int, new: int, user: User) -> list[Change]:
    """What changed from revision `old` to revision `new` of a procedure."""
    a = get_revision(code, old, user)
    b = get_revision(code, new, user)
    return diff_records(a.record, b.record)


def activity(
    user: User, agency_slug: str | None = None, *, limit: int = 50, offset: int = 0
) -> tuple[Agency | None, list[Activity]]:
    """Changes newest first: of one agency and its procedures (when `agency_slug` is given),
    otherwise of everything in the user's scope (the whole site for admins).

    Raises NotFound, PermissionDenied (an agency outside the user's scope).
    """
    accounts.require(user, StaffRole.EDITOR)
    if agency_slug is None:
        return None, _stream(accounts.scope(user), limit=limit, offset=offset)
    agency = queries.get_agency(agency_slug)
    if not accounts.in_scope(user, [agency.id]):
        raise PermissionDenied(_("Cơ quan này không thuộc phạm vi của bạn."))
    return agency, _stream({agency.id}, limit=limit, offset=offset)
