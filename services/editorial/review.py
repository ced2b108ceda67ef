"""The review queue: the working copies waiting for a publisher (in review), each with what it
changes in the published version; approving (publishing) or returning them with a note; the
e-mails that tell the submitter, and the publishers' daily digest.

E-mail is sent after the use case has committed (services.mail never raises): a server that
is down or absent loses no publication and no return. Every message is in the portal's
default language and links to the configured base URL only (never a request's Host), or has
no link when none is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import accounts, mail, printing
from ..catalogue import convert, queries
from ..db import db, reading
from ..errors import ValidationError
from ..models import (
    Procedure,
    ProcedureAgency,
    ProcedureDraft,
    ProcedureRevision,
    StaffRole,
    Status,
    User,
)
from . import workflow
from .diff import Change, diff_records
from .working_copy import WorkingCopy, implementing_ids, working_copy_of

MAX_NOTE = 500
SUBMITTING = ("submitted", "created")


@dataclass
class Waiting:
    """A working copy waiting for review: who sent it, when, with what note and changes."""

    copy: WorkingCopy
    submitted: ProcedureRevision | None
    changes: list[Change]

    @property
    def is_new(self) -> bool:
        """True for a procedure never published (its changes are the whole record)."""
        return not self.copy.was_published


def _submission(procedure: Procedure) -> ProcedureRevision | None:
    """The revision that sent the working copy of `procedure` for review (or created it)."""
    return db.session.execute(
        select(ProcedureRevision)
        .where(
            ProcedureRevision.procedure_id == procedure.id,
            ProcedureRevision.action.in_(SUBMITTING),
        )
        .order_by(ProcedureRevision.number.desc())
        .limit(1)
        .options(selectinload(ProcedureRevision.user))
    ).scalar_one_or_none()


def _in_review() -> list[WorkingCopy]:
    links = selectinload(Procedure.agency_links).selectinload(ProcedureAgency.agency)
    drafts = db.session.execute(
        select(ProcedureDraft)
        .where(ProcedureDraft.status == Status.IN_REVIEW)
        .options(selectinload(ProcedureDraft.procedure).options(links))
    ).scalars()
    copies = [WorkingCopy(d.procedure, d, dict(d.record)) for d in drafts]
    unpublished = db.session.execute(
        select(Procedure).where(Procedure.status == Status.IN_REVIEW).options(links)
    ).scalars()
    copies += [working_copy_of(p) for p in unpublished]
    return copies


def _waiting_copies(user: User) -> list[WorkingCopy]:
    accounts.require(user, StaffRole.PUBLISHER)
    found = []
    for copy in _in_review():
        ids = implementing_ids(copy.record)
        if copy.was_published:
            ids |= implementing_ids(convert.procedure_record(copy.procedure))
        if accounts.in_scope(user, ids):
            found.append(copy)
    return found


def waiting_count(user: User) -> int:
    """How many working copies wait for `user`'s review. Raises PermissionDenied."""
    return len(_waiting_copies(user))


def queue(user: User) -> list[Waiting]:
    """What waits for `user`'s review (publishers and admins): working copies in review of
    procedures of their agencies, longest waiting first. Raises PermissionDenied."""
    waiting = []
    for copy in _waiting_copies(user):
        public = convert.procedure_record(copy.procedure) if copy.was_published else {}
        changes = diff_records(public, copy.record)
        waiting.append(Waiting(copy, _submission(copy.procedure), changes))
    waiting.sort(key=lambda w: w.submitted.created_at if w.submitted else datetime.min)
    return waiting


def _note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": _("Cần ghi lý do trả lại để người soạn biết cần sửa gì.")})
    if len(note) > MAX_NOTE:
        raise ValidationError(
            {"note": _("Ghi chú tối đa %(n)s ký tự (bạn đã nhập %(m)s).", n=MAX_NOTE, m=len(note))}
        )
    return note


def approve(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Publish the working copy of `code` (workflow.publish), then e-mail its submitter.
    Raises as workflow.publish, and ValidationError for a note over MAX_NOTE characters."""
    accounts.require(user, StaffRole.PUBLISHER)
    note = _note(note, required=False)
    copy = workflow.publish(code, token, user, note)
    _tell_submitter(copy, user, note, published=True)
    return copy


def send_back(code: str, token: str, user: User, note: str) -> WorkingCopy:
    """Return the working copy of `code` to its editors with a note (workflow.return_to_draft),
    then e-mail its submitter. Raises as workflow.return_to_draft, and ValidationError for no
    note or one over MAX_NOTE characters."""
    accounts.require(user, StaffRole.PUBLISHER)
    note = _note(note, required=True)
    copy = workflow.return_to_draft(code, token, user, note)
    _tell_submitter(copy, user, note, published=False)
    return copy


# --- e-mail -------------------------------------------------------------------------------------


def _link(endpoint: str, **values: str) -> str | None:
    base = printing.configured_base()
    return printing.page_url(base, endpoint, **values) if base else None


def _subject(text: str) -> str:
    portal = queries.get_settings().portal_name
    return f"[{portal}] {text}" if portal else text


def _tell_submitter(copy: WorkingCopy, actor: User, note: str, *, published: bool) -> bool:
    """E-mail whoever sent the working copy `copy` for review that it was published or
    returned (not the actor themself). Returns whether a message went out."""
    procedure = copy.procedure
    # Only reads, so on SQLite the message is written and sent without the write lock.
    with reading(), force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        submitted = _submission(procedure)
        person = submitted.user if submitted else None
        if person is None or person.id == actor.id or not person.email:
            return False
        values = {"name": copy.record["name"], "code": procedure.code, "who": actor.display_name}
        if published:
            subject = _("Đã công bố: %(name)s (%(code)s)", **values)
            lines = [_("Thủ tục “%(name)s” (mã %(code)s) bạn gửi duyệt đã được %(who)s công bố.",
                       **values)]  # fmt: skip
            link = _link("public.procedure", code=procedure.code)
            where = _("Xem trang công khai: %(url)s")
        else:
            subject = _("Trả lại để sửa: %(name)s (%(code)s)", **values)
            lines = [_("Thủ tục “%(name)s” (mã %(code)s) bạn gửi duyệt đã được %(who)s trả lại "
                       "để sửa.", **values)]  # fmt: skip
            link = _link("editor.procedure", code=procedure.code)
            where = _("Mở bản làm việc: %(url)s")
        if note:
            lines.append(_("Ghi chú của người duyệt: %(note)s", note=note))
        if link:
            lines.append(where % {"url": link})
        body = "\n\n".join([_("Chào %(n)s,", n=person.display_name), *lines])
        return mail.send([person.email], _subject(subject), body + "\n")


@dataclass
class DigestReport:
    """What `send_digests` did: messages sent, and publishers who had nothing waiting,
    had no address, or whose message failed."""

    sent: int = 0
    nothing: int = 0
    no_address: int = 0
    failed: int = 0


def _digest_body(person: User, waiting: list[Waiting]) -> str:
    lines = [_("Chào %(n)s,", n=person.display_name), ""]
    lines.append(_("Có %(n)s bản thay đổi đang chờ bạn duyệt:", n=len(waiting)))
    for item in waiting:
        who = item.submitted.user.display_name if item.submitted and item.submitted.user else ""
        lines.append(f"- {item.copy.record['name']} ({item.copy.procedure.code})"
                     + (f" — {who}" if who else ""))  # fmt: skip
    link = _link("review.queue")
    if link:
        lines += ["", _("Danh sách chờ duyệt: %(url)s", url=link)]
    return "\n".join(lines) + "\n"


def send_digests() -> DigestReport:
    """E-mail every active publisher and admin the list of what waits for their review (one
    message each, none to those with nothing waiting)."""
    report = DigestReport()
    with reading(), force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _send_digests(report)


def _send_digests(report: DigestReport) -> DigestReport:
    people = db.session.execute(
        select(User)
        .where(User.active.is_(True), User.role.in_([StaffRole.PUBLISHER, StaffRole.ADMIN]))
        .order_by(User.username)
        .options(selectinload(User.agencies))
    ).scalars()
    for person in people:
        waiting = queue(person)
        if not waiting:
            report.nothing += 1
        elif not person.email:
            report.no_address += 1
        else:
            subject = _subject(_("%(n)s bản chờ duyệt", n=len(waiting)))
            if mail.send([person.email], subject, _digest_body(person, waiting)):
                report.sent += 1
            else:
                report.failed += 1
    return report
