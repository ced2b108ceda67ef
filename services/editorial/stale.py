"""Stale entries: published procedures nobody has confirmed for REVIEW_AFTER_DAYS, and those
citing a legal document (căn cứ pháp lý) that staff marked as replaced since their last review.

A procedure is reviewed when staff say "checked, still correct" (`mark_checked`) and whenever
it is published (services.editorial.workflow). Never reviewed, it counts from its last update.
The list is grouped by implementing agency, so a procedure of several agencies is on the list
of each, and staff see only the agencies of their scope.

Legal bases are rows of each procedure, not shared records: a document is named by its number
(folded, without spaces: `document_key`), or by its title when it has no number.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import load_only, selectinload

from .. import accounts
from ..db import db, use_case, utcnow
from ..errors import NotFound, ValidationError
from ..models import (
    Agency,
    LegalBasis,
    Procedure,
    ProcedureAgency,
    ReplacedLegalDocument,
    Role,
    StaffRole,
    Status,
    User,
)
from ..text import clean, fold, sort_key
from .working_copy import get_working_copy

MAX_NUMBER = 200


@lru_cache(maxsize=8192)  # a catalogue cites the same few documents thousands of times
def document_key(number: str, title: str = "") -> str:
    """What names one legal document across procedures: its number folded and without spaces
    ("60/2014/QH13" and "60/2014/qh13 " are one), or its folded title when it has no number."""
    if clean(number):
        return "".join(fold(number).split())
    return "~" + fold(title)


def _cutoff() -> datetime:
    return utcnow() - timedelta(days=int(current_app.config["REVIEW_AFTER_DAYS"]))


@dataclass
class StaleEntry:
    """A procedure to review: since when it was last reviewed, and why it is listed."""

    procedure: Procedure
    reviewed: datetime
    overdue: bool
    replaced: list[str] = field(default_factory=list)  # replaced documents it cites


@dataclass
class AgencyList:
    """One agency's stale procedures, least recently reviewed first; `agency` is None for
    procedures whose implementing agency is not in the catalogue (admins only see those)."""

    agency: Agency | None
    entries: list[StaleEntry]


def _scope_ids(allowed: set[int] | None):
    """The ids of the published procedures carried out by the agencies `allowed` (None: all)."""
    query = select(Procedure.id).where(Procedure.status == Status.PUBLISHED)
    if allowed is not None:
        query = query.where(
            Procedure.agency_links.any(
                (ProcedureAgency.role == Role.IMPLEMENTING) & ProcedureAgency.agency_id.in_(allowed)
            )
        )
    return query


def moment() -> datetime:
    """Now, to the microsecond: a replacement and the check that follows it (or the save before
    it) may fall in the same second, and which came first decides whether a procedure is
    listed. (Other stored times keep whole seconds, see db.utcnow.)"""
    return datetime.now(UTC).replace(tzinfo=None)


def _replaced_since(scope, reviewed: dict[int, datetime]) -> dict[int, list[str]]:
    """For each procedure of `scope`, the numbers of the replaced documents it cites that
    were replaced after its last review."""
    replaced = {d.key: d for d in db.session.execute(select(ReplacedLegalDocument)).scalars()}
    if not replaced:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    rows = db.session.execute(
        select(LegalBasis.procedure_id, LegalBasis.number, LegalBasis.title).where(
            LegalBasis.procedure_id.in_(scope)
        )
    )
    for procedure_id, number, title in rows:
        document = replaced.get(document_key(number, title))
        if document and document.replaced_at > reviewed[procedure_id]:
            found[procedure_id].append(document.number)
    return found


def stale_lists(user: User) -> list[AgencyList]:
    """The stale procedures of `user`'s agencies (admins: every agency), by agency in
    Vietnamese order."""
    accounts.require(user, StaffRole.EDITOR)
    allowed = accounts.scope(user)
    scope = _scope_ids(allowed)
    # Dates first, rows only for what is listed: the whole catalogue is thousands of rows.
    when = func.coalesce(Procedure.last_reviewed_at, Procedure.updated_at)
    rows = db.session.execute(select(Procedure.id, when).where(Procedure.id.in_(scope))).all()
    reviewed = dict(rows)
    replaced = _replaced_since(scope, reviewed)
    cutoff = _cutoff()
    listed = {i for i, at in reviewed.items() if at < cutoff} | set(replaced)
    procedures = db.session.execute(
        select(Procedure)
        .where(Procedure.id.in_(listed))
        .options(
            load_only(Procedure.code, Procedure.name),
            selectinload(Procedure.agency_links).selectinload(ProcedureAgency.agency),
        )
    ).scalars()
    by_agency: dict[int | None, AgencyList] = {}
    for procedure in procedures:
        at = reviewed[procedure.id]
        entry = StaleEntry(procedure, at, at < cutoff, replaced.get(procedure.id, []))
        agencies = [link.agency for link in procedure.agencies(Role.IMPLEMENTING) if link.agency]
        if allowed is not None:
            agencies = [agency for agency in agencies if agency.id in allowed]
        for agency in agencies or [None]:
            key = agency.id if agency else None
            by_agency.setdefault(key, AgencyList(agency, [])).entries.append(entry)
    lists = sorted(by_agency.values(), key=lambda a: (a.agency is None, _agency_order(a)))
    for agency_list in lists:
        agency_list.entries.sort(key=lambda e: (e.reviewed, e.procedure.code))
    return lists


def _agency_order(agency_list: AgencyList) -> str:
    return agency_list.agency.sort_name if agency_list.agency else ""


def stale_count(lists: list[AgencyList]) -> int:
    """How many procedures `stale_lists` gave (one on several agencies' lists counts once)."""
    return len({entry.procedure.id for agency_list in lists for entry in agency_list.entries})


@use_case
def mark_checked(code: str, user: User) -> Procedure:
    """ "Checked, still correct": the published procedure `code` is reviewed now, by staff who
    may edit it. Raises NotFound, PermissionDenied, ValidationError (not published)."""
    procedure = get_working_copy(code, user).procedure
    if procedure.status != Status.PUBLISHED:
        raise ValidationError(_("Chỉ xác nhận rà soát được thủ tục đang công bố."))
    # The table, not the mapped class: the review date is no edit, so `version` (which open
    # editor forms quote) stays as it is.
    db.session.execute(
        update(Procedure.__table__)
        .where(Procedure.__table__.c.id == procedure.id)
        .values(last_reviewed_at=moment())
    )
    return procedure


# --- legal documents ---------------------------------------------------------------------------


@dataclass
class LegalDocument:
    """A legal document cited by published procedures, and whether staff marked it replaced."""

    key: str
    number: str
    title: str
    procedures: int
    replaced: ReplacedLegalDocument | None


def legal_documents(user: User, text: str = "") -> list[LegalDocument]:
    """The legal documents the published catalogue cites, most cited first, narrowed by words
    of their number or title."""
    accounts.require(user, StaffRole.EDITOR)
    replaced = {d.key: d for d in db.session.execute(select(ReplacedLegalDocument)).scalars()}
    rows = db.session.execute(
        select(LegalBasis.procedure_id, LegalBasis.number, LegalBasis.title)
        .join(Procedure, Procedure.id == LegalBasis.procedure_id)
        .where(Procedure.status == Status.PUBLISHED)
    )
    citing: dict[str, set[int]] = defaultdict(set)
    names: dict[str, tuple[str, str]] = {}
    for procedure_id, number, title in rows:
        key = document_key(number, title)
        citing[key].add(procedure_id)
        if key not in names:
            names[key] = (clean(number), clean(title))
    words = fold(text).split()
    documents = [
        LegalDocument(key, *names[key], len(ids), replaced.get(key))
        for key, ids in citing.items()
        if not words or all(w in fold(" ".join(names[key])) for w in words)
    ]
    documents.sort(key=lambda d: (-d.procedures, sort_key(d.number or d.title)))
    return documents


@use_case
def set_replaced(number: str, replaced: bool, user: User) -> str:
    """Mark the legal document numbered `number` as replaced (or not any more), for
    publishers and admins. Returns the document's number as cited.

    Raises PermissionDenied, ValidationError (no number, too long), NotFound (no published
    procedure cites it).
    """
    accounts.require(user, StaffRole.PUBLISHER)
    number = clean(number)
    if not number:
        raise ValidationError({"number": _("Cần số hiệu của văn bản.")})
    if len(number) > MAX_NUMBER:
        raise ValidationError({"number": _("Số hiệu văn bản dài quá %(n)s ký tự.", n=MAX_NUMBER)})
    key = document_key(number)
    cited = next((d for d in legal_documents(user) if d.key == key), None)
    if cited is None:
        raise NotFound(_("Không thủ tục đang công bố nào viện dẫn văn bản “%(n)s”.", n=number))
    if not replaced:
        db.session.execute(delete(ReplacedLegalDocument).where(ReplacedLegalDocument.key == key))
    elif cited.replaced is None:
        db.session.add(
            ReplacedLegalDocument(
                key=key, number=cited.number, replaced_at=moment(), replaced_by_id=user.id
            )
        )
    return cited.number
