"""What the public tells the portal: "was this page useful?" answers, polls and their votes,
and which search results people opened (the clicks of the search report).

No client address is stored anywhere here: the rate limit keeps addresses in its own counters
only, for a minute or a day.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, utcnow
from .catalogue import Procedure
from .search import LOG_ID
from .staff import User


class FeedbackReason(enum.StrEnum):
    """Why a page was not useful, as the visitor chose it."""

    OUTDATED = "outdated"
    FEE_WRONG = "fee_wrong"
    FORM_MISSING = "form_missing"
    OTHER = "other"


class PageFeedback(Base):
    """One visitor's answer to "was this page useful?" on a procedure page, with the comment
    they may add, and how staff handled it."""

    __tablename__ = "page_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    useful: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(String(16))
    # Plain text as typed (NFC), escaped wherever it is shown.
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    done: Mapped[bool] = mapped_column(default=False, index=True)
    # Staff's reply, for colleagues (the visitor is anonymous and is not told).
    note: Mapped[str] = mapped_column(Text, default="")
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )

    procedure: Mapped[Procedure] = relationship()
    handled_by: Mapped[User | None] = relationship()


class Poll(Base):
    """A question put to visitors ("Thăm dò ý kiến"), open for answers or closed."""

    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    is_open: Mapped[bool] = mapped_column(default=False)
    public_results: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan"
    )


class PollOption(Base):
    """One answer a poll offers."""

    __tablename__ = "poll_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollVote(Base):
    """A visitor's answer. `voter` is the random id of their signed cookie, unique per poll, so
    posting the form again does not count twice."""

    __tablename__ = "poll_vote"
    __table_args__ = (UniqueConstraint("poll_id", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_option.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(64))
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchClick(Base):
    """A search result someone opened, tied to the search it came from (deleted with it when
    the log is trimmed)."""

    __tablename__ = "search_click"

    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(
        LOG_ID, ForeignKey("search_log.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    clicked_at: Mapped[datetime] = mapped_column(default=utcnow)
