"""What every template may use, registered once: the site settings, the stored-code enums and
labels, date and money formats, the search address builder and the staff pages' diff helpers.

Macros are imported without the template context, so what they need is a global, not a
context value.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g
from flask_babel import format_date, format_datetime

from .. import labels
from ..catalogue import queries
from ..catalogue.summary import summarize
from ..editorial import diff, history
from ..models import Role, StaffRole, Status
from .search import search_url


def init_app(app: Flask) -> None:
    """Register the context processor, globals and filters on `app`."""
    app.context_processor(site_context)
    for name, value in {
        "Role": Role,
        "Status": Status,
        "StaffRole": StaffRole,
        "ACTIONS": history.ACTIONS,
        "time_limit": labels.time_limit,
        "search_url": search_url,
        "summarize": summarize,
    }.items():
        app.add_template_global(value, name)
    for name, function in {
        "label": labels.label,
        "money": labels.money,
        "day": day,
        "moment": moment,
        "as_text": diff.as_text,
        "key_label": diff.key_label,
    }.items():
        app.add_template_filter(function, name)


def site_context() -> dict:
    """The site settings, read once a request, for every template."""
    if "site" not in g:
        g.site = queries.get_settings()
    return {"site": g.site}


def day(value: date | None) -> str:
    """A date as dd/MM/yyyy, empty for none."""
    return format_date(value, "dd/MM/yyyy") if value else ""


def moment(value: datetime | None) -> str:
    """A time of day and date (HH:mm dd/MM/yyyy) in the portal's time zone, empty for none."""
    return format_datetime(value, "HH:mm dd/MM/yyyy") if value else ""
