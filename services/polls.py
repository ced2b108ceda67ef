"""Polls ("Thăm dò ý kiến"): admins put a question with options and open or close it; visitors
answer once; staff (and, when the admin allows it, the public) see the results.

A visitor is known only by the random id kept in their signed session cookie. The database
holds one vote per poll and id (a unique constraint), so posting the form again, or twice at
once, counts once.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import accounts, audit
from .db import db, use_case
from .errors import NotFound, ValidationError
from .models import Poll, PollOption, PollVote, StaffRole, User
from .text import clean

MAX_QUESTION = 300
MAX_OPTION = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10


def _poll(poll_id: int) -> Poll:
    poll = db.session.execute(
        select(Poll).where(Poll.id == poll_id).options(selectinload(Poll.options))
    ).scalar_one_or_none()
    if poll is None:
        raise NotFound(_("Không tìm thấy cuộc thăm dò này."))
    return poll


def _options(lines: list[str]) -> list[str]:
    options = [clean(line) for line in lines if clean(line)]
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise ValidationError(
            {"options": _("Cần từ %(a)s đến %(b)s lựa chọn.", a=MIN_OPTIONS, b=MAX_OPTIONS)}
        )
    if len({o.casefold() for o in options}) != len(options):
        raise ValidationError({"options": _("Hai lựa chọn trùng nhau.")})
    if any(len(o) > MAX_OPTION for o in options):
        raise ValidationError({"options": _("Mỗi lựa chọn tối đa %(n)s ký tự.", n=MAX_OPTION)})
    return options


def check_can_manage(user: User) -> None:
    """Raise PermissionDenied unless `user` may create, open and close polls (admins)."""
    accounts.require(user, StaffRole.ADMIN)


def public_poll(poll_id: int) -> Poll:
    """A poll as visitors may see it: open, or closed with its results published. Raises
    NotFound otherwise."""
    poll = _poll(poll_id)
    if not (poll.is_open or poll.public_results):
        raise NotFound(_("Không tìm thấy cuộc thăm dò này."))
    return poll


@use_case
def create_poll(question: str, options: list[str], user: User) -> Poll:
    """A new poll, closed until an admin opens it. Raises PermissionDenied, ValidationError."""
    check_can_manage(user)
    text = clean(question)
    if not text or len(text) > MAX_QUESTION:
        raise ValidationError({"question": _("Câu hỏi cần từ 1 đến %(n)s ký tự.", n=MAX_QUESTION)})
    labels = _options(options)
    poll = Poll(question=text)
    poll.options = [PollOption(label=label, position=i) for i, label in enumerate(labels)]
    db.session.add(poll)
    db.session.flush()
    audit.record("poll.created", ("poll", poll.id), poll.question, actor=user)
    return poll


@use_case
def set_state(poll_id: int, is_open: bool, public_results: bool, user: User) -> Poll:
    """Open or close a poll and show or hide its results to the public."""
    check_can_manage(user)
    poll = _poll(poll_id)
    poll.is_open = is_open
    poll.public_results = public_results
    state = [_("mở") if is_open else _("đóng"), _("công bố kết quả") if public_results else ""]
    audit.record("poll.state", ("poll", poll.id), ", ".join(filter(None, state)), actor=user)
    return poll


def list_polls(user: User) -> list[Poll]:
    """Every poll, newest first, for staff."""
    accounts.require(user, StaffRole.EDITOR)
    return list(db.session.execute(select(Poll).order_by(Poll.id.desc())).scalars())


def open_polls() -> list[Poll]:
    """The polls visitors may answer now, newest first."""
    return list(
        db.session.execute(
            select(Poll)
            .where(Poll.is_open.is_(True))
            .options(selectinload(Poll.options))
            .order_by(Poll.id.desc())
        ).scalars()
    )


@dataclass
class Results:
    """A poll with the number of votes per option (in the options' order)."""

    poll: Poll
    counts: list[tuple[PollOption, int]]

    @property
    def total(self) -> int:
        return sum(n for _option, n in self.counts)

    def share(self, n: int) -> float:
        """`n` as a percentage of all votes (0 when nobody voted)."""
        return round(100 * n / self.total, 1) if self.total else 0.0


def _results(poll: Poll) -> Results:
    counts = dict(
        db.session.execute(
            select(PollVote.option_id, func.count())
            .where(PollVote.poll_id == poll.id)
            .group_by(PollVote.option_id)
        ).all()
    )
    return Results(poll, [(option, counts.get(option.id, 0)) for option in poll.options])


def staff_results(poll_id: int, user: User) -> Results:
    """A poll's results for staff. Raises NotFound, PermissionDenied."""
    accounts.require(user, StaffRole.EDITOR)
    return _results(_poll(poll_id))


def public_results(poll_id: int) -> Results:
    """A poll's results, when its admin lets the public see them. Raises NotFound."""
    poll = _poll(poll_id)
    if not poll.public_results:
        raise NotFound(_("Kết quả cuộc thăm dò này không được công bố."))
    return _results(poll)


def has_voted(poll_id: int, voter: str | None) -> bool:
    """True when the visitor with this cookie id has answered the poll."""
    if not voter:
        return False
    found = db.session.execute(
        select(PollVote.id).where(PollVote.poll_id == poll_id, PollVote.voter == voter)
    ).first()
    return found is not None


@use_case
def _store_vote(poll_id: int, option_id: int, voter: str) -> None:
    db.session.add(PollVote(poll_id=poll_id, option_id=option_id, voter=voter))


def vote(poll_id: int, option_id: int, voter: str) -> bool:
    """Count the visitor's answer. Returns False (nothing counted) when they have answered
    already. Raises NotFound (no such poll), ValidationError (closed poll, not one of its
    options)."""
    poll = _poll(poll_id)
    if not poll.is_open:
        raise ValidationError({"option": _("Cuộc thăm dò này đã đóng.")})
    if option_id not in {option.id for option in poll.options}:
        raise ValidationError({"option": _("Hãy chọn một trong các câu trả lời.")})
    try:
        _store_vote(poll.id, option_id, voter)
    except IntegrityError:
        return False
    return True
