"""The staff area's tables: accounts, failed logins, drafts of published procedures,
revisions and uploaded files."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, Versioned, utcnow
from .catalogue import Agency, Procedure, Status


class StaffRole(enum.StrEnum):
    """What a staff account may do: editors draft, publishers also publish, admins do all."""

    EDITOR = "editor"
    PUBLISHER = "publisher"
    ADMIN = "admin"


user_agency = Table(
    "user_agency",
    Base.metadata,
    Column("user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Base):
    """A staff account, scoped to the agencies it works for (admins see everything)."""

    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16), default=StaffRole.EDITOR)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session's user id: changing it (new password, deactivation) ends every
    # session of this account on every server at once.
    session_stamp: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    agencies: Mapped[list[Agency]] = relationship(secondary=user_agency, order_by=Agency.sort_name)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_stamp}"

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def has_role(self, role: StaffRole | str) -> bool:
        """True when the account's role is `role` or above it (editor < publisher < admin)."""
        order = list(StaffRole)
        return order.index(StaffRole(self.role)) >= order.index(StaffRole(role))


class LoginAttempt(Base):
    """A failed login, kept in the database so the lock-out holds across server processes."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key", "username", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcedureDraft(Versioned, Base):
    """Pending changes to a published (or abolished) procedure, as a canonical record.

    The procedure row keeps what the public sees until the draft is published.
    """

    __tablename__ = "procedure_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), unique=True
    )
    record: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32), default=Status.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    procedure: Mapped[Procedure] = relationship()
    updated_by: Mapped[User | None] = relationship()


class _Revision:
    """Columns shared by revisions: a numbered snapshot of a whole record, who, when, why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    record: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProcedureRevision(_Revision, Base):
    """One saved state of a procedure's working copy (draft or published)."""

    __tablename__ = "procedure_revision"
    __table_args__ = (UniqueConstraint("procedure_id", "number"),)

    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    procedure: Mapped[Procedure] = relationship()
    user: Mapped[User | None] = relationship()


class AgencyRevision(_Revision, Base):
    """One saved state of an agency."""

    __tablename__ = "agency_revision"
    __table_args__ = (UniqueConstraint("agency_id", "number"),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    agency: Mapped[Agency] = relationship()
    user: Mapped[User | None] = relationship()


class Attachment(Base):
    """An uploaded form template, stored under a generated name; never deleted, so older
    revisions keep their files."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
