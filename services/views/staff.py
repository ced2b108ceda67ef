"""The staff area under /staff/: logging in and out, one's password, the list of procedures,
the procedure editor, the workflow (submit, return, publish, discard, abolish), previews,
history with diffs and restore, and the activity stream.

Every URL here needs a logged-in account; the services decide what each account may see and
do (PermissionDenied → 403, NotFound → 404).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict

from .. import accounts, uploads
from ..catalogue import queries
from ..editorial import diff, history, workflow, working_copy
from ..errors import EditConflict, NotFound, PermissionDenied, ValidationError
from ..forms import (
    GROUPS,
    AbolishForm,
    LoginForm,
    NoteForm,
    PasswordForm,
    ProcedureForm,
    RestoreForm,
    options,
    put_errors,
    reshape,
)
from ..models import StaffRole

bp = Blueprint("staff", __name__, url_prefix="/staff")

PUBLIC_ENDPOINTS = {"staff.login"}


@bp.before_request
def require_login():
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.after_request
def no_store(response):
    """Staff pages are private and change often: no shared or browser caching."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    message = _(
        "Biểu mẫu thiếu hoặc sai mã bảo vệ (CSRF), có thể do phiên làm việc đã hết. "
        "Hãy tải lại trang rồi gửi lại."
    )
    return render_template("errors/error.html", code=400, message=message), 400


@bp.app_errorhandler(PermissionDenied)
def permission_denied(error: PermissionDenied):
    return render_template("errors/error.html", code=403, message=str(error)), 403


@bp.app_errorhandler(NotFound)
def not_found(error: NotFound):
    return render_template("errors/error.html", code=404, message=str(error)), 404


# Macros are imported without the template context, so what they need is global.
bp.add_app_template_global(StaffRole, "StaffRole")
bp.add_app_template_global(history.ACTIONS, "ACTIONS")
bp.add_app_template_filter(diff.as_text, "as_text")
bp.add_app_template_filter(diff.key_label, "key_label")


def _flash_errors(error: ValidationError) -> None:
    for message in error.errors.values():
        flash(message, "error")


# --- account ------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: only a path inside the staff area, never another site."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/"):
        return url_for("staff.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.username.data, form.password.data, request.remote_addr or ""
            )
        except (accounts.LoginFailed, accounts.LockedOut) as error:
            form.form_errors.append(str(error))
            status = 429 if isinstance(error, accounts.LockedOut) else 401
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationError as error:
            put_errors(form, error.errors, "new_password")
        else:
            login_user(user)  # the session id changed with the password
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("staff.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/password.html", form=form), status


# --- procedures ---------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    agency = request.args.get("agency") or None
    status = request.args.get("status") or None
    text = request.args.get("q", "")[:200]
    lines = working_copy.list_procedures(current_user, agency=agency, status=status, text=text)
    per_page = current_app.config["PER_PAGE"] * 5
    page = max(1, request.args.get("page", 1, type=int) or 1)
    choices = working_copy.editor_choices(current_user)
    return render_template(
        "staff/dashboard.html",
        lines=lines[(page - 1) * per_page : page * per_page],
        total=len(lines),
        page=page,
        pages=max(1, -(-len(lines) // per_page)),
        agencies=choices.scoped_agencies,
        args={"agency": agency or "", "status": status or "", "q": text},
    )


def _editor(form: ProcedureForm, code: str | None, published: bool, *, status: int = 200, **extra):
    record = extra.pop("record", None)
    choices = working_copy.editor_choices(current_user, record)
    agencies = [("", _("— chọn, hoặc ghi tên bên cạnh —"))] + [
        (a.slug, a.name) for a in choices.agencies
    ]
    form.set_choices(agencies, choices.fields, choices.levels)
    files = uploads.attachments_named([e.form.template_file.data for e in form.dossier])
    blanks = {}
    for group, (row, _content, defaults) in GROUPS.items():
        blank = row(formdata=MultiDict(defaults), prefix=f"{group}-__i__-")
        if group == "agencies":
            blank.agency.choices = options(agencies)
        blanks[group] = blank
    return (
        render_template(
            "staff/editor.html",
            form=form,
            code=code,
            files=files,
            blanks=blanks,
            published=published,
            max_upload=uploads.max_bytes(),
            **extra,
        ),
        status,
    )


def _store_uploads(formdata: MultiDict) -> dict[str, str]:
    """Keep the files chosen in the dossier rows; set each row's template_file to the stored
    name. Returns errors by upload field name (nothing is saved while there are any)."""
    errors = {}
    for key, upload in request.files.items(multi=True):
        if not (key.startswith("dossier-") and key.endswith("-template_upload")) or not upload:
            continue
        try:
            attachment = uploads.store_upload(upload.stream, upload.filename or "", current_user)
        except ValidationError as error:
            errors[key] = error.errors.get("file", str(error))
            continue
        row = key.removesuffix("template_upload")
        formdata.setlist(f"{row}template_file", [attachment.stored_name])
        if not formdata.get(f"{row}template_name"):
            formdata.setlist(f"{row}template_name", [attachment.original_name.rsplit(".", 1)[0]])
    return errors


def _edit_post(code: str | None, published: bool):
    """Handle a submitted editor: uploads, then a row action or a save."""
    formdata = request.form.copy()
    upload_errors = _store_uploads(formdata)
    action = formdata.get("action", "save")
    if action not in ("save", "submit") and not upload_errors:
        return _editor(ProcedureForm(formdata=reshape(formdata, action)), code, published)
    form = ProcedureForm(formdata=formdata)
    valid = form.validate()
    for key, message in upload_errors.items():
        index = key.split("-")[1]
        if index.isdigit() and int(index) < len(form.dossier.entries):
            row = form.dossier.entries[int(index)].form
            row.template_upload.errors = [*row.template_upload.errors, message]
        else:
            form.form_errors.append(message)
    if not valid or upload_errors:
        flash(_("Chưa lưu: hãy sửa các chỗ được đánh dấu bên dưới."), "error")
        return _editor(form, code, published, status=400)
    raw, positions = form.to_raw()
    note = form.note.data or ""
    try:
        if code is None:
            procedure = workflow.create_procedure(
                raw, current_user, note, submit_after=action == "submit"
            )
            code = procedure.code
        else:
            workflow.save_procedure(
                code, raw, form.version.data or "", current_user, note,
                submit_after=action == "submit",
            )  # fmt: skip
    except ValidationError as error:
        form.add_errors(error.errors, positions)
        flash(_("Chưa lưu: hãy sửa các chỗ được đánh dấu bên dưới."), "error")
        return _editor(form, code, published, status=400)
    except EditConflict as conflict:
        form.version.data = conflict.token
        mine = {**conflict.record, **raw}
        return _editor(
            form,
            code,
            published,
            status=409,
            conflict=conflict,
            changes=diff.diff_records(conflict.record, mine),
            record=conflict.record,
        )
    flash(_("Đã gửi duyệt.") if action == "submit" else _("Đã lưu."), "success")
    return redirect(url_for("staff.procedure", code=code))


@bp.route("/procedures/new", methods=["GET", "POST"])
def new_procedure():
    accounts.require(current_user, StaffRole.EDITOR)
    if request.method == "POST":
        return _edit_post(None, published=False)
    data = {"channels": [{"kind": "direct"}], "dossier": [{"required": True, "originals": 1}]}
    scoped = working_copy.editor_choices(current_user).scoped_agencies
    data["agencies"] = [
        {"role": "implementing", "agency": scoped[0].slug if len(scoped) == 1 else ""}
    ]
    return _editor(ProcedureForm(formdata=None, data=data), None, published=False)


@bp.route("/procedures/<code>/edit", methods=["GET", "POST"])
def edit(code: str):
    copy = working_copy.get_working_copy(code, current_user)
    if request.method == "POST":
        return _edit_post(code, copy.was_published)
    data = ProcedureForm.data_from_record(copy.record, copy.token)
    return _editor(
        ProcedureForm(formdata=None, data=data), code, copy.was_published, record=copy.record
    )


@bp.get("/procedures/<code>")
def procedure(code: str):
    copy, revisions = history.revisions(code, current_user)
    return render_template(
        "staff/procedure.html",
        copy=copy,
        latest=revisions[:5],
        form=NoteForm(formdata=None, version=copy.token),
        abolish_form=AbolishForm(formdata=None, version=copy.token),
    )


_STEPS = {
    "submit": (workflow.submit, _("Đã gửi duyệt.")),
    "return": (workflow.return_to_draft, _("Đã trả lại để sửa.")),
    "publish": (workflow.publish, _("Đã công bố. Trang công khai đã cập nhật.")),
    "discard": (workflow.discard_draft, _("Đã hủy bản nháp.")),
}


@bp.post("/procedures/<code>/<any(submit, return, publish, discard):step>", endpoint="workflow")
def workflow_step(code: str, step: str):
    form = NoteForm()
    if not form.validate():
        abort(400)
    function, done = _STEPS[step]
    try:
        function(code, form.version.data or "", current_user, form.note.data or "")
    except ValidationError as error:
        _flash_errors(error)
    except EditConflict as conflict:
        flash(str(conflict), "error")
    else:
        flash(str(done), "success")
    return redirect(url_for("staff.procedure", code=code))


@bp.route("/procedures/<code>/abolish", methods=["GET", "POST"])
def abolish(code: str):
    copy = working_copy.get_working_copy(code, current_user)
    accounts.require(current_user, StaffRole.PUBLISHER)
    form = AbolishForm() if request.method == "POST" else AbolishForm(version=copy.token)
    status = 200
    if form.validate_on_submit():
        try:
            workflow.abolish(
                code, form.version.data or "", current_user, form.reason.data,
                form.replaced_by.data or "", form.note.data or "",
            )  # fmt: skip
        except ValidationError as error:
            put_errors(form, error.errors, "reason")
        except EditConflict as conflict:
            form.form_errors.append(str(conflict))
            form.version.data = conflict.token
        else:
            flash(_("Đã bãi bỏ thủ tục."), "success")
            return redirect(url_for("staff.procedure", code=code))
    if request.method == "POST":
        status = 400
    return render_template("staff/abolish.html", copy=copy, form=form), status


@bp.get("/procedures/<code>/preview")
def preview(code: str):
    found = working_copy.preview(code, current_user)
    return render_template(
        "staff/preview.html",
        procedure=found,
        related=queries.procedures_by_code([r.code for r in found.related]),
        title=_("Xem trước bản làm việc"),
    )


@bp.get("/procedures/<code>/history")
def history_page(code: str):
    copy, revisions = history.revisions(code, current_user)
    return render_template(
        "staff/history.html",
        copy=copy,
        revisions=revisions,
        form=RestoreForm(formdata=None, version=copy.token),
    )


@bp.get("/procedures/<code>/history/<int:number>")
def revision(code: str, number: int):
    found = history.get_revision(code, number, current_user)
    shown = working_copy.build_preview(found.record)
    return render_template(
        "staff/preview.html",
        procedure=shown,
        related=queries.procedures_by_code([r.code for r in shown.related]),
        title=_("Phiên bản số %(n)s", n=number),
        revision=found,
    )


@bp.get("/procedures/<code>/diff", endpoint="diff")
def diff_page(code: str):
    old = request.args.get("a", type=int)
    new = request.args.get("b", type=int)
    if old is None or new is None:
        abort(400, description=_("Cần chọn hai phiên bản để so sánh."))
    changes = history.compare(code, old, new, current_user)
    return render_template(
        "staff/diff.html",
        code=code,
        changes=changes,
        numbers=(old, new),
        back=url_for("staff.history_page", code=code),
    )


@bp.post("/procedures/<code>/history/<int:number>/restore")
def restore(code: str, number: int):
    form = RestoreForm()
    if not form.validate():
        abort(400)
    try:
        workflow.restore(
            code, number, form.version.data or "", current_user, publish_now=form.publish.data
        )
    except ValidationError as error:
        _flash_errors(error)
        return redirect(url_for("staff.history_page", code=code))
    except EditConflict as conflict:
        flash(str(conflict), "error")
        return redirect(url_for("staff.history_page", code=code))
    flash(_("Đã khôi phục phiên bản số %(n)s.", n=number), "success")
    return redirect(url_for("staff.procedure", code=code))


# --- activity -----------------------------------------------------------------------------------


@bp.get("/activity", defaults={"slug": None})
@bp.get("/agencies/<slug>/activity")
def activity(slug: str | None):
    page = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = current_app.config["PER_PAGE"] * 2
    agency, items = history.activity(
        current_user, slug, limit=per_page + 1, offset=(page - 1) * per_page
    )
    return render_template(
        "staff/activity.html",
        items=items[:per_page],
        page=page,
        more=len(items) > per_page,
        agency=agency,
    )
