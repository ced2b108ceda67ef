"""The procedure editor under /staff/: the list of procedures, the editor, the workflow
(submit, return, publish, discard, abolish), previews, history with diffs and restore, and the
activity stream.

Every URL here needs a logged-in account; the services decide what each account may see and
do, and their errors are mapped to pages once, in the factory.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import accounts, uploads
from ..catalogue import queries
from ..editorial import checks, diff, history, review, stale, workflow, working_copy
from ..errors import EditConflict, ValidationError
from ..forms.common import options, put_errors
from ..forms.editor import (
    GROUPS,
    AbolishForm,
    NoteForm,
    ProcedureForm,
    RestoreForm,
    clean_rows,
    reshape,
)
from ..forms.row_labels import row_legend
from ..inputs import integer, page_number, row_index
from ..models import StaffRole
from .auth import guard

bp = Blueprint("editor", __name__, url_prefix="/staff")
guard(bp)


def _flash_errors(error: ValidationError) -> None:
    for message in error.errors.values():
        flash(message, "error")


# --- the list -----------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    agency = request.args.get("agency") or None
    status = request.args.get("status") or None
    text = request.args.get("q", "")[:200]
    lines = working_copy.list_procedures(current_user, agency=agency, status=status, text=text)
    per_page = current_app.config["PER_PAGE"] * 5
    page = request.args.get("page", 1, type=page_number)
    choices = working_copy.editor_choices(current_user)
    stale_lists = stale.stale_lists(current_user)
    return render_template(
        "staff/dashboard.html",
        lines=lines[(page - 1) * per_page : page * per_page],
        total=len(lines),
        page=page,
        pages=max(1, -(-len(lines) // per_page)),
        agencies=choices.scoped_agencies,
        args={"agency": agency or "", "status": status or "", "q": text},
        stale_lists=stale_lists,
        stale_total=stale.stale_count(stale_lists),
        waiting=review.waiting_count(current_user)
        if current_user.has_role(StaffRole.PUBLISHER)
        else None,
    )


# --- the editor ---------------------------------------------------------------------------------


def _editor(form: ProcedureForm, code: str | None, published: bool, *, status: int = 200, **extra):
    record = extra.pop("record", None)
    choices = working_copy.editor_choices(current_user, record)
    agencies = [("", _("— chọn, hoặc ghi tên bên cạnh —"))] + [
        (a.slug, a.name) for a in choices.agencies
    ]
    form.set_choices(agencies, choices.fields, choices.levels)
    files = uploads.attachments_named([e.form.template_file.data for e in form.dossier])
    related = checks.related_names([str(e.form.code.data or "").strip() for e in form.related])
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
            groups=GROUPS,
            row_legend=row_legend,
            related_names=related,
            published=published,
            max_upload=uploads.max_bytes(),
            **extra,
        ),
        status,
    )


def _not_saved(form: ProcedureForm, code: str | None, published: bool, stored: list[str]):
    flash(_("Chưa lưu: hãy sửa các chỗ được đánh dấu bên dưới."), "error")
    _forget_uploads(form, stored)
    return _editor(form, code, published, status=400)


def _store_uploads(formdata: MultiDict) -> tuple[dict[str, str], list[str]]:
    """Check the files chosen in the dossier rows and set each row's template_file to the
    stored name; a file is kept only if the save commits. Returns errors by upload field name
    (nothing is saved while there are any) and the prefixes of the rows given a file."""
    errors, stored = {}, []
    for key, upload in request.files.items(multi=True):
        if not (key.startswith("dossier-") and key.endswith("-template_upload")) or not upload:
            continue
        try:
            attachment = uploads.store_upload(upload.stream, upload.filename or "", current_user)
        except ValidationError as error:
            errors[key] = error.errors.get("file", str(error))
            continue
        row = key.removesuffix("template_upload")
        stored.append(row)
        formdata.setlist(f"{row}template_file", [attachment.stored_name])
        if not formdata.get(f"{row}template_name"):
            formdata.setlist(f"{row}template_name", [attachment.original_name.rsplit(".", 1)[0]])
    return errors, stored


def _forget_uploads(form: ProcedureForm, stored: list[str]) -> None:
    """The save was refused, so the files just sent are not kept: their rows show the file
    they had before and ask for the file again."""
    for entry in form.dossier.entries:
        row = entry.form
        prefix = row.template_file.name.removesuffix("template_file")
        if prefix in stored:
            row.template_file.data = request.form.get(row.template_file.name, "")
            message = _("Tệp chưa được lưu vì thủ tục chưa lưu được: hãy chọn lại tệp.")
            row.template_upload.errors = [*row.template_upload.errors, message]


def _show_upload_errors(form: ProcedureForm, errors: dict[str, str]) -> None:
    """Put each refused upload's message beside its dossier row."""
    for key, message in errors.items():
        index = row_index(key.split("-")[1])
        if index is not None and index < len(form.dossier.entries):
            row = form.dossier.entries[index].form
            row.template_upload.errors = [*row.template_upload.errors, message]
        else:
            form.form_errors.append(message)


def _save(code: str | None, form: ProcedureForm, raw: dict, submit: bool) -> str:
    """Create or save the procedure from the editor; its code."""
    note, one_fee = form.note.data or "", form.same_fee.data
    if code is None:
        return workflow.create_procedure(
            raw, current_user, note, submit_after=submit, one_fee=one_fee
        ).code
    workflow.save_procedure(
        code, raw, form.version.data or "", current_user, note, submit_after=submit,
        one_fee=one_fee,
    )  # fmt: skip
    return code


def _saved_not_submitted(
    form: ProcedureForm, error: checks.NotReady, positions: dict, published: bool, new: bool
):
    """The input was saved as a draft but may not go to review: the editor again, on the saved
    copy, with why beside the fields."""
    form.version.data = error.token
    form.add_errors(error.errors, positions)
    flash(_("Đã lưu bản nháp nhưng chưa gửi duyệt: hãy sửa các chỗ được đánh dấu rồi gửi lại."),
          "error")  # fmt: skip
    action = url_for("editor.edit", code=error.code) if new else None
    return _editor(form, error.code, published, status=400, form_action=action)


def _edit_post(code: str | None, published: bool):
    """Handle a submitted editor: a row action, or uploads and a save."""
    formdata = clean_rows(request.form.copy())
    action = formdata.get("action", "save")
    if action not in ("save", "submit"):
        if any(request.files.values()):
            flash(_("Tệp đã chọn chỉ được tải lên khi bấm Lưu: hãy chọn lại tệp."), "error")
        return _editor(ProcedureForm(formdata=reshape(formdata, action)), code, published)
    upload_errors, stored = _store_uploads(formdata)
    form = ProcedureForm(formdata=formdata)
    valid = form.validate()
    _show_upload_errors(form, upload_errors)
    if not valid or upload_errors:
        return _not_saved(form, code, published, stored)
    raw, positions = form.to_raw()
    try:
        code = _save(code, form, raw, submit=action == "submit")
    except checks.NotReady as error:
        return _saved_not_submitted(form, error, positions, published, new=code is None)
    except ValidationError as error:
        form.add_errors(error.errors, positions)
        return _not_saved(form, code, published, stored)
    except EditConflict as conflict:
        form.version.data = conflict.token
        _forget_uploads(form, stored)
        return _editor(
            form,
            code,
            published,
            status=409,
            conflict=conflict,
            changes=diff.typed_changes(conflict.record, form.to_raw()[0]),
            record=conflict.record,
        )
    flash(_("Đã gửi duyệt.") if action == "submit" else _("Đã lưu."), "success")
    return redirect(url_for("editor.procedure", code=code))


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
    form = ProcedureForm(
        formdata=None, data=ProcedureForm.data_from_record(copy.record, copy.token)
    )
    # What would keep it from review and publication is shown at once, beside its field.
    channels = list(range(len(copy.record["channels"])))
    form.add_errors(checks.time_limit_problems(copy.record), {"channels": channels})
    return _editor(form, code, copy.was_published, record=copy.record)


# --- the workflow -------------------------------------------------------------------------------


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
    "submit": (workflow.submit, _l("Đã gửi duyệt.")),
    # Through the review queue's use cases, so the submitter is told by e-mail either way.
    "return": (review.send_back, _l("Đã trả lại để sửa.")),
    "publish": (review.approve, _l("Đã công bố. Trang công khai đã cập nhật.")),
    "discard": (workflow.discard_draft, _l("Đã hủy bản nháp.")),
}


@bp.post("/procedures/<code>/<any(submit, return, publish, discard):step>", endpoint="workflow")
def workflow_step(code: str, step: str):
    form = NoteForm()
    if not form.validate():
        abort(400)
    function, done = _STEPS[step]
    try:
        function(code, form.version.data or "", current_user, form.note.data or "")
    except checks.NotReady as error:
        _flash_errors(error)
        return redirect(url_for("editor.edit", code=code))  # shows them beside their fields
    except ValidationError as error:
        _flash_errors(error)
    except EditConflict as conflict:
        flash(str(conflict), "error")
    else:
        flash(str(done), "success")
    return redirect(url_for("editor.procedure", code=code))


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
            return redirect(url_for("editor.procedure", code=code))
    if request.method == "POST":
        status = 400
    return render_template("staff/abolish.html", copy=copy, form=form), status


# --- previews and history -----------------------------------------------------------------------


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


def show_diff(key: str, compare: Callable[[int, int], list[diff.Change]], back: str):
    """The page comparing two revisions of `key`, numbered by the query's `a` and `b` (400
    without both); `compare` gives the changes between two numbers, `back` the history page."""
    old = request.args.get("a", type=integer)
    new = request.args.get("b", type=integer)
    if old is None or new is None:
        abort(400, description=_("Cần chọn hai phiên bản để so sánh."))
    return render_template(
        "staff/diff.html", code=key, changes=compare(old, new), numbers=(old, new), back=back
    )


@bp.get("/procedures/<code>/diff", endpoint="diff")
def diff_page(code: str):
    return show_diff(
        code,
        lambda old, new: history.compare(code, old, new, current_user),
        url_for("editor.history_page", code=code),
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
        return redirect(url_for("editor.history_page", code=code))
    except EditConflict as conflict:
        flash(str(conflict), "error")
        return redirect(url_for("editor.history_page", code=code))
    flash(_("Đã khôi phục phiên bản số %(n)s.", n=number), "success")
    return redirect(url_for("editor.procedure", code=code))


# --- activity -----------------------------------------------------------------------------------


@bp.get("/activity", defaults={"slug": None})
@bp.get("/agencies/<slug>/activity")
def activity(slug: str | None):
    page = request.args.get("page", 1, type=page_number)
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
