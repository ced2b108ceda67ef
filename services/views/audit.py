"""The audit trail's staff page, for admins: every staff action, filterable by actor, kind of
action, target and period, newest first, a page at a time. Read only: there is no route that
changes or deletes an entry."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from .. import audit
from ..errors import ValidationError
from ..forms.feedback import PeriodForm
from ..inputs import page_number
from .auth import guard

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")
guard(bp)


@bp.get("/")
def entries():
    form = PeriodForm(request.args)
    filters = audit.Filters(
        actor=request.args.get("actor", "").strip()[:200],
        kind=request.args.get("kind", ""),
        target=request.args.get("target", "").strip()[:160],
    )
    context = {
        "form": form,
        "filters": filters,
        "kinds": audit.KINDS,
        "users": audit.actors(current_user),  # admins only: PermissionDenied → 403
        "page": None,
    }
    if not form.validate():
        return render_template("staff/audit.html", **context), 400
    filters.first, filters.last = form.first.data, form.last.data
    number = request.args.get("page", 1, type=page_number)
    try:
        context["page"] = audit.list_entries(filters, number, current_user)
    except ValidationError as error:
        return render_template("staff/audit.html", **context, errors=error.errors), 400
    return render_template("staff/audit.html", **context)
