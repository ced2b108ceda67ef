""" "Was this page useful?" and polls: the visitor's forms (plain forms, post-redirect-get,
rate-limited per client address) and the staff pages that handle answers and run polls.

The client address is used by the rate limiter only (its own counters, in memory or in the
storage RATELIMIT_STORAGE_URI names); it is never stored with an answer or a vote.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from .. import charts, feedback, polls
from ..catalogue import queries
from ..errors import PermissionDenied, ValidationError
from ..forms.common import put_errors
from ..forms.feedback import (
    REASONS,
    AnswerForm,
    CommentForm,
    HandleForm,
    PollForm,
    PollStateForm,
    VoteForm,
    public_token,
)
from .auth import guard

bp = Blueprint("feedback", __name__)
staff = Blueprint("staff", __name__, url_prefix="/staff")
guard(staff)

# One per process; its storage comes from RATELIMIT_STORAGE_URI ("memory://" unless set: use
# a shared one such as redis:// when several server processes run).
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://")
bp.record_once(lambda state: limiter.init_app(state.app))
ANSWER_KEY = "feedback_answer"
VOTER_COOKIE = "tthc_voter"
VOTER_DAYS = 365


def _limit() -> str:
    return current_app.config.get("FEEDBACK_RATE_LIMIT", "10 per minute;100 per day")


def _too_many() -> str:
    return _("Bạn đã gửi quá nhiều lần trong thời gian ngắn. Xin vui lòng thử lại sau ít phút.")


# The answer, comment and vote forms share one budget per address.
public_post = limiter.shared_limit(_limit, scope="public-feedback", error_message=_too_many)


bp.add_app_template_global(public_token, "public_token")


@bp.before_request
def from_this_site_only():
    """A visitor's post must come from this site's own pages: browsers send the Origin of
    every form post, and another site's is refused (its forms hold no session token, see
    forms/feedback.py)."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None and urlsplit(origin).netloc != request.host:
        raise PermissionDenied(
            _("Biểu mẫu này chỉ gửi được từ trang của cổng thông tin. Hãy mở trang rồi gửi lại.")
        )


# --- "was this page useful?" ---------------------------------------------------------------------


@bp.post("/thu-tuc/<code>/gop-y")
@public_post
def answer(code: str):
    form = AnswerForm()
    if not form.validate():
        return _thanks_page(code, CommentForm(), errors=form.errors, status=400)
    given = feedback.record_answer(code, form.useful.data == "yes")
    session[ANSWER_KEY] = {"id": given.id, "code": code}
    return redirect(url_for("feedback.thanks", code=code))


def _thanks_page(code: str, form: CommentForm, *, errors=None, sent=False, status=200):
    procedure = queries.get_procedure(code)
    pending = _own_answer(code) is not None and not sent
    return render_template(
        "feedback/thanks.html",
        procedure=procedure,
        form=form,
        pending=pending,
        sent=sent,
        errors=errors or {},
    ), status


def _own_answer(code: str) -> int | None:
    """The id of the answer this visitor just gave about procedure `code`, if any."""
    given = session.get(ANSWER_KEY)
    return given["id"] if isinstance(given, dict) and given.get("code") == code else None


@bp.get("/thu-tuc/<code>/gop-y")
def thanks(code: str):
    return _thanks_page(code, CommentForm(formdata=None), sent=request.args.get("da-gui") == "1")


@bp.post("/thu-tuc/<code>/gop-y/y-kien")
@public_post
def comment(code: str):
    form = CommentForm()
    if form.validate():
        try:
            feedback.add_comment(
                _own_answer(code) or 0, code, form.reason.data or "", form.comment.data or ""
            )
        except ValidationError as error:
            put_errors(form, error.errors, "comment")
        else:
            session.pop(ANSWER_KEY, None)
            return redirect(url_for("feedback.thanks", code=code, **{"da-gui": "1"}))
    return _thanks_page(code, form, status=400)


# --- polls, for visitors ------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="poll-voter")


def _voter() -> str | None:
    """The visitor's random id from their signed cookie (None without a valid one)."""
    try:
        return _serializer().loads(request.cookies.get(VOTER_COOKIE, ""))
    except BadSignature:
        return None


def _vote_form(poll) -> VoteForm:
    form = VoteForm()
    form.option.choices = [(option.id, option.label) for option in poll.options]
    return form


@bp.get("/tham-do")
def poll_list():
    voter = _voter()
    open_polls = [(poll, polls.has_voted(poll.id, voter)) for poll in polls.open_polls()]
    forms = {poll.id: _vote_form(poll) for poll, _voted in open_polls}
    return render_template("feedback/polls.html", polls=open_polls, forms=forms)


@bp.post("/tham-do/<int:poll_id>")
@public_post
def vote(poll_id: int):
    poll = polls.public_poll(poll_id)
    form = _vote_form(poll)
    voter = _voter() or secrets.token_hex(16)
    if not form.validate():
        return render_template("feedback/poll.html", poll=poll, form=form, voted=False), 400
    try:
        counted = polls.vote(poll_id, form.option.data, voter)
    except ValidationError as error:
        put_errors(form, error.errors, "option")
        return render_template("feedback/poll.html", poll=poll, form=form, voted=False), 400
    response = redirect(url_for("feedback.poll", poll_id=poll_id, again=None if counted else 1))
    response.set_cookie(
        VOTER_COOKIE,
        _serializer().dumps(voter),
        max_age=VOTER_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


@bp.get("/tham-do/<int:poll_id>")
def poll(poll_id: int):
    found = polls.public_poll(poll_id)
    voted = polls.has_voted(poll_id, _voter())
    results = polls.public_results(poll_id) if found.public_results else None
    return render_template(
        "feedback/poll.html",
        poll=found,
        form=_vote_form(found),
        voted=voted,
        again=request.args.get("again") == "1",
        results=results,
    )


@bp.get("/tham-do/<int:poll_id>/bieu-do.svg")
def public_chart(poll_id: int) -> Response:
    return _chart(polls.public_results(poll_id))


def _chart(results: polls.Results) -> Response:
    labels = [option.label for option, _n in results.counts]
    votes = [n for _option, n in results.counts]
    return charts.svg_response(charts.bars(results.poll.question, labels, {_("Số phiếu"): votes}))


# --- staff: answers about their agencies' procedures ---------------------------------------------


@staff.get("/feedback")
def answers():
    done = request.args.get("xong") == "1"
    page = feedback.list_feedback(current_user, done=done)
    forms = {a.id: HandleForm(formdata=None, obj=a, prefix=f"a{a.id}") for a in page.answers}
    return render_template(
        "feedback/answers.html", page=page, done=done, forms=forms, reasons=REASONS
    )


@staff.post("/feedback/<int:answer_id>")
def handle(answer_id: int):
    form = HandleForm(prefix=f"a{answer_id}")
    if form.validate():
        try:
            feedback.handle(answer_id, form.done.data, form.note.data or "", current_user)
        except ValidationError as error:
            flash(" ".join(error.errors.values()), "error")
        else:
            flash(_("Đã lưu cách xử lý góp ý."), "success")
    else:
        flash(" ".join(m for ms in form.errors.values() for m in ms), "error")
    return redirect(url_for("feedback.staff.answers", xong=request.args.get("xong")))


# --- staff: polls --------------------------------------------------------------------------------


@staff.route("/polls", methods=["GET", "POST"])
def poll_admin():
    form = PollForm()
    if request.method == "POST":
        polls.check_can_manage(current_user)
    if request.method == "POST" and form.validate():
        try:
            created = polls.create_poll(
                form.question.data or "", (form.options.data or "").splitlines(), current_user
            )
        except ValidationError as error:
            put_errors(form, error.errors, "question")
        else:
            flash(_("Đã tạo cuộc thăm dò; hãy mở nó khi sẵn sàng."), "success")
            return redirect(url_for("feedback.staff.poll_results", poll_id=created.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "feedback/poll_admin.html", polls=polls.list_polls(current_user), form=form
    ), status


@staff.get("/polls/<int:poll_id>")
def poll_results(poll_id: int):
    results = polls.staff_results(poll_id, current_user)
    form = PollStateForm(formdata=None, obj=results.poll)
    return render_template("feedback/poll_results.html", results=results, form=form)


@staff.post("/polls/<int:poll_id>/state")
def poll_state(poll_id: int):
    form = PollStateForm()
    if form.validate():
        polls.set_state(poll_id, form.is_open.data, form.public_results.data, current_user)
        flash(_("Đã lưu trạng thái cuộc thăm dò."), "success")
    return redirect(url_for("feedback.staff.poll_results", poll_id=poll_id))


@staff.get("/polls/<int:poll_id>/chart.svg")
def staff_chart(poll_id: int) -> Response:
    return _chart(polls.staff_results(poll_id, current_user))


bp.register_blueprint(staff)
