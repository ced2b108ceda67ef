"""The journey record: the one shape in which a journey enters and leaves (the catalogue file's
top-level "journeys", the staff form, the API).

`normalize_journey` turns any input dict into the canonical record, every key present, text NFC,
or raises ValidationError naming the bad key (as services.catalogue.records does for the other
records, whose value readers it shares); `journey_record` reads a model back into that shape.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..catalogue.records import Record, _code, _dict, _int, _list, _slug, _text
from ..errors import ValidationError
from ..models import Journey, StepMode
from ..text import slugify
from . import queries, totals

# The longest a text column takes (the database refuses longer ones on PostgreSQL).
MAX_SLUG = 120
MAX_NAME = 300
MAX_POSITION = 10000


def _short(value: Any, path: str, limit: int, *, required: bool = False) -> str:
    text = _text(value, path, required=required)
    if len(text) > limit:
        raise ValidationError({path: _("Dài quá %(n)s ký tự.", n=limit)})
    return text


def _flag(value: Any, path: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError({path: _("Phải là true hoặc false.")})
    return value


def _mode(value: Any, path: str) -> str:
    if value in (None, ""):
        return StepMode.ALL.value
    if value not in [mode.value for mode in StepMode]:
        raise ValidationError({path: _("Cách kết hợp phải là “all” hoặc “any”.")})
    return str(value)


def _step(raw: Any, path: str) -> Record:
    raw = _dict(raw, path)
    codes: list[str] = []
    for i, item in enumerate(_list(raw.get("procedures"), f"{path}.procedures")):
        code = _code(item, f"{path}.procedures.{i}")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValidationError({f"{path}.procedures": _("Mỗi bước cần ít nhất một thủ tục.")})
    return {
        "title": _short(raw.get("title"), f"{path}.title", MAX_NAME, required=True),
        "title_en": _short(raw.get("title_en"), f"{path}.title_en", MAX_NAME),
        "note": _text(raw.get("note"), f"{path}.note", block=True),
        "note_en": _text(raw.get("note_en"), f"{path}.note_en", block=True),
        "optional": _flag(raw.get("optional"), f"{path}.optional", False),
        "mode": _mode(raw.get("mode"), f"{path}.mode"),
        "procedures": codes,
    }


def normalize_journey(raw: Any, path: str = "journey") -> Record:
    """Return the canonical journey record, or raise ValidationError naming the bad key."""
    raw = _dict(raw, path)
    name = _short(raw.get("name"), f"{path}.name", MAX_NAME, required=True)
    slug = _slug(raw.get("slug") or slugify(name), f"{path}.slug")
    position = _int(raw.get("position"), f"{path}.position")
    if position > MAX_POSITION:
        raise ValidationError({f"{path}.position": _("Không được lớn hơn %(n)s.", n=MAX_POSITION)})
    if len(slug) > MAX_SLUG:
        raise ValidationError({f"{path}.slug": _("Dài quá %(n)s ký tự.", n=MAX_SLUG)})
    raws = _list(raw.get("steps"), f"{path}.steps")
    steps = [_step(item, f"{path}.steps.{i}") for i, item in enumerate(raws)]
    if not steps:
        raise ValidationError({f"{path}.steps": _("Hành trình cần ít nhất một bước.")})
    return {
        "slug": slug,
        "name": name,
        "name_en": _short(raw.get("name_en"), f"{path}.name_en", MAX_NAME),
        "summary": _text(raw.get("summary"), f"{path}.summary", block=True),
        "summary_en": _text(raw.get("summary_en"), f"{path}.summary_en", block=True),
        "position": position,
        "published": _flag(raw.get("published"), f"{path}.published", True),
        "steps": steps,
    }


def journey_record(journey: Journey) -> Record:
    """The canonical record of a stored journey."""
    return {
        "slug": journey.slug,
        "name": journey.name,
        "name_en": journey.name_en,
        "summary": journey.summary,
        "summary_en": journey.summary_en,
        "position": journey.position,
        "published": journey.published,
        "steps": [
            {
                "title": step.title,
                "title_en": step.title_en,
                "note": step.note,
                "note_en": step.note_en,
                "optional": step.optional,
                "mode": step.mode,
                "procedures": [link.code for link in step.procedures],
            }
            for step in journey.steps
        ],
    }


def _times_json(times: totals.Times) -> list[dict[str, Any]]:
    return [
        {"unit": str(unit), "low": times[unit].low, "high": times[unit].high}
        for unit in totals.UNITS
        if unit in times
    ]


def _fee_json(fee: totals.Span | None) -> dict[str, float] | None:
    return None if fee is None else {"low": fee.low, "high": fee.high}


def journey_document(page: queries.JourneyPage) -> Record:
    """A journey for the API: its record, each step with its time and fee, and the totals."""
    record = journey_record(page.journey)
    for step, view in zip(record["steps"], page.steps, strict=True):
        step.update(times=_times_json(view.times), fee=_fee_json(view.fee))
    t = page.totals
    record["totals"] = {
        "times": _times_json(t.times),
        "fee": _fee_json(t.fee),
        "mixed_units": t.mixed_units,
        "untimed": t.untimed,
        "unpriced": t.unpriced,
        "left_out": t.left_out,
        "optional_steps": t.optional_steps,
    }
    return record
