"""Admin pages under /staff/admin/: accounts, agencies (with history), lĩnh vực, site settings,
the search synonym dictionary.

Only logged-in admins get past `require_admin`; the services check again.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import accounts, printing
from ..catalogue import convert
from ..editorial import admin, diff
from ..editorial.working_copy import editor_choices
from ..errors import EditConflict, PermissionDenied, ValidationError
from ..forms.admin import AgencyForm, FieldForm, SettingsForm, SynonymsForm, UserForm, VersionForm
from ..forms.common import options, put_errors
from ..models import StaffRole
from .auth import guard
from .editor import show_diff

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")
guard(bp)


@bp.before_request
def require_admin() -> None:
    """Admin pages are for admins (the login was checked just before)."""
    if not current_user.has_role(StaffRole.ADMIN):
        raise PermissionDenied(_("Chỉ quản trị viên được vào trang này."))


def _guarded(form_class: type[VersionForm], record: dict, token: str, data: dict | None = None):
    """An edit form for a record others may change meanwhile: on GET filled from the record
    (or `data`, its form-shaped copy) with its version token; on POST from the request."""
    if request.method != "GET":
        return form_class()
    return form_class(formdata=None, data=data or record, version=token)


def _render(template: str, form, **context):
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


# --- accounts -----------------------------------------------------------------------------------


@bp.get("/users")
def users():
    return render_template("staff/admin/users.html", users=accounts.list_users(current_user))


def _user_form(form: UserForm) -> UserForm:
    form.agencies.choices = [(a.slug, a.name) for a in editor_choices(current_user).agencies]
    return form


def _account(form: UserForm) -> accounts.Account:
    return accounts.Account(
        username=form.username.data or "",
        role=form.role.data,
        agencies=form.agencies.data or [],
        full_name=form.full_name.data or "",
        email=form.email.data or "",
        active=form.active.data,
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = _user_form(UserForm())
    if form.validate_on_submit():
        try:
            user = accounts.create_user(_account(form), form.new_password.data or "", current_user)
        except ValidationError as error:
            put_errors(form, error.errors, "username")
        else:
            flash(_("Đã tạo tài khoản %(u)s.", u=user.username), "success")
            return redirect(url_for("admin.users"))
    return _render("staff/admin/user.html", form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    found = accounts.get_user(user_id, current_user)
    if request.method == "GET":
        form = _user_form(UserForm(obj=found, formdata=None))
        # Set after: WTForms prefers `obj`'s own attribute (Agency rows, not slugs) to a keyword.
        form.agencies.data = [a.slug for a in found.agencies]
    else:
        form = _user_form(UserForm())
        form.username.data = found.username
    if form.validate_on_submit():
        try:
            accounts.update_user(
                user_id, _account(form), current_user, form.new_password.data or None
            )
        except ValidationError as error:
            put_errors(form, error.errors, "role")
        else:
            flash(_("Đã lưu tài khoản %(u)s.", u=found.username), "success")
            return redirect(url_for("admin.users"))
    return _render("staff/admin/user.html", form, user=found)


# --- agencies -----------------------------------------------------------------------------------


def _agency_form(form: AgencyForm) -> AgencyForm:
    others = [("", _("(không có)"))] + [
        (a.slug, a.name) for a in editor_choices(current_user).agencies
    ]
    form.parent.choices = options(others)
    form.successor.choices = options(others)
    return form


def _agency_raw(form: AgencyForm) -> dict:
    raw = {key: value for key, value in form.data.items() if key not in ("csrf_token", "note")}
    raw.pop("version")
    return raw


@bp.get("/agencies")
def agencies():
    return render_template("staff/admin/agencies.html", nodes=admin.list_agencies(current_user))


@bp.route("/agencies/new", methods=["GET", "POST"])
@bp.route("/agencies/<slug>", methods=["GET", "POST"])
def agency(slug: str | None = None):
    found, record = admin.get_agency(slug, current_user) if slug else (None, None)
    if record is None:
        form = _agency_form(AgencyForm())
    else:
        form = _agency_form(
            _guarded(AgencyForm, record, admin.version_token(found), _agency_data(record))
        )
    conflict = None
    if form.validate_on_submit():
        try:
            saved = admin.save_agency(
                slug, _agency_raw(form), form.version.data or "", current_user,
                form.note.data or "",
            )  # fmt: skip
        except ValidationError as error:
            put_errors(form, error.errors, "name")
        except EditConflict as error:
            conflict = error
            form.version.data = error.token
        else:
            flash(_("Đã lưu cơ quan %(n)s.", n=saved.name), "success")
            return redirect(url_for("admin.agencies"))
    changes = None
    if conflict is not None:
        changes = diff.diff_records(conflict.record, {**conflict.record, **_agency_raw(form)})
    return _render(
        "staff/admin/agency.html", form, agency=found, conflict=conflict, changes=changes
    )


def _agency_data(record: dict) -> dict:
    valid_from, valid_to = convert.agency_dates(record)
    return {
        **record,
        "parent": record["parent"] or "",
        "successor": record["successor"] or "",
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


@bp.get("/agencies/<slug>/history")
def agency_history(slug: str):
    found, revisions = admin.agency_history(slug, current_user)
    return render_template(
        "staff/admin/agency_history.html",
        agency=found,
        revisions=revisions,
        form=VersionForm(formdata=None, version=admin.version_token(found)),
    )


@bp.get("/agencies/<slug>/diff")
def agency_diff(slug: str):
    return show_diff(
        slug,
        lambda old, new: admin.compare_agency(slug, old, new, current_user),
        url_for("admin.agency_history", slug=slug),
    )


@bp.post("/agencies/<slug>/history/<int:number>/restore")
def agency_restore(slug: str, number: int):
    form = VersionForm()
    if not form.validate():
        abort(400)
    try:
        admin.restore_agency(slug, number, form.version.data or "", current_user)
    except (ValidationError, EditConflict) as error:
        flash(str(error), "error")
    else:
        flash(_("Đã khôi phục phiên bản số %(n)s.", n=number), "success")
    return redirect(url_for("admin.agency_history", slug=slug))


# --- lĩnh vực -----------------------------------------------------------------------------------


@bp.get("/fields")
def fields():
    return render_template("staff/admin/fields.html", fields=admin.list_fields(current_user))


@bp.route("/fields/new", methods=["GET", "POST"])
@bp.route("/fields/<slug>", methods=["GET", "POST"])
def field(slug: str | None = None):
    found = admin.get_field(slug, current_user) if slug else None
    form = FieldForm(obj=found) if request.method == "GET" else FieldForm()
    if form.validate_on_submit():
        keys = ("slug", "code", "name", "name_en", "summary_en")
        raw = {key: getattr(form, key).data for key in keys}
        try:
            saved = admin.save_field(slug, raw, form.version.data or "", current_user)
        except ValidationError as error:
            put_errors(form, error.errors, "name")
        except EditConflict as error:
            put_errors(form, {"name": str(error)}, "name")
            form.version.data = error.token
        else:
            flash(_("Đã lưu lĩnh vực %(n)s.", n=saved.name), "success")
            return redirect(url_for("admin.fields"))
    return _render("staff/admin/field.html", form, field=found)


# --- site settings ------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    found, record = admin.get_settings(current_user)
    form = _guarded(SettingsForm, record, admin.version_token(found))
    conflict = None
    if form.validate_on_submit():
        raw = {k: v for k, v in form.data.items() if k not in ("csrf_token", "version")}
        try:
            admin.save_settings(raw, form.version.data or "", current_user)
        except ValidationError as error:
            put_errors(form, error.errors, "portal_name")
        except EditConflict as error:
            conflict = error
            form.version.data = error.token
        else:
            flash(_("Đã lưu thông tin cổng."), "success")
            return redirect(url_for("admin.settings"))
    return _render(
        "staff/admin/settings.html",
        form,
        conflict=conflict,
        base_warning=printing.local_base_warning(record["base_url"]),
    )


# --- the search synonym dictionary --------------------------------------------------------------


@bp.route("/synonyms", methods=["GET", "POST"])
def synonyms():
    text, customized = admin.get_synonyms(current_user)
    form = _guarded(SynonymsForm, {"text": text}, admin.text_version(text))
    conflict = False
    if form.validate_on_submit():
        try:
            admin.save_synonyms(form.text.data or "", form.version.data or "", current_user)
        except ValidationError as error:
            put_errors(form, error.errors, "text")
        except EditConflict as error:
            conflict = True
            form.version.data = error.token
        else:
            flash(_("Đã lưu từ điển; tìm kiếm dùng ngay từ điển mới."), "success")
            return redirect(url_for("admin.synonyms"))
    return _render("staff/admin/synonyms.html", form, customized=customized, conflict=conflict)


@bp.post("/synonyms/reset")
def synonyms_reset():
    form = SynonymsForm()
    if form.validate_on_submit():
        try:
            admin.reset_synonyms(form.version.data or "", current_user)
        except EditConflict:
            flash(
                _("Từ điển vừa được người khác thay đổi; hãy xem lại trước khi khôi phục."), "error"
            )
        else:
            flash(_("Đã khôi phục từ điển mặc định của cổng."), "success")
    return redirect(url_for("admin.synonyms"))
