"""Journeys: the public list, page and PDF under /hanh-trinh, and the staff pages under
/staff/journeys where publishers compose them (editors are shown why they may not)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import printing
from ..errors import EditConflict, PermissionDenied, ValidationError
from ..forms.common import put_errors
from ..forms.journeys import JourneyForm, clean_rows
from ..inputs import row_index
from ..journeys import printing as journey_printing
from ..journeys import queries, store
from ..journeys.records import journey_record
from ..journeys.totals import fee_text, times_text
from ..models import StaffRole
from .auth import guard

bp = Blueprint("journeys", __name__)
staff = Blueprint("journeys_staff", __name__, url_prefix="/staff/journeys")
guard(staff)


@bp.app_context_processor
def journey_helpers() -> dict:
    return {"times_text": times_text, "fee_text": fee_text}


# --- public -------------------------------------------------------------------------------------


@bp.get("/hanh-trinh")
def journeys():
    return render_template("public/journeys.html", journeys=queries.list_journeys())


@bp.get("/hanh-trinh/<slug>")
def journey(slug: str):
    return render_template("public/journey.html", page=queries.journey_page(slug))


@bp.get("/hanh-trinh/<slug>.pdf")
def journey_pdf(slug: str):
    pdf = journey_printing.journey_pdf(slug, printing.configured_base())
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="hanh-trinh-{slug}.pdf"'},
    )


# --- staff --------------------------------------------------------------------------------------


@staff.before_request
def require_publisher() -> None:
    """Journeys are composed by publishers and admins (the login was checked just before)."""
    if not current_user.has_role(StaffRole.PUBLISHER):
        raise PermissionDenied(_("Chỉ người duyệt, công bố và quản trị viên được soạn hành trình."))


@staff.get("/")
def journey_list():
    return render_template(
        "staff/journeys.html", journeys=queries.list_journeys(published_only=False)
    )


def _editor(form: JourneyForm, slug: str | None, status: int = 200, **extra):
    return (
        render_template(
            "staff/journey.html",
            form=form,
            slug=slug,
            choices=queries.procedure_choices(),
            picked=store.PICKED,
            **extra,
        ),
        status,
    )


def _step_errors(form: JourneyForm, errors: dict[str, str], rows: list[int]) -> dict[int, str]:
    """Put a service's messages beside their fields: a step's own fields in its row of the
    form, its procedures' messages returned by row (shown under the step's boxes)."""
    by_row, rest = {}, {}
    for key, message in errors.items():
        parts = key.split(".")
        index = row_index(parts[1]) if parts[0] == "steps" and len(parts) > 2 else None
        if index is None or index >= len(rows):
            rest[parts[0]] = message
            continue
        step = form.steps.entries[rows[index]].form
        if parts[2] == "procedures":
            by_row[rows[index]] = message
        else:
            put_errors(step, {parts[2]: message}, "title")
    put_errors(form, {k: v for k, v in rest.items() if k != "steps"}, "name")
    if "steps" in rest:
        form.form_errors.append(rest["steps"])
    return by_row


@staff.route("/new", methods=["GET", "POST"])
@staff.route("/<slug>", methods=["GET", "POST"])
def edit(slug: str | None = None):
    if request.method == "GET":
        form = JourneyForm(formdata=None)
        if slug is not None:
            found = queries.get_journey(slug, public=False)
            data = form.data_from_record(journey_record(found), store.version_token(found))
            form = JourneyForm(formdata=None, data=data)
        form.pad()
        return _editor(form, slug)
    form = JourneyForm(formdata=clean_rows(request.form))
    if request.form.get("action") == "add-step":
        form.pad()
        return _editor(form, slug)
    if not form.validate():
        form.pad(0)
        flash(_("Chưa lưu: hãy sửa các chỗ được đánh dấu bên dưới."), "error")
        return _editor(form, slug, 400)
    raw, rows = form.to_raw()
    try:
        saved = store.save_journey(slug, raw, form.version.data or "", current_user)
    except ValidationError as error:
        step_errors = _step_errors(form, error.errors, rows)
        form.pad(0)
        flash(_("Chưa lưu: hãy sửa các chỗ được đánh dấu bên dưới."), "error")
        return _editor(form, slug, 400, step_errors=step_errors)
    except EditConflict as conflict:
        form.version.data = conflict.token
        form.pad(0)
        return _editor(form, slug, 409, conflict=conflict)
    flash(_("Đã lưu hành trình %(name)s.", name=saved.name), "success")
    return redirect(url_for("journeys_staff.edit", slug=saved.slug))


@staff.post("/<slug>/delete")
def delete(slug: str):
    try:
        store.delete_journey(slug, request.form.get("version", ""), current_user)
    except EditConflict as conflict:
        flash(str(conflict), "error")
        return redirect(url_for("journeys_staff.edit", slug=slug))
    flash(_("Đã xóa hành trình."), "success")
    return redirect(url_for("journeys_staff.journey_list"))
