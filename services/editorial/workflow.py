"""Changing procedures in the staff area: create, save, the workflow (draft → in review →
published, discard, abolish) and restoring an old revision. Each public function is one use case
(one transaction); a save against a working copy that changed since it was loaded is refused
with EditConflict, never applied over someone else's work.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import accounts, audit
from ..catalogue import convert, queries, records, store
from ..catalogue.records import Record
from ..db import db, use_case, utcnow
from ..errors import EditConflict, ValidationError
from ..models import Agency, Field, Procedure, ProcedureDraft, StaffRole, Status, User
from ..opendata import changes
from ..text import clean, clean_block
from . import checks, history
from .working_copy import WorkingCopy, get_working_copy, implementing_ids, working_copy_of


def _code_taken(code: str) -> str:
    return _("Đã có thủ tục mang mã %(c)s.", c=code)


def _with_state(
    record: Record, status: str, *, replaced_by: str | None = None, reason: str = ""
) -> Record:
    """`record` in a workflow state; only an abolished procedure has a replacement and reason."""
    return {**record, "status": status, "replaced_by": replaced_by, "abolished_reason": reason}


def _check_input(
    raw: dict, user: User, current: Procedure | None, kept=(), *, one_fee: bool = False
) -> Record:
    """Normalize an editor's input and apply the rules that need the database. Related
    procedures may be named by code or name (checks.related_codes; the codes in `kept` pass as
    they are); with `one_fee`, the first channel's fee is given to every channel."""
    related, errors = checks.related_codes(list(raw.get("related") or []), kept)
    try:
        record = records.normalize_procedure({**raw, "related": related})
    except ValidationError as error:
        shape = {key.removeprefix("procedure."): message for key, message in error.errors.items()}
        raise ValidationError({**shape, **errors}) from None
    errors = {**_code_errors(record, current), **_reference_errors(record), **errors}
    if errors:
        raise ValidationError(errors)
    if not accounts.in_scope(user, implementing_ids(record)):
        raise ValidationError(
            {"agencies": _("Cần ít nhất một cơ quan thực hiện thuộc phạm vi của bạn.")}
        )
    return checks.one_fee(record) if one_fee else record


def _code_errors(record: Record, current: Procedure | None) -> dict[str, str]:
    """A code another procedure has, or a published procedure's code changed."""
    errors: dict[str, str] = {}
    clash = db.session.execute(
        select(Procedure.id).where(Procedure.code == record["code"])
    ).scalar_one_or_none()
    if clash is not None and (current is None or clash != current.id):
        errors["code"] = _code_taken(record["code"])
    if current is not None and current.is_public and record["code"] != current.code:
        errors["code"] = _("Không đổi được mã của thủ tục đã công bố.")
    return errors


def _reference_errors(record: Record) -> dict[str, str]:
    """Agencies and lĩnh vực the catalogue does not have; a procedure related to itself."""
    errors: dict[str, str] = {}
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
    return errors


def _changing(code: str, user: User) -> WorkingCopy:
    """The working copy a staff use case is about to change, its row's outside state (seeded
    or imported) recorded first so the change can be compared and undone."""
    copy = get_working_copy(code, user)
    history.record_outside_state(copy.procedure)
    return copy


def _check_token(copy: WorkingCopy, token: str) -> None:
    if token != copy.token:
        raise EditConflict(copy.record, copy.token)


def _conflict_on_stale(error: Exception, code: str, *_args, **_kwargs) -> None:
    """After the rollback: another process changed the working copy between our read and our
    write (the version check in the UPDATE failed), so show its state as an EditConflict."""
    if isinstance(error, StaleDataError):
        fresh = working_copy_of(queries.get_procedure(code, public=False))
        raise EditConflict(fresh.record, fresh.token) from None


def _code_clash(error: Exception, raw: dict, *_args, **_kwargs) -> None:
    """After the rollback: the same code was created at the same moment by someone else."""
    if isinstance(error, IntegrityError):
        raise ValidationError({"code": _code_taken(clean(str(raw.get("code") or "")))}) from None


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
    db.session.flush()


def create_procedure(
    raw: dict, user: User, note: str = "", *, submit_after: bool = False, one_fee: bool = False
) -> Procedure:
    """Create a new procedure as a draft (or, with `submit_after`, in review) from an
    editor's input; `one_fee` gives the first channel's fee to every channel.

    Raises ValidationError (keys are record paths such as "channels.0.time_limit_value") for
    bad input, a code already taken, unknown agencies, lĩnh vực or related procedures, or no
    implementing agency in the user's scope; PermissionDenied for a user who is not staff;
    checks.NotReady, after creating it as a draft, when `submit_after` and it may not go to
    review (checks.time_limit_problems).
    """
    procedure, problems = _create(raw, user, note, submit_after=submit_after, one_fee=one_fee)
    if problems:
        raise checks.NotReady(problems, procedure.code, f"p{procedure.version}")
    return procedure


@use_case(on_error=_code_clash)
def _create(
    raw: dict, user: User, note: str, *, submit_after: bool, one_fee: bool
) -> tuple[Procedure, dict[str, str]]:
    accounts.require(user, StaffRole.EDITOR)
    record = _check_input(raw, user, None, [str(raw.get("code") or "")], one_fee=one_fee)
    problems = checks.time_limit_problems(record) if submit_after else {}
    status = Status.IN_REVIEW if submit_after and not problems else Status.DRAFT
    record = _with_state(record, status)
    procedure = Procedure(code=record["code"], created_at=utcnow())
    db.session.add(procedure)
    store.write_procedure(procedure, record)
    procedure.local_edit_at = procedure.updated_at
    history.add_procedure_revision(
        procedure, convert.procedure_record(procedure), "created", user, note
    )
    audit.record("procedure.created", procedure, note or procedure.name, actor=user)
    return procedure, problems


def save_procedure(
    code: str, raw: dict, token: str, user: User, note: str = "", *,
    submit_after: bool = False, one_fee: bool = False,
) -> WorkingCopy:  # fmt: skip
    """Save an editor's input as the working copy of procedure `code` and record a revision;
    with `submit_after`, also send it for review; `one_fee` as create_procedure.

    `token` is the working copy's token the form was loaded with. Returns the new working copy.
    Raises EditConflict when the working copy changed since, ValidationError and
    checks.NotReady (after saving it as a draft, with the new token) as create_procedure,
    NotFound, PermissionDenied.
    """
    copy, problems = _save(code, raw, token, user, note, submit_after, one_fee)
    if problems:
        raise checks.NotReady(problems, code, copy.token)
    return copy


@use_case(on_error=_conflict_on_stale)
def _save(code: str, raw: dict, token: str, user: User, note: str, submit_after: bool,
          one_fee: bool) -> tuple[WorkingCopy, dict[str, str]]:  # fmt: skip
    copy = _changing(code, user)
    _check_token(copy, token)
    kept = [code, *copy.record["related"]]
    record = _check_input(raw, user, copy.procedure, kept, one_fee=one_fee)
    problems = checks.time_limit_problems(record) if submit_after else {}
    submit_after = submit_after and not problems
    _write(copy, record, user, Status.IN_REVIEW if submit_after else None)
    action = "submitted" if submit_after else "saved"
    history.add_procedure_revision(copy.procedure, copy.record, action, user, note)
    audit.record(f"procedure.{action}", copy.procedure, note or copy.record["name"], actor=user)
    return copy, problems


# --- workflow -----------------------------------------------------------------------------------


def _transition(code: str, token: str, user: User, role: StaffRole) -> WorkingCopy:
    copy = _changing(code, user)
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
    if target == Status.IN_REVIEW:
        checks.check_ready(copy.record)
    _write(copy, copy.record, user, target)
    history.add_procedure_revision(copy.procedure, copy.record, action, user, note)
    audit.record(f"procedure.{action}", copy.procedure, note, actor=user)
    return copy


@use_case(on_error=_conflict_on_stale)
def submit(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Send the working copy for review. Raises ValidationError when it is not a draft,
    checks.NotReady when it may not go to review, EditConflict, PermissionDenied."""
    moves = (Status.DRAFT, Status.IN_REVIEW)
    refusal = _("Chỉ gửi duyệt được bản nháp.")
    return _move(code, token, user, StaffRole.EDITOR, moves, "submitted", note, refusal)


@use_case(on_error=_conflict_on_stale)
def return_to_draft(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Send a working copy in review back to its editors (publishers only). Raises
    ValidationError when it is not in review, EditConflict, PermissionDenied."""
    moves = (Status.IN_REVIEW, Status.DRAFT)
    refusal = _("Chỉ trả lại được bản đang chờ duyệt.")
    return _move(code, token, user, StaffRole.PUBLISHER, moves, "returned", note, refusal)


def _publish(copy: WorkingCopy) -> None:
    procedure = copy.procedure
    previous = changes.public_record(procedure)
    store.write_procedure(procedure, _with_state(copy.record, Status.PUBLISHED))
    procedure.local_edit_at = procedure.updated_at
    procedure.last_reviewed_at = procedure.updated_at  # a publication is a review
    if copy.draft is not None:
        db.session.delete(copy.draft)
        copy.draft = None
    db.session.flush()
    changes.record_change(procedure, previous)
    copy.record = convert.procedure_record(procedure)


@use_case(on_error=_conflict_on_stale)
def publish(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Publish the working copy (publishers only): the public sees it at once.

    Raises ValidationError when there is nothing unpublished, checks.NotReady when it may not
    be published (checks.time_limit_problems), EditConflict, PermissionDenied.
    """
    copy = _transition(code, token, user, StaffRole.PUBLISHER)
    if not copy.pending:
        raise ValidationError(_("Không có thay đổi nào chờ công bố."))
    checks.check_ready(copy.record)
    _publish(copy)
    history.add_procedure_revision(copy.procedure, copy.record, "published", user, note)
    audit.record("procedure.published", copy.procedure, note, actor=user)
    return copy


@use_case(on_error=_conflict_on_stale)
def discard_draft(code: str, token: str, user: User, note: str = "") -> WorkingCopy:
    """Drop the pending changes of a published procedure (they stay in its history)."""
    copy = _transition(code, token, user, StaffRole.EDITOR)
    if copy.draft is None:
        raise ValidationError(_("Thủ tục chưa công bố không có bản nháp riêng để hủy."))
    db.session.delete(copy.draft)
    copy.draft = None
    db.session.flush()
    copy.record = convert.procedure_record(copy.procedure)
    history.add_procedure_revision(copy.procedure, copy.record, "discarded", user, note)
    audit.record("procedure.discarded", copy.procedure, note, actor=user)
    return copy


@use_case(on_error=_conflict_on_stale)
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
    previous = changes.public_record(procedure)
    record = _with_state(
        previous,
        Status.ABOLISHED,
        replaced_by=replacement.code if replacement else None,
        reason=reason,
    )
    store.write_procedure(procedure, record)
    procedure.local_edit_at = procedure.updated_at
    db.session.flush()
    stored = convert.procedure_record(procedure)
    changes.record_change(procedure, previous)
    history.add_procedure_revision(procedure, stored, "abolished", user, note)
    audit.record("procedure.abolished", procedure, reason, actor=user)
    if copy.draft is None:
        copy.record = stored
    return copy


@use_case(on_error=_conflict_on_stale)
def restore(
    code: str, number: int, token: str, user: User, *, publish_now: bool = False
) -> WorkingCopy:
    """Make revision `number` the working copy again, as a new revision; publishers may publish
    it at once. Raises EditConflict, ValidationError (e.g. an agency it names is gone),
    checks.NotReady when it is to be published but may not be, NotFound, PermissionDenied."""
    revision = history.get_revision(code, number, user)
    copy = _changing(code, user)
    _check_token(copy, token)
    if publish_now:
        accounts.require(user, StaffRole.PUBLISHER)
    raw = {**revision.record, "code": copy.procedure.code}
    record = _check_input(raw, user, copy.procedure, [raw["code"], *raw["related"]])
    if publish_now:
        checks.check_ready(record)
    _write(copy, record, user, Status.DRAFT)
    note = _("Khôi phục phiên bản số %(n)s", n=number)
    history.add_procedure_revision(copy.procedure, copy.record, "restored", user, note)
    if publish_now:
        _publish(copy)
        history.add_procedure_revision(copy.procedure, copy.record, "published", user, note)
    audit.record(
        f"procedure.{'published' if publish_now else 'restored'}", copy.procedure, note, actor=user
    )
    return copy
