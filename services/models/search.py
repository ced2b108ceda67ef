"""The search tables: changes waiting for the index, and the log of searches people made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow


class SearchPending(Base):
    """A procedure whose search document must be rewritten: written in the same transaction as
    the change, removed once the index holds it, so no update is lost when the index is busy or
    a process dies (the search index follows the database)."""

    __tablename__ = "search_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: a deleted procedure's row tells the index to drop it.
    procedure_id: Mapped[int]


class SearchLog(Base):
    """One search people made (query, how many results, when, how long), for the staff report."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500))
    results: Mapped[int]
    searched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    took_ms: Mapped[float] = mapped_column(default=0.0)
