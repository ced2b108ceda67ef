"""The JSON API (/api/v1): searching and listing procedures, one procedure or agency in the
catalogue file's shape, the change list, the CPSV-AP export, suggestions as you type, and the
API's own OpenAPI description with a page to read it.

Absolute URLs come from the base URL in the site settings, never from the request's Host;
without one the API gives paths from the root.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _

from .. import search as search_service
from ..catalogue import convert, queries, rows
from ..catalogue.records import format_timestamp
from ..errors import ValidationError
from ..forms.search import ApiSearchForm
from ..inputs import integer
from ..journeys import queries as journeys
from ..journeys.records import journey_document
from ..models import Procedure, Role, Status
from ..opendata import changes, cpsv, openapi
from ..opendata.links import NoBaseUrl, configured_base, link, required_base
from .search import params_from

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SUGGEST_LENGTH = 200
CHANGES_LIMIT = 100
CHANGES_MAX = 1000
JSONLD = "application/ld+json"


def _error(errors: dict, status: int = 400):
    flat = {
        key or "q": value if isinstance(value, str) else " ".join(map(str, value))
        for key, value in errors.items()
    }
    return {"error": " ".join(flat.values()), "errors": flat, "status": status}, status


def _unavailable(error: NoBaseUrl):
    return {"error": str(error), "status": 503}, 503


def _agency_name(procedure: Procedure | rows.ListedProcedure) -> str | None:
    return next(
        (link.display_name for link in procedure.agencies(Role.IMPLEMENTING) if link.display_name),
        None,
    )


def _summary(procedure: Procedure | rows.ListedProcedure, base: str | None) -> dict:
    """What the API says of a procedure in a list: a search result's line
    (rows.ListedProcedure) or a changed procedure (a Procedure), both read alike."""
    return {
        "code": procedure.code,
        "name": procedure.name,
        "name_en": procedure.name_en,
        "summary_en": procedure.summary_en,
        "url": link(base, "public.procedure", code=procedure.code),
        "agency": _agency_name(procedure),
        "fields": [f.name for f in procedure.fields],
        "levels": [level.name for level in procedure.levels],
    }


def _result(result: search_service.Result, base: str | None) -> dict:
    return {
        **_summary(result.procedure, base),
        "score": result.score,
        "highlight": {"name": str(result.name), "snippet": str(result.snippet)},
    }


def _moment(value: str) -> datetime:
    """An ISO 8601 date or date and time as naive UTC (a time without offset is UTC)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            {
                "updated_since": _(
                    "updated_since phải là ngày theo ISO 8601, ví dụ 2026-12-01 hoặc "
                    "2026-12-01T08:00:00Z."
                )
            }
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@bp.get("/procedures")
def procedures():
    """Search (with `q`) or list and filter the published procedures; with `updated_since`,
    the public procedures changed since then."""
    form = ApiSearchForm(request.args)
    if not form.validate():
        return _error(form.errors)
    base = configured_base()
    if "updated_since" in request.args:
        return _updated_since(form, base)
    try:
        page = search_service.find(params_from(form, form.per_page.data or 20), strict=True)
    except ValidationError as error:
        return _error(error.errors)
    return {
        "total": page.total,
        "page": page.params.page,
        "per_page": page.params.per_page,
        "results": [_result(r, base) for r in page.results],
        "facets": {
            name: [{"value": v.slug, "name": v.name, "count": v.count} for v in values]
            for name, values in page.facets.items()
        },
        "suggestion": page.suggestion,
        "corrected": page.corrected,
        "relaxed": page.relaxed,
    }


def _updated_since(form: ApiSearchForm, base: str | None):
    if any(request.args.get(name) for name in ("q", "agency", "field", "level", "subject")):
        message = _("updated_since không dùng cùng với q hay bộ lọc: chỉ kèm page, per_page.")
        return _error({"updated_since": message})
    try:
        moment = _moment(request.args["updated_since"])
    except ValidationError as error:
        return _error(error.errors)
    page, per_page = form.page.data or 1, form.per_page.data or 20
    total, found = changes.updated_since(moment, page, per_page)
    return {
        "total": total,
        "page": page,
        "per_page": per_page,
        "updated_since": format_timestamp(moment),
        "results": [
            {
                **_summary(p, base),
                "status": p.status,
                "updated_at": format_timestamp(p.updated_at),
            }
            for p in found
        ],
    }


@bp.get("/procedures/<code>")
def procedure(code: str):
    """One public procedure as a record of the catalogue file, with its page's address."""
    found = queries.get_procedure(code)
    return {
        **convert.procedure_record(found),
        "url": link(configured_base(), "public.procedure", code=code),
    }


@bp.get("/agencies/<slug>")
def agency(slug: str):
    """One agency as a record of the catalogue file, with the codes of the procedures it
    carries out."""
    found = queries.get_agency(slug)
    groups = queries.agency_procedures(found)
    abolished = queries.agency_procedures(found, status=Status.ABOLISHED)
    return {
        **convert.agency_record(found),
        "url": link(configured_base(), "public.agency", slug=slug),
        "procedures": sorted(p.code for g in groups for p in g.procedures),
        "abolished_procedures": sorted(p.code for g in abolished for p in g.procedures),
    }


def _count(name: str, default: int, maximum: int) -> int:
    value = request.args.get(name, "").strip()
    if not value:
        return default
    try:
        return integer(value, maximum=maximum)
    except ValueError:
        raise ValidationError(
            {name: _("%(name)s phải là số nguyên từ 0 đến %(max)s.", name=name, max=maximum)}
        ) from None


@bp.get("/journeys")
def journey_list():
    """The published journeys, with their pages' addresses."""
    base = configured_base()
    return {
        "journeys": [
            {
                "slug": j.slug,
                "name": j.name,
                "name_en": j.name_en,
                "summary": j.summary,
                "summary_en": j.summary_en,
                "steps": len(j.steps),
                "url": link(base, "journeys.journey", slug=j.slug),
            }
            for j in journeys.list_journeys()
        ]
    }


@bp.get("/journeys/<slug>")
def journey(slug: str):
    """One published journey: its steps with their procedures' codes, each step's time and fee,
    and the totals (the rules are the journey page's)."""
    return {
        **journey_document(journeys.journey_page(slug)),
        "url": link(configured_base(), "journeys.journey", slug=slug),
    }


@bp.get("/changes")
def change_list():
    """Published changes after sequence number `since`, oldest first, each with the record as
    published: enough for another portal to keep a copy in step."""
    try:
        since = _count("since", 0, 2**62)
        limit = max(1, _count("limit", CHANGES_LIMIT, CHANGES_MAX))
    except ValidationError as error:
        return _error(error.errors)
    base = configured_base()
    entries = changes.since(since, limit)
    return {
        "since": since,
        "latest": changes.latest_sequence(),
        "next": entries[-1].id if entries else since,
        "changes": [
            {
                "sequence": entry.id,
                "at": format_timestamp(entry.at),
                "code": entry.code,
                "kind": entry.kind,
                "name": entry.name,
                "summary": entry.summary,
                "url": link(base, "public.procedure", code=entry.code),
                "record": entry.record,
            }
            for entry in entries
        ],
    }


@bp.get("/cpsv-ap.jsonld")
def cpsv_ap():
    """Every published procedure in CPSV-AP 3.2.0 (JSON-LD)."""
    try:
        base = required_base(_("dữ liệu CPSV-AP"))
    except NoBaseUrl as error:
        return _unavailable(error)
    document = cpsv.catalogue_document(base)
    response = current_app.json.response(document)
    response.mimetype = JSONLD
    return response


@bp.get("/openapi.json")
def openapi_json():
    """This API's OpenAPI 3.1 description."""
    return openapi.document(configured_base())


@bp.get("/docs")
def docs():
    """A page to read the API's description, rendered by Swagger UI from static files."""
    return render_template("api/docs.html", spec_url=url_for("api.openapi_json"))


@bp.get("/suggest")
def suggest():
    """Up to eight procedures whose names match what has been typed so far."""
    text = request.args.get("q", "")[:SUGGEST_LENGTH]
    try:
        found = search_service.suggest(text)
    except search_service.SearchUnavailable:
        found = []
    return {
        "query": text,
        "suggestions": [
            {
                "code": s.code,
                "name": s.name,
                "highlight": str(s.marked),
                "url": url_for("public.procedure", code=s.code),
            }
            for s in found
        ],
    }
