""" "Was this page useful?": visitors' answers on procedure pages, and staff handling them.

A visitor answers yes or no, then may add a reason and a comment to that same answer. Staff
see the answers about procedures of their own agencies (admins: all), mark them done and
leave a note. Comments are plain text: stored as typed (NFC, control characters removed) and
escaped wherever they are shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from . import accounts, audit
from .catalogue import queries
from .db import db, use_case, utcnow
from .errors import NotFound, PermissionDenied, ValidationError
from .models import FeedbackReason, PageFeedback, ProcedureAgency, StaffRole, User
from .text import clean_block

MAX_COMMENT = 2000
MAX_NOTE = 2000
# A NUL cannot even be stored by PostgreSQL; other control characters are never meant.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(text: str, limit: int, field: str) -> str:
    value = clean_block(_CONTROL.sub(" ", text or ""))
    if len(value) > limit:
        raise ValidationError(
            {field: _("Tối đa %(n)s ký tự (bạn đã nhập %(m)s).", n=limit, m=len(value))}
        )
    return value


@use_case
def record_answer(code: str, useful: bool) -> PageFeedback:
    """Store a visitor's yes or no about the page of procedure `code`. Raises NotFound for a
    procedure the public cannot see."""
    procedure = queries.get_procedure(code)
    answer = PageFeedback(procedure_id=procedure.id, useful=useful)
    db.session.add(answer)
    db.session.flush()
    return answer


@use_case
def add_comment(answer_id: int, code: str, reason: str, comment: str) -> PageFeedback:
    """Add the reason and comment to the visitor's own answer (`answer_id`, which the caller
    took from the visitor's session) about procedure `code`. A second comment on the same
    answer is refused, so a replayed form cannot overwrite the first.

    Raises NotFound, ValidationError (unknown reason, comment too long, already commented).
    """
    answer = db.session.get(PageFeedback, answer_id)
    if answer is None or answer.procedure.code != code:
        raise NotFound(_("Không tìm thấy câu trả lời của bạn; hãy chọn lại Có hoặc Không."))
    if reason and reason not in set(FeedbackReason):
        raise ValidationError({"reason": _("Lý do không hợp lệ.")})
    text = _plain(comment, MAX_COMMENT, "comment")
    if answer.comment or answer.reason:
        raise ValidationError({"comment": _("Bạn đã gửi góp ý cho câu trả lời này rồi.")})
    answer.reason = reason or None
    answer.comment = text
    return answer


@dataclass
class FeedbackPage:
    """Answers a staff member may see, newest first, and how many are still open."""

    answers: list[PageFeedback]
    open_count: int
    done_count: int


def _visible(user: User):
    """The condition on PageFeedback for the procedures of `user`'s agencies (None: all)."""
    allowed = accounts.scope(user)
    if allowed is None:
        return None
    linked = select(ProcedureAgency.procedure_id).where(ProcedureAgency.agency_id.in_(allowed))
    return PageFeedback.procedure_id.in_(linked)


def list_feedback(user: User, *, done: bool = False, limit: int = 200) -> FeedbackPage:
    """The answers about procedures of `user`'s agencies, open ones or done ones."""
    accounts.require(user, StaffRole.EDITOR)
    where = _visible(user)
    conditions = [] if where is None else [where]
    rows = db.session.execute(
        select(PageFeedback)
        .where(PageFeedback.done == done, *conditions)
        .options(selectinload(PageFeedback.procedure), selectinload(PageFeedback.handled_by))
        .order_by(PageFeedback.created_at.desc(), PageFeedback.id.desc())
        .limit(limit)
    ).scalars()
    counts = dict(
        db.session.execute(
            select(PageFeedback.done, func.count()).where(*conditions).group_by(PageFeedback.done)
        ).all()
    )
    return FeedbackPage(list(rows), counts.get(False, 0), counts.get(True, 0))


def _answer_for(answer_id: int, user: User) -> PageFeedback:
    answer = db.session.get(PageFeedback, answer_id)
    if answer is None:
        raise NotFound(_("Không tìm thấy góp ý này."))
    ids = {link.agency_id for link in answer.procedure.agency_links if link.agency_id}
    if not accounts.in_scope(user, ids):
        raise PermissionDenied(_("Góp ý này thuộc thủ tục của cơ quan khác."))
    return answer


@use_case
def handle(answer_id: int, done: bool, note: str, user: User) -> PageFeedback:
    """Mark an answer done (or open again) with staff's note. Raises NotFound,
    PermissionDenied (another agency's procedure), ValidationError (note too long)."""
    accounts.require(user, StaffRole.EDITOR)
    answer = _answer_for(answer_id, user)
    answer.note = _plain(note, MAX_NOTE, "note")
    answer.done = done
    answer.handled_at = utcnow()
    answer.handled_by_id = user.id
    said = _("Đánh dấu đã xử lý") if done else _("Mở lại")
    audit.record("feedback.handled", ("page_feedback", answer.id), said, actor=user)
    return answer
