"""The JSON API (/api/v1): searching and listing procedures, suggestions as you type."""

from __future__ import annotations

from flask import Blueprint, request, url_for

from .. import search as search_service
from ..errors import ValidationError
from ..forms.search import ApiSearchForm
from ..models import Procedure, Role
from .search import params_from

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SUGGEST_LENGTH = 200


def _error(errors: dict, status: int = 400):
    flat = {
        key or "q": value if isinstance(value, str) else " ".join(map(str, value))
        for key, value in errors.items()
    }
    return {"error": " ".join(flat.values()), "errors": flat, "status": status}, status


def _result(result: search_service.Result) -> dict:
    procedure: Procedure = result.procedure
    agency = next(
        (link.display_name for link in procedure.agencies(Role.IMPLEMENTING) if link.display_name),
        None,
    )
    return {
        "code": procedure.code,
        "name": procedure.name,
        "url": url_for("public.procedure", code=procedure.code, _external=True),
        "agency": agency,
        "fields": [f.name for f in procedure.fields],
        "levels": [level.name for level in procedure.levels],
        "score": result.score,
        "highlight": {"name": str(result.name), "snippet": str(result.snippet)},
    }


@bp.get("/procedures")
def procedures():
    """Search (with `q`) or list and filter the published procedures."""
    form = ApiSearchForm(request.args)
    if not form.validate():
        return _error(form.errors)
    try:
        page = search_service.find(params_from(form, form.per_page.data or 20), strict=True)
    except ValidationError as error:
        return _error(error.errors)
    return {
        "total": page.total,
        "page": page.params.page,
        "per_page": page.params.per_page,
        "results": [_result(r) for r in page.results],
        "facets": {
            name: [{"value": v.slug, "name": v.name, "count": v.count} for v in values]
            for name, values in page.facets.items()
        },
        "suggestion": page.suggestion,
        "corrected": page.corrected,
        "relaxed": page.relaxed,
    }


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
