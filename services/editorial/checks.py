"""Rules the procedure editor applies to a record beyond its shape: one fee for every channel,
related procedures named by code or by name, and the check before review and publication that
each channel's time limit agrees with its own text ("21 ngày" beside "15 ngày làm việc" is
refused). Imports are not checked: the rule is for what staff send out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from ..catalogue.records import CODE_PATTERN, Record
from ..catalogue.summary import shorten
from ..db import db
from ..errors import ValidationError
from ..importers.channels import durations
from ..labels import time_limit
from ..models import Procedure, Status, TimeUnit
from ..text import clean, fold

# Units that say the same kind of time: a text's "15 ngày" agrees with 15 working days.
_KIND_OF_TIME = {
    TimeUnit.WORKING_DAYS: "day",
    TimeUnit.DAYS: "day",
    TimeUnit.HOURS: "hour",
    TimeUnit.MONTHS: "month",
}
DESCRIPTION_SHOWN = 60
# "1.001193 — Tên thủ tục" as the editor's list offers it; a hyphen between spaces too.
NAME_SEPARATORS = (" — ", " – ", " - ")


class NotReady(ValidationError):
    """A working copy that cannot go to review or be published as it is; `errors` are keyed by
    record path ("channels.0.time_limit_value"). When the request also saved the working copy
    (it is kept as a draft), `code` and `token` are the saved procedure's code and new token."""

    def __init__(self, errors: dict[str, str], code: str | None = None, token: str | None = None):
        super().__init__(errors)
        self.code = code
        self.token = token


# --- the time limit and its text ----------------------------------------------------------------


# A text that is a number alone ("15"), as many imported time limits are.
_BARE_NUMBER = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*")


def _stated(text: str) -> list[tuple[float, TimeUnit | None]]:
    """The time limits `text` states: each number it gives a unit, or the number it is."""
    found: list[tuple[float, TimeUnit | None]] = list(durations(text))
    bare = _BARE_NUMBER.fullmatch(text)
    if not found and bare:
        found.append((float(bare.group(1).replace(",", ".")), None))
    return found


def _agrees(value: float, unit: str | None, text: str) -> bool:
    """True when `text` states no time limit, or states `value` in the same kind of unit (any
    unit when either side gives none)."""
    stated = _stated(text)
    if not stated:
        return True
    kind = _KIND_OF_TIME.get(unit) if unit else None
    return any(
        number == value and (kind is None or said is None or _KIND_OF_TIME[said] == kind)
        for number, said in stated
    )


def time_limit_problems(record: Record) -> dict[str, str]:
    """For each channel whose structured time limit (value and unit) disagrees with the numbers
    its text states, a message keyed "channels.<i>.time_limit_value". A text that states no
    number, or several of which one is the value, agrees."""
    problems = {}
    for i, channel in enumerate(record["channels"]):
        value, unit = channel["time_limit_value"], channel["time_limit_unit"]
        text = channel["time_limit_text"] or ""
        if value is None or _agrees(value, unit, text):
            continue
        problems[f"channels.{i}.time_limit_value"] = _(
            "Thời hạn %(limit)s không khớp với mô tả “%(text)s”: sửa số hoặc mô tả cho khớp.",
            limit=time_limit(value, unit),
            text=shorten(text, DESCRIPTION_SHOWN),
        )
    return problems


def check_ready(record: Record) -> None:
    """Raise NotReady when `record` may not go to review or be published (see
    time_limit_problems)."""
    problems = time_limit_problems(record)
    if problems:
        raise NotReady(problems)


# --- one fee for every channel ------------------------------------------------------------------


def one_fee(record: Record) -> Record:
    """`record` with the fee text and amount of its first channel given to every channel."""
    if not record["channels"]:
        return record
    first = record["channels"][0]
    fee = {"fee_text": first["fee_text"], "fee_amount": first["fee_amount"]}
    return {**record, "channels": [{**channel, **fee} for channel in record["channels"]]}


# --- related procedures by code or name ---------------------------------------------------------


def _code_part(text: str) -> str:
    """The code of "1.001193 — Tên thủ tục", or the whole text."""
    for separator in NAME_SEPARATORS:
        head, found, _rest = text.partition(separator)
        if found and CODE_PATTERN.match(head.strip()):
            return head.strip()
    return text


def related_codes(entries: list[str], kept: Iterable[str] = ()) -> tuple[list[str], dict[str, str]]:
    """The codes that the editor's related-procedure entries name: a catalogue procedure's code,
    "code — name" as the list offers, or a published procedure's exact name (diacritics and case
    aside) when one procedure has it; codes in `kept` (the procedure's own, those it already
    names) pass as they are. Returns the codes and, keyed "related.<i>", a message for each
    entry naming none (the entry is returned as typed)."""
    kept = set(kept)
    wanted = [clean(text) for text in entries]
    candidates = [_code_part(text) for text in wanted]
    known = set(
        db.session.execute(select(Procedure.code).where(Procedure.code.in_(candidates))).scalars()
    )
    names = [text for text, code in zip(wanted, candidates, strict=True) if code not in known]
    by_name = _codes_by_name(names)
    codes, errors = [], {}
    for i, (text, code) in enumerate(zip(wanted, candidates, strict=True)):
        if code in known or code in kept:
            codes.append(code)
            continue
        matches = by_name.get(fold(text), [])
        if len(matches) == 1:
            codes.append(matches[0])
        else:
            codes.append(text)
            errors[f"related.{i}"] = (
                _("Có %(n)s thủ tục tên “%(t)s”: hãy chọn trong danh sách (mã — tên).",
                  n=len(matches), t=shorten(text, DESCRIPTION_SHOWN))
                if matches
                else _("Không tìm thấy thủ tục “%(t)s”: hãy gõ mã hoặc chọn trong danh sách.",
                       t=shorten(text, DESCRIPTION_SHOWN))
            )  # fmt: skip
    return codes, errors


def _codes_by_name(names: list[str]) -> dict[str, list[str]]:
    """The codes of the published procedures with each of `names`, by folded name."""
    folded = {fold(name) for name in names if name}
    if not folded:
        return {}
    found: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(Procedure.code, Procedure.name).where(Procedure.status == Status.PUBLISHED)
    )
    for code, name in rows:
        if fold(name) in folded:
            found.setdefault(fold(name), []).append(code)
    return found


def related_names(codes: list[str]) -> dict[str, str]:
    """The names of the procedures with `codes`, by code (codes the catalogue lacks are left
    out)."""
    if not codes:
        return {}
    rows = db.session.execute(
        select(Procedure.code, Procedure.name).where(Procedure.code.in_(codes))
    )
    return dict(rows.tuples().all())
