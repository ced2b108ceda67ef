"""The search page: the query box and filters, results by page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from .. import catalogue
from ..forms import SearchForm

bp = Blueprint("search", __name__)


@bp.get("/tim-kiem")
def search():
    form = SearchForm(request.args)
    status = 200
    if not form.validate():
        status = 400
        results: list = []
    else:
        filters = catalogue.Filters(
            agency=form.agency.data or None,
            field=form.field.data or None,
            level=form.level.data or None,
            subject=form.subject.data or None,
        )
        results = catalogue.find_by_name(form.q.data or "", filters)
    per_page = current_app.config["PER_PAGE"]
    page = form.page.data or 1 if status == 200 else 1
    pages = max(1, -(-len(results) // per_page))
    shown = results[(page - 1) * per_page : page * per_page]
    return (
        render_template(
            "search/results.html",
            form=form,
            total=len(results),
            results=shown,
            page=page,
            pages=pages,
        ),
        status,
    )
