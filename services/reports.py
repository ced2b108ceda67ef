"""What people searched for: the staff report read from the search log, the clicks on search
results, one-step dictionary rules for queries that found nothing, and the log's retention.

Days and weeks are those of the portal's time zone (BABEL_DEFAULT_TIMEZONE); the log stores
UTC. A "search" is one results page served: paging or filtering a query counts again.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from . import accounts, audit
from . import search as search_service
from .catalogue import queries
from .db import db, transaction, use_case
from .editorial import admin
from .errors import ValidationError
from .models import SearchClick, SearchLog, StaffRole, User
from .search import synonyms
from .text import clean

TOP = 20
MAX_DAYS = 731
MAX_RULE = 200
RULE_KINDS = ("synonym", "glossary")


@dataclass
class Period:
    """From the first day to the last, both included, in the portal's time zone."""

    first: date
    last: date

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as naive UTC datetimes [start, end)."""
        zone = _zone()
        start = datetime.combine(self.first, time.min, zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time.min, zone).astimezone(UTC)
        return start.replace(tzinfo=None), end.replace(tzinfo=None)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def default_period(days: int = 30) -> Period:
    """The last `days` days, today included."""
    today = datetime.now(_zone()).date()
    return Period(today - timedelta(days=days - 1), today)


@dataclass
class QueryRow:
    """A query as people typed it: how often, how many results its last search gave, how many
    of its searches had a result opened, and which results (code → times opened)."""

    query: str
    searches: int
    results: int
    clicked: int = 0
    opened: list[tuple[str, int]] = field(default_factory=list)
    # For queries without results: what the same query gives now (after a dictionary rule).
    now: int | None = None


@dataclass
class Week:
    """One week (from its Monday) of searches."""

    monday: date
    searches: int = 0
    zero: int = 0
    clicked: int = 0


@dataclass
class SearchReport:
    period: Period
    searches: int
    zero: int
    clicked: int
    top: list[QueryRow]
    zero_queries: list[QueryRow]
    unopened: list[QueryRow]
    weeks: list[Week]


def _in(period: Period):
    start, end = period.bounds()
    return SearchLog.searched_at >= start, SearchLog.searched_at < end


def _query_rows(period: Period, *having, limit: int = TOP) -> list[QueryRow]:
    """Queries of the period, most searched first, filtered by `having` on their group."""
    searches = func.count(func.distinct(SearchLog.id))
    rows = db.session.execute(
        select(
            SearchLog.query,
            searches,
            func.max(SearchLog.id),
            func.count(func.distinct(SearchClick.log_id)),
        )
        .outerjoin(SearchClick, SearchClick.log_id == SearchLog.id)
        .where(*_in(period))
        .group_by(SearchLog.query)
        .having(*having)
        .order_by(searches.desc(), SearchLog.query)
        .limit(limit)
    ).all()
    latest = dict(
        db.session.execute(
            select(SearchLog.id, SearchLog.results).where(SearchLog.id.in_([r[2] for r in rows]))
        ).all()
    )
    return [QueryRow(q, n, latest[last], c) for q, n, last, c in rows]


def _opened(period: Period, rows: list[QueryRow]) -> None:
    """Fill in which results each query's searches opened."""
    found = db.session.execute(
        select(SearchLog.query, SearchClick.code, func.count())
        .join(SearchLog, SearchClick.log_id == SearchLog.id)
        .where(*_in(period), SearchLog.query.in_([r.query for r in rows]))
        .group_by(SearchLog.query, SearchClick.code)
        .order_by(func.count().desc(), SearchClick.code)
    ).all()
    by_query: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for query, code, n in found:
        by_query[query].append((code, n))
    for row in rows:
        row.opened = by_query.get(row.query, [])


def _weeks(period: Period) -> list[Week]:
    """Searches per week of the period, every week shown (empty ones too)."""
    zone = _zone()
    with_click = select(SearchClick.log_id).distinct().subquery()
    rows = db.session.execute(
        select(SearchLog.searched_at, SearchLog.results, with_click.c.log_id)
        .outerjoin(with_click, with_click.c.log_id == SearchLog.id)
        .where(*_in(period))
    ).all()
    first = period.first - timedelta(days=period.first.weekday())
    weeks = [Week(first + timedelta(weeks=i)) for i in range((period.last - first).days // 7 + 1)]
    for at, results, click in rows:
        day = at.replace(tzinfo=UTC).astimezone(zone).date()
        week = weeks[(day - first).days // 7]
        week.searches += 1
        week.zero += results == 0
        week.clicked += click is not None
    return weeks


def rerun(query: str) -> int:
    """How many results `query` gives now (not logged)."""
    try:
        return search_service.find(search_service.Params(q=query), record=False).total
    except search_service.SearchUnavailable:
        return -1


def search_report(period: Period, user: User) -> SearchReport:
    """The search report of `period`. Raises PermissionDenied, ValidationError (the first day
    after the last)."""
    accounts.require(user, StaffRole.EDITOR)
    if period.first > period.last:
        raise ValidationError({"first": _("Ngày bắt đầu phải trước ngày kết thúc.")})
    if (period.last - period.first).days >= MAX_DAYS:
        raise ValidationError({"first": _("Mỗi báo cáo tối đa %(n)s ngày.", n=MAX_DAYS)})
    top = _query_rows(period)
    _opened(period, top)
    zero = _query_rows(period, func.max(SearchLog.results) == 0)
    for row in zero:
        row.now = rerun(row.query)
    unopened = _query_rows(period, func.max(SearchLog.results) > 0, func.count(SearchClick.id) == 0)
    weeks = _weeks(period)
    return SearchReport(
        period,
        sum(w.searches for w in weeks),
        sum(w.zero for w in weeks),
        sum(w.clicked for w in weeks),
        top,
        zero,
        unopened,
        weeks,
    )


# --- clicks on results --------------------------------------------------------------------------


@use_case
def record_click(log_id: int | None, code: str) -> str:
    """Note that the result `code` of search `log_id` was opened; returns the code of the
    public procedure to send the visitor to. An unknown or trimmed search is not recorded
    (the visitor still gets the page). Raises NotFound for a code the public cannot see."""
    procedure = queries.get_procedure(code)
    if log_id is not None and db.session.get(SearchLog, log_id) is not None:
        db.session.add(SearchClick(log_id=log_id, code=procedure.code))
    return procedure.code


@use_case
def purge_search_log(days: int | None = None) -> int:
    """Delete search log entries older than `days` (SEARCH_LOG_RETENTION_DAYS by default);
    returns how many."""
    return search_service.forget_old_searches(days)


# --- a dictionary rule from a query that found nothing -----------------------------------------


def _phrase(text: str, name: str) -> str:
    value = clean(text)
    if not value or len(value) > MAX_RULE:
        raise ValidationError({name: _("Cần từ 1 đến %(n)s ký tự.", n=MAX_RULE)})
    if any(mark in value for mark in ("=", "#", "?", ",")):
        raise ValidationError({name: _("Không dùng các dấu = # ? , trong một cụm từ.")})
    return value


@contextlib.contextmanager
def _glossary_locked() -> Iterator[None]:
    # The dictionary's own lock (editorial.admin), so an edit made at the same time is kept.
    lock = synonyms.override_path().with_name(".synonyms.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def check_can_add_rule(user: User) -> None:
    """Raise PermissionDenied unless `user` may change the search dictionary (admins)."""
    accounts.require(user, StaffRole.ADMIN)


def add_rule(kind: str, query: str, target: str, user: User) -> int:
    """Make `query` find what `target` finds, in one step: a one-way rule "query => target"
    appended to the synonym dictionary or to the English glossary (`kind`). Every process
    applies it from its next search; returns how many results `query` now gives.

    Raises PermissionDenied (admins only), ValidationError (empty, too long, or a sign that
    would break the dictionary's line), EditConflict (the dictionary changed meanwhile).
    """
    check_can_add_rule(user)
    if kind not in RULE_KINDS:
        raise ValidationError({"kind": _("Loại quy tắc không hợp lệ.")})
    line = f"{_phrase(query, 'query')} => {_phrase(target, 'target')}"
    if kind == "synonym":
        text = synonyms.load_text()
        admin.save_synonyms(f"{text.rstrip()}\n{line}\n", admin.text_version(text), user)
    else:
        with _glossary_locked(), transaction():
            audit.record("dictionary.glossary", None, line, actor=user)
            text = synonyms.glossary_path().read_text(encoding="utf-8")
            synonyms.save_glossary_text(f"{text.rstrip()}\n{line}\n")
    return rerun(query)
