"""The audit trail: one row per staff action (logins and failed logins, accounts, settings,
the search dictionary, lĩnh vực, agencies, procedures, uploads, imports, feedback, polls)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow


class AuditEntry(Base):
    """Who did what, when and from where; written in the same transaction as the action.

    Append-only: the portal has no way to change or delete an entry (no route, no service),
    only to list them, for admins. The actor's name is copied as it was at the time, so a
    renamed account or the login name of a failed attempt stays readable; `actor_id` is None
    for the command line ("cli") and for failed logins.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_target", "target_kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    # "kind.verb", e.g. "account.update": the kind before the dot is what the page filters on.
    action: Mapped[str] = mapped_column(String(48), index=True)
    target_kind: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(120), default="")
    summary: Mapped[str] = mapped_column(String(500), default="")
    # The client's address as the app sees it (behind a proxy: through TRUSTED_PROXIES).
    address: Mapped[str] = mapped_column(String(64), default="")
