"""Public pages: home, agencies, lĩnh vực, procedures, the CSV list."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, g, render_template
from flask_babel import format_date, format_datetime, get_locale

from .. import labels
from ..catalogue import queries, transfer
from ..errors import NotFound
from ..models import Role, Status

bp = Blueprint("public", __name__)


@bp.app_context_processor
def site_context() -> dict:
    """The site settings and shared formatters, for every template."""
    if "site" not in g:
        g.site = queries.get_settings()
    return {"site": g.site}


# Macros are imported without the template context, so what they need is global.
bp.add_app_template_global(Role, "Role")
bp.add_app_template_global(Status, "Status")
bp.add_app_template_global(get_locale, "get_locale")


@bp.app_template_filter("label")
def label_filter(value: str | None) -> str:
    return labels.label(value)


@bp.app_template_filter("money")
def money_filter(amount: int | None) -> str:
    return labels.money(amount)


@bp.app_template_filter("day")
def day_filter(value: date | None) -> str:
    return format_date(value, "dd/MM/yyyy") if value else ""


@bp.app_template_filter("moment")
def moment_filter(value) -> str:
    return format_datetime(value, "HH:mm dd/MM/yyyy") if value else ""


@bp.app_template_global("time_limit")
def time_limit_global(value: float | None, unit: str | None) -> str:
    return labels.time_limit(value, unit)


@bp.get("/")
def index():
    return render_template(
        "public/index.html",
        browse=queries.browse(),
        recent=queries.recent_procedures(),
    )


@bp.get("/co-quan")
def agencies():
    return render_template("public/agencies.html", nodes=queries.agency_tree())


@bp.get("/co-quan/<slug>")
def agency(slug: str):
    try:
        found = queries.get_agency(slug)
    except NotFound as error:
        abort(404, description=str(error))
    return render_template(
        "public/agency.html",
        agency=found,
        groups=queries.agency_procedures(found),
        abolished=queries.agency_procedures(found, status=Status.ABOLISHED),
        predecessors=queries.predecessors(found),
    )


@bp.get("/linh-vuc")
def fields():
    return render_template("public/fields.html", fields=queries.browse()["fields"])


@bp.get("/linh-vuc/<slug>")
def field(slug: str):
    try:
        found = queries.get_field(slug)
    except NotFound as error:
        abort(404, description=str(error))
    return render_template(
        "public/field.html", field=found, procedures=queries.field_procedures(found)
    )


@bp.get("/thu-tuc/<code>")
def procedure(code: str):
    try:
        found = queries.get_procedure(code)
    except NotFound as error:
        abort(404, description=str(error))
    return render_template(
        "public/procedure.html",
        procedure=found,
        related=queries.procedures_by_code([r.code for r in found.related]),
    )


@bp.get("/thu-tuc.csv")
def procedures_csv():
    return Response(
        transfer.procedures_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="danh-muc-thu-tuc.csv"'},
    )
