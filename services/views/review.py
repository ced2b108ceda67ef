"""Keeping the catalogue right, under /staff/: the review queue (approve or return with a note),
the stale entries of one's agencies with "checked, still correct", and the legal documents
the catalogue cites, which publishers mark as replaced."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import accounts
from ..editorial import review, stale
from ..errors import EditConflict, ValidationError
from ..forms.editor import NoteForm
from ..forms.review import CheckedForm, LegalDocumentForm
from ..inputs import page_number
from ..models import StaffRole
from .auth import guard

bp = Blueprint("review", __name__, url_prefix="/staff")
guard(bp)


def _form_messages(form) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


# --- the review queue ---------------------------------------------------------------------------


def _queue_page(status: int = 200):
    waiting = review.queue(current_user)
    forms = {w.copy.procedure.code: NoteForm(formdata=None, version=w.copy.token) for w in waiting}
    return render_template("staff/review_queue.html", waiting=waiting, forms=forms), status


@bp.get("/review")
def queue():
    return _queue_page()


def _decide(code: str, decide, done: str):
    """Approve or return `code` from the queue; a refusal shows the queue again with why."""
    form = NoteForm()
    if not form.validate():
        flash(_form_messages(form), "error")
        return _queue_page(400)
    try:
        decide(code, form.version.data or "", current_user, form.note.data or "")
    except ValidationError as error:
        flash(" ".join(error.errors.values()), "error")
        return _queue_page(400)
    except EditConflict as conflict:
        flash(str(conflict), "error")
        return _queue_page(409)
    flash(done, "success")
    return redirect(url_for("review.queue"))


@bp.post("/review/<code>/approve")
def approve(code: str):
    done = _("Đã công bố %(c)s. Trang công khai đã cập nhật.", c=code)
    return _decide(code, review.approve, done)


@bp.post("/review/<code>/return")
def send_back(code: str):
    return _decide(code, review.send_back, _("Đã trả lại %(c)s để sửa.", c=code))


# --- stale entries ------------------------------------------------------------------------------


def _stale_page(form: CheckedForm, status: int = 200):
    lists = stale.stale_lists(current_user)
    return render_template(
        "staff/stale.html", lists=lists, total=stale.stale_count(lists), form=form
    ), status


@bp.get("/stale")
def stale_list():
    return _stale_page(CheckedForm(formdata=None))


@bp.post("/procedures/<code>/checked")
def checked(code: str):
    form = CheckedForm()
    if not form.validate():
        flash(_form_messages(form), "error")
        return redirect(url_for("review.stale_list"))
    try:
        stale.mark_checked(code, current_user)
    except ValidationError as error:
        flash(" ".join(error.errors.values()), "error")
        return _stale_page(form, 400)
    flash(_("Đã ghi nhận: %(c)s đã được rà soát, vẫn đúng.", c=code), "success")
    return redirect(url_for("review.stale_list"))


# --- legal documents ----------------------------------------------------------------------------


def _documents_page(status: int = 200):
    text = request.args.get("q", "")[:200]
    documents = stale.legal_documents(current_user, text)
    per_page = current_app.config["PER_PAGE"] * 5
    page = request.args.get("page", 1, type=page_number)
    return render_template(
        "staff/legal_documents.html",
        documents=documents[(page - 1) * per_page : page * per_page],
        total=len(documents),
        page=page,
        pages=max(1, -(-len(documents) // per_page)),
        q=text,
        form=LegalDocumentForm(formdata=None),
    ), status


@bp.get("/legal-documents")
def legal_documents():
    return _documents_page()


@bp.post("/legal-documents")
def mark_document():
    accounts.require(current_user, StaffRole.PUBLISHER)
    form = LegalDocumentForm()
    if not form.validate():
        flash(_form_messages(form), "error")
        return _documents_page(400)
    try:
        number = stale.set_replaced(form.number.data, form.replaced.data, current_user)
    except ValidationError as error:
        flash(" ".join(error.errors.values()), "error")
        return _documents_page(400)
    if form.replaced.data:
        flash(_("Đã đánh dấu văn bản %(n)s là đã được thay thế: các thủ tục viện dẫn nó được "
                "đưa vào danh sách cần rà soát.", n=number), "success")  # fmt: skip
    else:
        flash(_("Đã bỏ đánh dấu thay thế của văn bản %(n)s.", n=number), "success")
    back = {key: request.args.get(key) or None for key in ("q", "page")}
    return redirect(url_for("review.legal_documents", **back))
