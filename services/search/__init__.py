"""Search: the portal's own small interface to its Whoosh index.

Views and commands use only what is defined here: `find` (the search page and the JSON API),
`suggest` (completions as you type), `rebuild`, `check` and `bulk` (index maintenance), and
`init_app`. Whoosh itself stays behind this package (analysis.py, documents.py, index.py,
sync.py, snapshot.py, pinned.py, integrity.py, health.py, recovery.py, query.py, engine.py,
ranking.py, spelling.py, vocabulary.py, highlight.py; the search log in searchlog.py), so it
can be replaced without touching a view.

The index returns document numbers and highlights; what is shown is loaded from the database,
so it is never stale.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from .. import labels
from ..catalogue.rows import ListedProcedure, listed_procedures
from ..db import db
from ..errors import ValidationError
from ..models import Agency, Field, Level, OnlineLevel, Status, Subject
from . import (
    engine,
    highlight,
    index,
    recovery,
    searchlog,
    semantic,
    snapshot,
    spelling,
    sync,
    synonyms,
)
from .index import check, rebuild
from .recovery import SearchUnavailable
from .searchlog import forget_old_searches
from .sync import bulk

__all__ = [
    "FacetValue",
    "Params",
    "Result",
    "SearchPage",
    "SearchUnavailable",
    "Suggestion",
    "bulk",
    "check",
    "find",
    "forget_old_searches",
    "init_app",
    "rebuild",
    "suggest",
]

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
LINES = 4096  # result lines kept per view (one per thread and index state; about 1 kB each)
# Control characters (a NUL cannot even be stored by PostgreSQL) are not part of a query.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NO_ONLINE = "none"
_FACET_MODELS = {"agency": Agency, "field": Field, "level": Level, "subject": Subject}


def init_app(app: Flask) -> None:
    """Follow the database and make sure a usable index exists (rebuilt when missing,
    damaged or of an older schema). With background work allowed (a server), a thread then
    reads the whole index for damage (repaired in the background) and warms the caches, and
    another looks at the change log for other servers' commits (`SEARCH_POLL_SECONDS`);
    without, the whole index is read before the app is returned (unless
    `SEARCH_THOROUGH_START` is False: then only what opening it reads). A `flask` command other
    than `run` neither reads the whole index nor warms caches it would not use."""
    sync.listen()
    megabytes = float(app.config.get("SEARCH_CACHE_MB", snapshot.CACHE_BYTES / 2**20))
    snapshot.cache.limit = int(megabytes * 2**20)
    background = app.config.get("SEARCH_BACKGROUND", True)
    thorough = app.config.get("SEARCH_THOROUGH_START")
    with app.app_context():
        index.ensure(thorough=not background if thorough is None else thorough)
    if background and _serving():
        threading.Thread(target=recovery.warm, args=(app,), name="search-warm", daemon=True).start()
        if interval := sync.poll_interval(app):
            sync.Poller(app, interval).start()


def _serving() -> bool:
    """True when the app is built to serve requests: by a WSGI server (gunicorn) or by
    `flask run`, not by another `flask` command."""
    command = click.get_current_context(silent=True)
    return command is None or command.command.name == "run"


@dataclass
class Params:
    """A search as the views receive it; facet values are slugs ("" for none)."""

    q: str = ""
    agency: str = ""
    field: str = ""
    level: str = ""
    subject: str = ""
    online: str = ""
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    def filters(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in engine.FACETS if getattr(self, name)}


@dataclass
class FacetValue:
    """One value of a facet with the number of results that have it."""

    slug: str
    name: str
    count: int
    selected: bool = False


@dataclass
class Result:
    """One result: the procedure as stored now (what its line shows), with the words that
    matched marked."""

    procedure: ListedProcedure
    score: float
    name: Markup
    snippet: Markup


@dataclass
class SearchPage:
    """A page of results and everything the page around them shows."""

    params: Params
    total: int
    results: list[Result]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None = None
    corrected: bool = False
    relaxed: bool = False
    truncated: bool = False
    ignored: list[str] = field(default_factory=list)
    nearby: dict[str, list[FacetValue]] = field(default_factory=dict)
    # The search log's entry of this search, for result links that record what was opened.
    log_id: int | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, engine.MAX_RESULTS) // self.params.per_page))


def _check_params(params: Params, strict: bool) -> list[str]:
    """Unknown facet values: a ValidationError when `strict`, else dropped and returned."""
    errors = {**_unknown_facet_values(params), **_bad_choices(params)}
    if strict and errors:
        raise ValidationError(errors)
    for name in errors:
        if name in engine.FACETS:
            setattr(params, name, "")
        elif name == "sort":
            params.sort = "relevance"
        elif name in ("page", "per_page"):
            raise ValidationError({name: errors[name]})
    return list(errors.values())


def _unknown_facet_values(params: Params) -> dict[str, str]:
    """The facets whose value names no agency, lĩnh vực, level or subject."""
    errors: dict[str, str] = {}
    for name, model in _FACET_MODELS.items():
        value = getattr(params, name)
        if (
            value
            and db.session.execute(select(model.id).where(model.slug == value)).first() is None
        ):
            errors[name] = _("Không có giá trị “%(v)s” cho bộ lọc này.", v=value)
    return errors


def _bad_choices(params: Params) -> dict[str, str]:
    """The parameters with a value outside their fixed choices or range."""
    errors: dict[str, str] = {}
    if params.online and params.online not in (*OnlineLevel, NO_ONLINE):
        errors["online"] = _("Mức dịch vụ trực tuyến không hợp lệ.")
    if params.sort not in engine.SORTS:
        errors["sort"] = _("Cách sắp xếp không hợp lệ.")
    if not 1 <= params.per_page <= MAX_PER_PAGE:
        errors["per_page"] = _("Số kết quả mỗi trang phải từ 1 đến %(n)s.", n=MAX_PER_PAGE)
    if params.page < 1 or (params.page - 1) * params.per_page >= engine.MAX_RESULTS:
        errors["page"] = _("Trang không hợp lệ.")
    return errors


def _names(view: snapshot.View, facet: str) -> dict[str, str]:
    """Display names of a facet's values. Renaming an agency or lĩnh vực rewrites the
    documents that show it, so names loaded once per index state are never stale."""

    def load() -> dict[str, str]:
        if facet not in _FACET_MODELS:
            return {value: _online_label(value) for value in (*OnlineLevel, NO_ONLINE)}
        model = _FACET_MODELS[facet]
        short = model.short_name if model is Agency else model.name
        rows = db.session.execute(select(model.slug, short, model.name)).all()
        return {slug: short_name or name for slug, short_name, name in rows}

    return view.memo(("names", facet), load)


def _facet_names(
    view: snapshot.View, counts: dict[str, list[tuple[str, int]]], params: Params
) -> dict[str, list[FacetValue]]:
    out: dict[str, list[FacetValue]] = {}
    for name, values in counts.items():
        names = _names(view, name)
        out[name] = [
            FacetValue(slug, names.get(slug, slug), count, getattr(params, name, "") == slug)
            for slug, count in values
            if slug in names
        ]
    return out


def _online_label(value: str) -> str:
    return _("Chưa có dịch vụ công trực tuyến") if value == NO_ONLINE else labels.label(value)


def _rows(view: snapshot.View, ids: list[int]) -> dict[int, ListedProcedure]:
    """The procedures found, with what a line of results shows, as the database had them
    when this index state first listed them: loaded in one statement of plain columns for
    those not listed yet, kept for the life of the view (up to LINES). Any change to what a
    line shows (the procedure, its agencies, lĩnh vực or levels) rewrites its document, so
    the index has a new state and the lines are loaded again. One changed a moment ago may
    still be indexed as it was: only what was published when loaded is shown."""
    lines: dict[int, ListedProcedure | None] = view.memo(("lines",), dict)
    parts: dict = view.memo(("line parts",), dict)  # what the lines share (rows.py)
    missing = [i for i in ids if i not in lines]
    if missing:
        if len(lines) + len(missing) > LINES:
            lines.clear()
            parts.clear()
            missing = list(dict.fromkeys(ids))
        loaded = listed_procedures(missing, Status.PUBLISHED, parts)
        for procedure_id in missing:
            lines[procedure_id] = loaded.get(procedure_id)  # None: not published now
    return {i: line for i in ids if (line := lines.get(i)) is not None}


def _meaning() -> engine.Meaning | None:
    """How the engine gets a query's vector: embedded in the model's threads while the words
    are matched; None without a model."""
    model = semantic.embedder()
    if model is None:
        return None
    wait = float(current_app.config.get("SEARCH_EMBEDDING_TIMEOUT", 2.0))
    shared = semantic.shared_queries()

    def start(texts: list[str]):
        pending = [model.query_later(text, shared) for text in texts]

        def vector():
            try:
                return semantic.mean([p.result(timeout=wait) for p in pending])
            except Exception:
                # Slow or failed: the words alone rank this query.
                log.warning("query not embedded in time: words only", exc_info=True)
                return None

        return vector

    return start


def find(params: Params, *, strict: bool = False, record: bool = True) -> SearchPage:
    """Search the catalogue: the requested page of results, facets, help for few results.

    Unknown facet values raise ValidationError when `strict` (the API), else they are ignored
    and listed in `ignored` (the page). A bad page number or size always raises
    ValidationError. With `record`, a query with words is logged for the staff report, off
    the request (searchlog.py): a search itself writes nothing. Raises SearchUnavailable
    while the index is repaired.
    """
    started = time.perf_counter()
    ignored = _check_params(params, strict)
    request = engine.Request(params.q, params.filters(), params.sort, params.page, params.per_page)
    with recovery.reading() as view:
        outcome = engine.run(view, request, synonyms.current(), _meaning())
        hits = [
            (int(view.stored(d)["id"]), view.value("summary", d).decode(), outcome.scores.get(d))
            for d in outcome.docnums
        ]
    text = " ".join(_CONTROL.sub(" ", params.q).split())
    log_id = None
    if record and text:
        took = (time.perf_counter() - started) * 1000
        log_id = searchlog.record(text[:500], outcome.total, round(took, 2))
    rows = _rows(view, [procedure_id for procedure_id, _, _ in hits])
    results = [
        Result(
            rows[procedure_id],
            round(score or 0.0, 4),
            highlight.mark(rows[procedure_id].name, outcome.terms),
            highlight.snippet(summary, outcome.terms),
        )
        for procedure_id, summary, score in hits
        if procedure_id in rows
    ]
    return SearchPage(
        params=params,
        total=outcome.total,
        results=results,
        facets=_facet_names(view, outcome.facets, params),
        suggestion=outcome.suggestion,
        corrected=outcome.corrected,
        relaxed=outcome.relaxed,
        truncated=outcome.truncated,
        ignored=ignored,
        nearby=_facet_names(view, outcome.nearby, params) if outcome.nearby else {},
        log_id=log_id,
    )


@dataclass
class Suggestion:
    """A procedure proposed while the user types."""

    code: str
    name: str
    marked: Markup


def suggest(text: str, limit: int = 8) -> list[Suggestion]:
    """Published procedures whose names start to match what has been typed so far."""
    if not text.strip():
        return []
    with recovery.reading() as view:
        public = view.bits("status", "published")
        plan, ranked = spelling.complete(view, text, synonyms.current(), limit, public)
        ids = [int(view.stored(d)["id"]) for d, _ in ranked]
    rows = _rows(view, ids)
    terms = plan.terms()
    return [
        Suggestion(rows[i].code, rows[i].name, highlight.mark(rows[i].name, terms))
        for i in ids
        if i in rows
    ]
