"""The legend of each row of the procedure editor, said by what the row holds ("Bước 2: Nộp hồ
sơ tại…", "Trực tiếp — 15 ngày làm việc", "60/2014/QH13 — Luật Hộ tịch"), so a long procedure
reads as a list of its contents rather than "Mục 1, Mục 2"; a row with nothing in it yet keeps
a number ("Mục mới 3")."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask_babel import gettext as _
from wtforms import Field, Form

from ..catalogue.summary import shorten
from ..labels import label, time_limit

LEGEND_LENGTH = 70
DASH = " — "


class Legend(NamedTuple):
    """A row's legend: `head` is followed by the row's number when it is not empty ("Bước 2",
    "Mục mới 3"), then `summary` (the row's content in a few words)."""

    head: str
    summary: str


def _text(field: Field) -> str:
    return shorten(str(field.data or ""), LEGEND_LENGTH)


def _choice(field: Field) -> str:
    """The label of a select field's chosen value (the value when it has none)."""
    value = field.data or ""
    for choice in field.choices or []:
        if choice.value == value:
            return str(choice.label)
    return label(value)


def _joined(*parts: str) -> str:
    return DASH.join(part for part in parts if part)


def _agency(row: Form, names: dict[str, str]) -> str:
    name = _choice(row.agency) if row.agency.data else _text(row.name)
    return f"{label(row.role.data)}: {name}" if name else ""


def _channel(row: Form, names: dict[str, str]) -> str:
    try:
        value = float(str(row.time_limit_value.data or "").replace(",", "."))
    except ValueError:
        value = None
    limit = time_limit(value, row.time_limit_unit.data or None) if value is not None else ""
    return _joined(label(row.kind.data), limit or _text(row.time_limit_text))


def _dossier(row: Form, names: dict[str, str]) -> str:
    name = _text(row.name) or _text(row.template_name)
    if not name:
        return ""
    copies = [
        word
        for count, word in ((row.originals.data, _("bản chính")), (row.copies.data, _("bản sao")))
        if count
    ]
    return f"{name} ({', '.join(copies)})" if copies else name


def _result(row: Form, names: dict[str, str]) -> str:
    code = str(row.code.data or "")
    return f"{_text(row.name)} ({code})" if code and row.name.data else _text(row.name) or code


def _legal(row: Form, names: dict[str, str]) -> str:
    return _joined(_text(row.number), _text(row.title))


def _related(row: Form, names: dict[str, str]) -> str:
    code = str(row.code.data or "").strip()
    return _joined(code, shorten(names[code], LEGEND_LENGTH)) if code in names else _text(row.code)


_SUMMARIES: dict[str, Callable[[Form, dict[str, str]], str]] = {
    "agencies": _agency,
    "channels": _channel,
    "dossier": _dossier,
    "results": _result,
    "legal_bases": _legal,
    "related": _related,
}


def row_legend(group: str, row: Form, names: dict[str, str]) -> Legend:
    """The legend of a row of `group` (a key of forms.editor.GROUPS); `names` are the names of
    related procedures by code."""
    if group == "steps":
        text = _text(row.text)
        return Legend(_("Bước"), text) if text else Legend(_("Mục mới"), "")
    summary = _SUMMARIES[group](row, names)
    return Legend("", summary) if summary else Legend(_("Mục mới"), "")
