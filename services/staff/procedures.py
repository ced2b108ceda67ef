"""Procedures in the staff area: the working copy, saving with optimistic locking, the workflow
(draft → in review → published, abolish), previews and restoring old revisions.

A procedure that was never published is edited in place: its row has status draft or in_review
and the public does not see it. A published (or abolished) procedure keeps its row as the
public state; staff changes go to a ProcedureDraft holding a canonical record, which publishing
writes onto the row. Either way the *working copy* is what the editor shows, and its *token*
("p<procedure version>" or "d<draft version>") is what a save must quote: a save that quotes an
older token is refused with EditConflict, never applied over someone else's work.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import accounts
from ..catalogue import convert, queries, records, store
from ..catalogue.records import Record
from ..db import db, utcnow
from ..errors import NotFound, PermissionDenied, ServiceError, ValidationError
from ..models import (
    Agency,
    Field,
    Level,
    Procedure,
    ProcedureAgency,
    ProcedureDraft,
    ProcedureRevision,
    Role,
    StaffRole,
    Status,
    User,
)
from ..text import LEVELS, clean_block, fold
from . import history

PENDING = (Status.DRAFT, Status.IN_REVIEW)


class EditConflict(ServiceError):
    """The working copy changed since the form was loaded. `record` and `token` are the stored
    working copy, so the user can compare and merge."""

    def __init__(self, record: Record, token: str):
        self.record = record
        self.token = token
        super().__init__(
            _(
                "Thủ tục này vừa được người khác thay đổi sau khi bạn mở nó. Thay đổi của bạn "
                "CHƯA được lưu: hãy so sánh hai bản dưới đây, gộp lại rồi lưu lần nữa."
            )
        )


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


# --- reading ------------------------------------------------------------------------------------


def _implementing_ids(record: Record) -> set[int]:
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


def _working_copy(procedure: Procedure) -> WorkingCopy:
    draft = _draft_of(procedure)
    record = dict(draft.record) if draft else convert.procedure_record(procedure)
    return WorkingCopy(procedure, draft, record)


def _check_scope(user: User, *recs: Record) -> None:
    ids: set[int] = set()
    for record in recs:
        ids |= _implementing_ids(record)
    if not accounts.in_scope(user, ids):
        raise PermissionDenied(_("Thủ tục này không thuộc cơ quan bạn phụ trách."))


def get_working_copy(code: str, user: User) -> WorkingCopy:
    """The working copy of procedure `code`, for staff whose agencies carry it out.

    Raises NotFound, PermissionDenied.
    """
    accounts.require(user, StaffRole.EDITOR)
    procedure = queries.get_procedure(code, public=False)
    copy = _working_copy(procedure)
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


# --- saving -------------------------------------------------------------------------------------


def _code_taken(code: str) -> str:
    return _("Đã có thủ tục mang mã %(c)s.", c=code)


def _with_state(
    record: Record, status: str, *, replaced_by: str | None = None, reason: str = ""
) -> Record:
    """`record` in a workflow state; only an abolished procedure has a replacement and reason."""
    return {**record, "status": status, "replaced_by": replaced_by, "abolished_reason": reason}


def _normalize(raw: dict, user: User, current: Procedure | None) -> Record:
    """Normalize an editor's input and apply the rules that need the database."""
    try:
        record = records.normalize_procedure(raw)
    except ValidationError as error:
        raise ValidationError(
            {key.removeprefix("procedure."): message for key, message in error.errors.items()}
        ) from None
    errors: dict[str, str] = {}
    clash = db.session.execute(
        select(Procedure.id).where(Procedure.code == record["code"])
    ).scalar_one_or_none()
    if clash is not None and (current is None or clash != current.id):
        errors["code"] = _code_taken(record["code"])
    if current is not None and current.is_public and record["code"] != current.code:
        errors["code"] = _("Không đổi được mã của thủ tục đã công bố.")
    known = set(db.session.execute(select(Agency.slug)).scalars())
    for i, link in enumerate(record["agencies"]):
        if link["agency"] and link["agency"] not in known:
            errors[f"agencies.{i}.agency"] = _("Không có cơ quan “%(s)s”.", s=link["agency"])
    known_fields = set(db.session.execute(select(Field.name)).scalars())
    unknown = [f for f in record["fields"] if f not in known_fields]
    if unknown:
        errors["fields"] = _("Lĩnh vực chưa có trong danh mục: %(f)s.", f=", ".join(unknown))
    for i, code in enumerate(record["related"]):
        if code == record["code"]:
            errors[f"related.{i}"] = _("Thủ tục không thể liên quan đến chính nó.")
    if errors:
        raise ValidationError(errors)
    if not accounts.in_scope(user, _implementing_ids(record)):
        raise ValidationError(
            {"agencies": _("Cần ít nhất một cơ quan thực hiện thuộc phạm vi của bạn.")}
        )
    return record


def _check_token(copy: WorkingCopy, token: str) -> None:
    if token != copy.token:
        raise EditConflict(copy.record, copy.token)


def _flush(copy: WorkingCopy) -> None:
    """Flush, turning a concurrent write by another process into EditConflict."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        fresh = _working_copy(queries.get_procedure(copy.procedure.code, public=False))
        raise EditConflict(fresh.record, fresh.token) from None


def _write(copy: WorkingCopy, record: Record, user: User, status: str | None = None) -> None:
    """Store `record` as the working copy (flush only); `status` sets its workflow state."""
    procedure = copy.procedure
    now = utcnow()
    if procedure.is_public:
        draft = copy.draft or ProcedureDraft(procedure=procedure, status=Status.DRAFT)
        if copy.draft is None:
            db.session.add(draft)
            copy.draft = draft
        draft.status = status or draft.status
        draft.record = {
            **record,
            "status": procedure.status,
            "replaced_by": procedure.replaced_by.code if procedure.replaced_by else None,
            "abolished_reason": procedure.abolished_reason,
            "created_at": convert.procedure_record(procedure)["created_at"],
            "updated_at": None,
        }
        draft.updated_at = now
        draft.updated_by_id = user.id
        copy.record = draft.record
    else:
        record = {**record, "status": status or procedure.status}
        store.write_procedure(procedure, record, updated_at=now)
        copy.record = convert.procedure_record(procedure)
    procedure.local_edit_at = now
    _flush(copy)


def create_procedure(
    raw: dict, user: User, note: str = "", *, submit_after: bool = False
) -> Procedure:
    """Create a new procedure as a draft (or, with `submit_after`, in review) from an
    editor's input.

    Raises ValidationError (keys are record paths such as "channels.0.time_limit_value") for
    bad input, a code already taken, unknown agencies or lĩnh vực, or no implementing agency in
    the user's scope; PermissionDenied for a user who is not staff.
    """
    accounts.require(user, StaffRole.EDITOR)
    record = _normalize(raw, user, None)
    status = Status.IN_REVIEW if submit_after else Status.DRAFT
    record = _with_state(record, status)
    procedure = Procedure(code=record["code"], created_at=utcnow())
    db.session.add(procedure)
    try:
        store.write_procedure(procedure, record)
    except IntegrityError:  # the same code created at the same moment by someone else
        db.session.rollback()
        raise ValidationError({"code": _code_taken(record["code"])}) from None
    procedure.local_edit_at = procedure.updated_at
    history.add_procedure_revision(
        procedure, convert.procedure_record(procedure), "created", user, note
    )
    db.session.commit()
    return procedure


def save_procedure(
    code: str, raw: dict, token: str, user: User, note: str = "", *, submit_after: bool = False
) -> WorkingCopy:
    """Save an editor's input as the working copy of procedure `code` and record a revision;
    with `submit_after`, also send it for review.

    `token` is the working copy's token the form was loaded with. Returns the new working copy.
    Raises EditConflict when the working copy changed since, ValidationError as
    create_procedure, NotFound, PermissionDenied.
    """
    copy = get_working_copy(code, user)
    _check_token(copy, token)
    record = _normalize(raw, user, copy.procedure)
    _write(copy, record, user, Status.IN_REVIEW if submit_after else None)
    action = "submitted" if submit_after else "saved"
    history.add_procedure_revision(copy.procedure, copy.record, action, user, note)
    db.session.commit()
    return copy


# --- workflow -----------------------------------------------------------------------------------


def _transition(code: str, token: str, user: User, role: StaffRole) -> WorkingCopy:
    copy = get_working_copy(code, user)
    accounts.require(user, role)
    _check_token(copy, token)
    return copy


def _move(code: str, token: str, user: User, role: StaffRole, moves: tuple[str, str],
          action: str, note: str, refusal: str) -> WorkingCopy:  # fmt: skip
    """Move the working copy from one workflow state to another, as a new revision."""
    copy = _transition(code, token, user, role)
    source, target = moves
    if copy.status != source:
        raise ValidationError(refusal)
    _write(copy, copy.record, user, target)
    history.add_procedure_revision(copy.procedure, copy.record, action, user, note)
    db.session.commit()
    return copy


def submit(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Send the working copy for review. Raises ValidationError when it is not a draft,
    EditConflict, PermissionDenied."""
    moves = (Status.DRAFT, Status.IN_REVIEW)
    refusal = _("Chỉ gửi duyệt được bản nháp.")
    return _move(code, token, user, StaffRole.EDITOR, moves, "submitted", note, refusal)


def return_to_draft(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Send a working copy in review back to its editors (publishers only). Raises
    ValidationError when it is not in review, EditConflict, PermissionDenied."""
    moves = (Status.IN_REVIEW, Status.DRAFT)
    refusal = _("Chỉ trả lại được bản đang chờ duyệt.")
    return _move(code, token, user, StaffRole.PUBLISHER, moves, "returned", note, refusal)


def _publish(copy: WorkingCopy) -> None:
    procedure = copy.procedure
    store.write_procedure(procedure, _with_state(copy.record, Status.PUBLISHED))
    procedure.local_edit_at = procedure.updated_at
    if copy.draft is not None:
        db.session.delete(copy.draft)
        copy.draft = None
    _flush(copy)
    copy.record = convert.procedure_record(procedure)


def publish(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Publish the working copy (publishers only): the public sees it at once.

    Raises ValidationError when there is nothing unpublished, EditConflict, PermissionDenied.
    """
    copy = _transition(code, token, user, StaffRole.PUBLISHER)
    if not copy.pending:
        raise ValidationError(_("Không có thay đổi nào chờ công bố."))
    _publish(copy)
    history.add_procedure_revision(copy.procedure, copy.record, "published", user, note)
    db.session.commit()
    return copy


def discard_draft(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Drop the pending changes of a published procedure (they stay in its history)."""
    copy = _transition(code, token, user, StaffRole.EDITOR)
    if copy.draft is None:
        raise ValidationError(_("Thủ tục chưa công bố không có bản nháp riêng để hủy."))
    db.session.delete(copy.draft)
    copy.draft = None
    _flush(copy)
    copy.record = convert.procedure_record(copy.procedure)
    history.add_procedure_revision(copy.procedure, copy.record, "discarded", user, note)
    db.session.commit()
    return copy


def abolish(
    code: str, token: str, user: User, reason: str, replaced_by: str = "", note: str = ""
) -> WorkingCopy:
    """Abolish a published procedure with a reason and, optionally, the code of the procedure
    that replaces it (publishers only). Pending changes stay as a draft.

    Raises ValidationError (keys "reason", "replaced_by"), EditConflict, PermissionDenied.
    """
    copy = _transition(code, token, user, StaffRole.PUBLISHER)
    procedure = copy.procedure
    if procedure.status != Status.PUBLISHED:
        raise ValidationError(_("Chỉ bãi bỏ được thủ tục đang áp dụng."))
    reason = clean_block(reason or "")
    if not reason:
        raise ValidationError({"reason": _("Cần ghi lý do bãi bỏ.")})
    replacement = None
    if replaced_by.strip():
        replacement = db.session.execute(
            select(Procedure).where(Procedure.code == replaced_by.strip())
        ).scalar_one_or_none()
        if replacement is None or replacement is procedure or not replacement.is_public:
            raise ValidationError({"replaced_by": _("Cần mã của một thủ tục khác đang công khai.")})
    record = _with_state(
        convert.procedure_record(procedure),
        Status.ABOLISHED,
        replaced_by=replacement.code if replacement else None,
        reason=reason,
    )
    store.write_procedure(procedure, record)
    procedure.local_edit_at = procedure.updated_at
    _flush(copy)
    stored = convert.procedure_record(procedure)
    history.add_procedure_revision(procedure, stored, "abolished", user, note)
    if copy.draft is None:
        copy.record = stored
    db.session.commit()
    return copy


# --- preview, history, restore ------------------------------------------------------------------


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


def revisions(code: str, user: User) -> tuple[WorkingCopy, list[ProcedureRevision]]:
    """The working copy and its revisions, newest first."""
    copy = get_working_copy(code, user)
    return copy, history.procedure_revisions(copy.procedure)


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


def compare(code: str, old: int, new: int, user: User) -> list[history.Change]:
    """What changed from revision `old` to revision `new` of a procedure."""
    a = get_revision(code, old, user)
    b = get_revision(code, new, user)
    return history.diff_records(a.record, b.record)


def restore(
    code: str, number: int, token: str, user: User, *, publish_now: bool = False
) -> WorkingCopy:
    """Make revision `number` the working copy again, as a new revision; publishers may publish
    it at once. Raises EditConflict, ValidationError (e.g. an agency it names is gone),
    NotFound, PermissionDenied."""
    revision = get_revision(code, number, user)
    copy = get_working_copy(code, user)
    _check_token(copy, token)
    if publish_now:
        accounts.require(user, StaffRole.PUBLISHER)
    raw = {**revision.record, "code": copy.procedure.code}
    record = _normalize(raw, user, copy.procedure)
    _write(copy, record, user, Status.DRAFT)
    note = _("Khôi phục phiên bản số %(n)s", n=number)
    history.add_procedure_revision(copy.procedure, copy.record, "restored", user, note)
    if publish_now:
        _publish(copy)
        history.add_procedure_revision(copy.procedure, copy.record, "published", user, note)
    db.session.commit()
    return copy


def activity(
    user: User, agency_slug: str | None = None, *, limit: int = 50, offset: int = 0
) -> tuple[Agency | None, list[history.Activity]]:
    """Changes newest first: of one agency and its procedures (when `agency_slug` is given),
    otherwise of everything in the user's scope (the whole site for admins).

    Raises NotFound, PermissionDenied (an agency outside the user's scope).
    """
    accounts.require(user, StaffRole.EDITOR)
    if agency_slug is None:
        return None, history.activity(accounts.scope(user), limit=limit, offset=offset)
    agency = queries.get_agency(agency_slug)
    if not accounts.in_scope(user, [agency.id]):
        raise PermissionDenied(_("Cơ quan này không thuộc phạm vi của bạn."))
    return agency, history.activity({agency.id}, limit=limit, offset=offset)
