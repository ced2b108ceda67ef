"""The search page: the query box, facets, sorting and pages of results."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from .. import search as search_service
from ..errors import ValidationError
from ..forms.search import SORTS, SearchForm

bp = Blueprint("search", __name__)

FACET_TITLES = {
    "agency": _l("Cơ quan thực hiện"),
    "field": _l("Lĩnh vực"),
    "level": _l("Cấp thực hiện"),
    "subject": _l("Đối tượng thực hiện"),
    "online": _l("Dịch vụ công trực tuyến"),
}
PARAMS = ("q", *FACET_TITLES, "sort")


def params_from(form: SearchForm, per_page: int) -> search_service.Params:
    """The service's parameters from a validated search form."""
    return search_service.Params(
        q=form.q.data or "",
        agency=form.agency.data or "",
        field=form.field.data or "",
        level=form.level.data or "",
        subject=form.subject.data or "",
        online=form.online.data or "",
        sort=form.sort.data or "relevance",
        page=form.page.data or 1,
        per_page=per_page,
    )


def search_url(params: search_service.Params | None = None, **changes) -> str:
    """The address of a search like `params` with some parameters changed (None removes one);
    the page number is dropped unless given."""
    args = {name: getattr(params, name, "") for name in PARAMS} if params else {}
    if args.get("sort") == "relevance":
        args["sort"] = ""
    args.update(changes)
    return url_for("search.search", **{k: v for k, v in args.items() if v not in (None, "")})


@bp.get("/tim-kiem")
def search():
    form = SearchForm(request.args)
    context = {"form": form, "sorts": SORTS, "facet_titles": FACET_TITLES, "page": None}
    if not form.validate():
        return render_template("search/results.html", **context), 400
    try:
        context["page"] = search_service.find(params_from(form, current_app.config["PER_PAGE"]))
    except ValidationError as error:
        return render_template("search/results.html", **context, errors=error.errors), 400
    return render_template("search/results.html", **context)
