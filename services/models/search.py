"""The search tables: the log of changes the indexes follow, and the log of searches people
made."""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow

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


class SearchChange(Base):
    """One change the search index must follow: the procedure whose document must be rewritten
    (or dropped), numbered by `seq`. Written in the same transaction as the change; every index
    (one per app server) applies the log from its own high-water mark, so nothing is lost when
    an index is busy, a process dies or another server made the change."""

    __tablename__ = "search_change"

    seq: Mapped[int] = mapped_column(LOG_ID, primary_key=True, autoincrement=False)
    # No foreign key: a deleted procedure's row tells the index to drop it.
    procedure_id: Mapped[int]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchChangeCounter(Base):
    """The log's one counter row: the last `seq` handed out, and the last one pruned. A
    transaction that logs a change updates this row, which it then holds locked until it
    commits, so numbers become visible in the order they were given: an index that applied
    the log up to `seq` has seen every change numbered below it."""

    __tablename__ = "search_change_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(LOG_ID, default=0)
    pruned_through: Mapped[int] = mapped_column(LOG_ID, default=0)
    # Names this database's log: an index whose mark carries another token was built from
    # another database (a copied instance folder, a database made anew) and is rebuilt.
    token: Mapped[str] = mapped_column(String(32), default="")


class SearchIndexMark(Base):
    """How far one index (one app server's local index) has applied the change log, and when
    it last said so; the log is pruned below the lowest mark of the indexes seen recently."""

    __tablename__ = "search_index_mark"

    node: Mapped[str] = mapped_column(String(200), primary_key=True)
    mark: Mapped[int] = mapped_column(LOG_ID, default=0)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


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
