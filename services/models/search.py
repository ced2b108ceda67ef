"""The search tables: changes waiting for the index, and the log of searches people made."""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
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


# 64 bits for ids made by the application (SQLite's INTEGER already has them).
LOG_ID = BigInteger().with_variant(Integer, "sqlite")


# Microseconds since 2020-01-01 fill 51 bits until 2091; 12 random bits below them.
_EPOCH_US = 1_577_836_800_000_000
_RANDOM_BITS = 12


def new_log_id() -> int:
    """An id for a search log entry, unique without asking the database (in practice: two
    entries would need the same microsecond and the same 12 random bits), ordered by time."""
    micros = time.time_ns() // 1000 - _EPOCH_US
    return (micros << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)


class SearchLog(Base):
    """One search people made (query, how many results, when, how long), for the staff report.
    Its id is made by the application (services/search/searchlog.py), not the database, so a
    results page can link to its entry before the row is written."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(
        LOG_ID, primary_key=True, autoincrement=False, default=new_log_id
    )
    query: Mapped[str] = mapped_column(String(500))
    results: Mapped[int]
    searched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    took_ms: Mapped[float] = mapped_column(default=0.0)
