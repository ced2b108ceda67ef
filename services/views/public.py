"""Public pages: home, agencies, lĩnh vực, procedures, the CSV list."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..catalogue import outdated, queries, rows, transfer
from ..journeys import queries as journeys
from ..models import Status

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return render_template(
        "public/index.html",
        browse=queries.browse(),
        recent=queries.recent_procedures(),
        journeys=journeys.list_journeys(),
        most_searched=journeys.most_searched(),
    )


@bp.get("/co-quan")
def agencies():
    return render_template("public/agencies.html", nodes=queries.agency_tree())


@bp.get("/co-quan/<slug>")
def agency(slug: str):
    found = queries.get_agency(slug)
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
    found = queries.get_field(slug)
    return render_template(
        "public/field.html", field=found, procedures=queries.field_procedures(found)
    )


@bp.get("/thu-tuc/<code>")
def procedure(code: str):
    found, related = rows.procedure_page(code)
    return render_template(
        "public/procedure.html",
        procedure=found,
        related=related,
        # A printed sheet's QR code says which state it shows: say what changed since.
        scan=outdated.scanned(found, request.args.get(outdated.PARAMETER)),
        part_of=journeys.journeys_with(code),
    )


@bp.get("/thu-tuc.csv")
def procedures_csv():
    return Response(
        transfer.procedures_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="danh-muc-thu-tuc.csv"'},
    )
