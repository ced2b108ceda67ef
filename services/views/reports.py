"""What people searched for: the redirect that records which search result was opened, the
staff report, the one-step dictionary rule for a query that found nothing, and the command
that trims the search log."""

from __future__ import annotations

from datetime import date

import click
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import charts, reports
from ..errors import EditConflict, ValidationError
from ..forms.feedback import PeriodForm, RuleForm
from .auth import guard

# cli_group=None: `flask search-log-purge`, beside the other commands.
bp = Blueprint("reports", __name__, cli_group=None)
staff = Blueprint("staff", __name__, url_prefix="/staff/reports")
guard(staff)


@bp.get("/tim-kiem/mo")
def open_result():
    """A result link of the search page: note the click, then go to the procedure's page
    (always a page of this portal, so the link cannot send anyone elsewhere)."""
    log_id = request.args.get("log", type=int)
    code = reports.record_click(log_id, request.args.get("code", ""))
    return redirect(url_for("public.procedure", code=code))


@bp.cli.command("search-log-purge")
@click.option("--days", type=int, default=None, help="Keep this many days (default: config).")
def purge_command(days: int | None) -> None:
    """Delete search log entries older than SEARCH_LOG_RETENTION_DAYS (or --days)."""
    deleted = reports.purge_search_log(days)
    message = ngettext(
        "Đã xóa %(n)s lượt tìm kiếm cũ.", "Đã xóa %(n)s lượt tìm kiếm cũ.", deleted, n=deleted
    )
    click.echo(message)


def _period(form: PeriodForm) -> reports.Period:
    default = reports.default_period()
    return reports.Period(form.first.data or default.first, form.last.data or default.last)


def _report_args(period: reports.Period) -> dict[str, str]:
    return {"first": period.first.isoformat(), "last": period.last.isoformat()}


@staff.get("/search")
def search():
    form = PeriodForm(request.args)
    context = {"form": form, "report": None, "rule_form": RuleForm(formdata=None)}
    if not form.validate():
        return render_template("reports/search.html", **context), 400
    period = _period(form)
    try:
        context["report"] = reports.search_report(period, current_user)
    except ValidationError as error:
        return render_template("reports/search.html", **context, errors=error.errors), 400
    context["args"] = _report_args(period)
    return render_template("reports/search.html", **context)


@staff.get("/search/weeks.svg")
def weeks_chart() -> Response:
    form = PeriodForm(request.args)
    form.validate()
    report = reports.search_report(_period(form), current_user)
    labels = [week.monday.strftime("%d/%m") for week in report.weeks]
    series = {
        _("Lượt tìm"): [w.searches for w in report.weeks],
        _("Không có kết quả"): [w.zero for w in report.weeks],
        _("Có mở kết quả"): [w.clicked for w in report.weeks],
    }
    return charts.svg_response(charts.columns(_("Lượt tìm theo tuần"), labels, series))


def _dates(form: RuleForm) -> dict[str, str]:
    args = {}
    for name in ("first", "last"):
        try:
            args[name] = date.fromisoformat(getattr(form, name).data or "").isoformat()
        except ValueError:
            continue
    return args


@staff.post("/search/rule")
def add_rule():
    form = RuleForm()
    reports.check_can_add_rule(current_user)
    if form.validate():
        try:
            now = reports.add_rule(
                form.kind.data, form.query.data or "", form.target.data or "", current_user
            )
        except ValidationError as error:
            flash(" ".join(error.errors.values()), "error")
        except EditConflict:
            flash(_("Từ điển vừa được người khác thay đổi; hãy thử lại."), "error")
        else:
            flash(
                ngettext(
                    "Đã thêm quy tắc. “%(q)s” giờ cho %(n)s kết quả.",
                    "Đã thêm quy tắc. “%(q)s” giờ cho %(n)s kết quả.",
                    now,
                    q=form.query.data,
                    n=now,
                ),
                "success",
            )
    else:
        flash(" ".join(m for ms in form.errors.values() for m in ms), "error")
    return redirect(url_for("reports.staff.search", **_dates(form)))


bp.register_blueprint(staff)
