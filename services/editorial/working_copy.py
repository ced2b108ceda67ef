"""The working copy of a procedure: what staff edit, and what they may see of it.

A procedure that was never published is edited in place: its row has status draft or in_review
and the public does not see it. A published (or abolished) procedure keeps its row as the
public state; staff changes go to a ProcedureDraft holding a canonical record, which publishing
writes onto the row. Either way the *working copy* is what the editor shows, and its *token*
("p<procedure version>" or "d<draft version>") is what a save must quote (services.editorial.
workflow): a save that quotes an older token is refused with EditConflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from .. import accounts
from ..catalogue import convert, queries, store
from ..catalogue.records import Record
from ..db import db, utcnow
from ..errors import PermissionDenied
from ..models import (
    Agency,
    Field,
    Level,
    Procedure,
    ProcedureAgency,
    ProcedureDraft,
    Role,
    StaffRole,
    Status,
    User,
)
from ..text import LEVELS, fold

PENDING = (Status.DRAFT, Status.IN_REVIEW)


@dataclass
class WorkingCopy:
    """What staff edit: the pending draft of a published procedure, or the unpublished row."""

    procedure: Procedure
    draft: ProcedureDraft | None
    record: Record

    @property
    def token(self) -> str:
        if self.draft is not None:
            return f"d{self.draft.version}"
        return f"p{self.procedure.version}"

    @property
    def status(self) -> str:
        """The working copy's workflow state: draft, in_review, published or abolished."""
        return self.draft.status if self.draft is not None else self.procedure.status

    @property
    def pending(self) -> bool:
        """True when there is something not yet published."""
        return self.status in PENDING

    @property
    def was_published(self) -> bool:
        return self.procedure.is_public


def implementing_ids(record: Record) -> set[int]:
    """The ids of the catalogue agencies a record names as implementing."""
    implementing = [
        link["agency"]
        for link in record["agencies"]
        if link["agency"] and link["role"] == Role.IMPLEMENTING
    ]
    if not implementing:
        return set()
    return set(db.session.execute(select(Agency.id).where(Agency.slug.in_(implementing))).scalars())


def _draft_of(procedure: Procedure) -> ProcedureDraft | None:
    return db.session.execute(
        select(ProcedureDraft).where(ProcedureDraft.procedure_id == procedure.id)
    ).scalar_one_or_none()


def working_copy_of(procedure: Procedure) -> WorkingCopy:
    draft = _draft_of(procedure)
    record = dict(draft.record) if draft else convert.procedure_record(procedure)
    return WorkingCopy(procedure, draft, record)


def _check_scope(user: User, *recs: Record) -> None:
    ids: set[int] = set()
    for record in recs:
        ids |= implementing_ids(record)
    if not accounts.in_scope(user, ids):
        raise PermissionDenied(_("Thủ tục này không thuộc cơ quan bạn phụ trách."))


def get_working_copy(code: str, user: User) -> WorkingCopy:
    """The working copy of procedure `code`, for staff whose agencies carry it out.

    Raises NotFound, PermissionDenied.
    """
    accounts.require(user, StaffRole.EDITOR)
    procedure = queries.get_procedure(code, public=False)
    copy = working_copy_of(procedure)
    if copy.draft is None:
        _check_scope(user, copy.record)
    else:
        _check_scope(user, convert.procedure_record(procedure), copy.record)
    return copy


@dataclass
class Line:
    """A procedure in the staff list, with the state of its working copy."""

    procedure: Procedure
    status: str
    pending_at: object


def list_procedures(
    user: User, *, agency: str | None = None, status: str | None = None, text: str = ""
) -> list[Line]:
    """Procedures in the user's scope, in Vietnamese order of name, narrowed by an agency slug,
    a working-copy status ("pending" for anything unpublished) and words of the name or code."""
    accounts.require(user, StaffRole.EDITOR)
    allowed = accounts.scope(user)
    query = select(Procedure).options(*queries.LIST_PROCEDURE).order_by(Procedure.sort_name)
    links = ProcedureAgency.role == Role.IMPLEMENTING
    if allowed is not None:
        query = query.where(
            Procedure.agency_links.any(links & ProcedureAgency.agency_id.in_(allowed))
        )
    if agency:
        query = query.where(
            Procedure.agency_links.any(links & ProcedureAgency.agency.has(Agency.slug == agency))
        )
    drafts = {d.procedure_id: d for d in db.session.execute(select(ProcedureDraft)).scalars().all()}
    words = fold(text).split()
    lines = []
    for procedure in db.session.execute(query).scalars():
        haystack = f"{fold(procedure.name)} {procedure.code.lower()}"
        if not all(word in haystack for word in words):
            continue
        draft = drafts.get(procedure.id)
        state = draft.status if draft else procedure.status
        if status and not (state in PENDING if status == "pending" else state == status):
            continue
        lines.append(Line(procedure, state, draft.updated_at if draft else None))
    return lines


@dataclass
class Choices:
    """What the editor offers in its lists: agencies, lĩnh vực and levels."""

    agencies: list[Agency]
    scoped_agencies: list[Agency]
    fields: list[str]
    levels: list[str]


def editor_choices(user: User, record: Record | None = None) -> Choices:
    """The agencies (all, and those in the user's scope), lĩnh vực and levels the editor
    offers; names already in `record` are kept even when no longer in the catalogue."""
    agencies = list(db.session.execute(select(Agency).order_by(Agency.sort_name)).scalars())
    allowed = accounts.scope(user)
    scoped = [a for a in agencies if allowed is None or a.id in allowed]
    fields = list(db.session.execute(select(Field.name).order_by(Field.sort_name)).scalars())
    stored_levels = db.session.execute(select(Level.name)).scalars()
    levels = list(dict.fromkeys([*LEVELS, *stored_levels]))
    if record:
        fields += [f for f in record["fields"] if f not in fields]
        levels += [lv for lv in record["levels"] if lv not in levels]
    return Choices(agencies, scoped, fields, levels)


def preview(code: str, user: User) -> Procedure:
    """The working copy as an unsaved Procedure, to render exactly as the public page would."""
    copy = get_working_copy(code, user)
    return build_preview(copy.record)


def build_preview(record: Record) -> Procedure:
    """A transient Procedure made from a record; nothing is added to the session."""
    procedure = Procedure(code=record["code"])
    with db.session.no_autoflush:
        convert.fill_procedure(procedure, record, store.Lookups(create=False))
    procedure.updated_at = utcnow()
    if procedure in db.session:
        db.session.expunge(procedure)
    return procedure
