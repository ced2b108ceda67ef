"""Changing journeys: the staff use cases (save, delete; one commit each, recorded in the audit
trail, refused with a conflict when the journey changed since the form was loaded) and the
flush-only writer the catalogue file's import shares.

The version token a form quotes is the journey's version column, which every UPDATE checks
(services.db.Versioned), so two saves from the same old form never both win.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import accounts, audit
from ..catalogue.records import Record
from ..db import db, use_case, utcnow
from ..errors import EditConflict, ValidationError
from ..models import Journey, JourneyStep, JourneyStepProcedure, Procedure, StaffRole, User
from ..text import fold
from . import queries
from .records import journey_record, normalize_journey


class JourneyConflict(EditConflict):
    """The journey changed since the form was loaded: `record` and `token` are the stored
    state and its version, so staff can compare and save again."""

    def __init__(self, record: Record, token: str):
        super().__init__(record, token)
        self.args = (
            _(
                "Hành trình này vừa được người khác thay đổi sau khi bạn mở nó. Thay đổi của bạn "
                "CHƯA được lưu: hãy xem bản đã lưu dưới đây, gộp lại rồi lưu lần nữa."
            ),
        )


def version_token(journey: Journey) -> str:
    """The token an edit form quotes."""
    return str(journey.version)


def store_journey(record: Record) -> tuple[Journey, str]:
    """Create or update the journey of a canonical record, its steps replaced whole (flush
    only). Returns it with "created", "updated" or "unchanged"."""
    journey = db.session.execute(
        select(Journey).where(Journey.slug == record["slug"]).options(queries.WITH_STEPS)
    ).scalar_one_or_none()
    if journey is not None and journey_record(journey) == record:
        return journey, "unchanged"
    outcome = "created" if journey is None else "updated"
    if journey is None:
        journey = Journey(slug=record["slug"])
        db.session.add(journey)
    for key in ("name", "name_en", "summary", "summary_en", "position", "published"):
        setattr(journey, key, record[key])
    journey.steps = [
        JourneyStep(
            position=i,
            title=step["title"],
            title_en=step["title_en"],
            note=step["note"],
            note_en=step["note_en"],
            optional=step["optional"],
            mode=step["mode"],
            procedures=[
                JourneyStepProcedure(position=j, code=code)
                for j, code in enumerate(step["procedures"])
            ],
        )
        for i, step in enumerate(record["steps"])
    ]
    journey.updated_at = utcnow()
    db.session.flush()
    return journey, outcome


def export_journeys() -> list[Record]:
    """Every journey (published or not) as records, for the catalogue file."""
    return [journey_record(j) for j in queries.list_journeys(published_only=False)]


def load_journeys(raws: Any, counts) -> None:
    """Store the catalogue file's "journeys" (flush only; the import commits), counting each
    outcome in `counts`. Codes are kept as written, known or not. Raises ValidationError
    naming the bad key, which aborts the whole import."""
    if raws in (None, ""):
        return
    if not isinstance(raws, list):
        raise ValidationError({"journeys": _("Phải là một danh sách.")})
    for i, raw in enumerate(raws):
        _journey, outcome = store_journey(normalize_journey(raw, f"journeys.{i}"))
        counts[outcome] += 1


# --- staff use cases ----------------------------------------------------------------------------


def _stale(error: Exception, slug: str | None, *_args, **_kwargs) -> None:
    """After the rollback: the journey changed between our read and our UPDATE."""
    if isinstance(error, StaleDataError) and slug is not None:
        journey = queries.get_journey(slug, public=False)
        raise JourneyConflict(journey_record(journey), version_token(journey)) from None


# Between a code and a name in the list staff pick procedures from ("1.001193 — Đăng ký …").
PICKED = " — "


def _resolve_codes(raw: dict) -> dict:
    """The form's procedure boxes as codes: a code, "code — name" as picked from the list, or
    the exact name of a procedure in the catalogue. Raises ValidationError naming the step of
    any box that is none of these (a file's codes need not be known; a form's must be)."""
    rows = db.session.execute(select(Procedure.code, Procedure.name)).tuples().all()
    known = {code for code, _name in rows}
    by_name = {fold(name): code for code, name in rows}
    steps, errors = [], {}
    for i, step in enumerate(raw.get("steps") or []):
        codes, missing = [], []
        for text in step.get("procedures") or []:
            text = str(text).strip()
            code = text.split(PICKED)[0].strip()
            code = code if code in known else by_name.get(fold(text))
            if code is None:
                missing.append(text)
            else:
                codes.append(code)
        if missing:
            errors[f"steps.{i}.procedures"] = _(
                "Không có thủ tục “%(codes)s” trong danh mục.", codes="”, “".join(missing)
            )
        steps.append({**step, "procedures": codes})
    if errors:
        raise ValidationError(errors)
    return {**raw, "steps": steps}


def _normalized(raw: dict) -> Record:
    try:
        return normalize_journey(raw)
    except ValidationError as error:
        raise ValidationError(
            {key.removeprefix("journey."): message for key, message in error.errors.items()}
        ) from None


@use_case(on_error=_stale)
def save_journey(slug: str | None, raw: dict, version: str, user: User) -> Journey:
    """Create (slug None) or update a journey from the staff form; its slug does not change.

    `version` is the token the form was loaded with. Raises PermissionDenied (below
    publisher), NotFound, ValidationError (bad values, a taken slug, a code not in the
    catalogue), JourneyConflict.
    """
    accounts.require(user, StaffRole.PUBLISHER)
    if slug is not None:
        journey = queries.get_journey(slug, public=False)
        if version != version_token(journey):
            raise JourneyConflict(journey_record(journey), version_token(journey))
        raw = {**raw, "slug": slug}
    record = _normalized(_resolve_codes(raw))
    if (
        slug is None
        and db.session.execute(select(Journey.id).where(Journey.slug == record["slug"])).first()
    ):
        raise ValidationError({"slug": _("Đã có hành trình mang tên đường dẫn này.")})
    journey, outcome = store_journey(record)
    if outcome != "unchanged":
        audit.record(f"journey.{outcome}", ("journey", journey.slug), journey.name, actor=user)
    return journey


@use_case(on_error=_stale)
def delete_journey(slug: str, version: str, user: User) -> None:
    """Delete a journey. Raises PermissionDenied, NotFound, JourneyConflict (it changed since
    the page asking was loaded)."""
    accounts.require(user, StaffRole.PUBLISHER)
    journey = queries.get_journey(slug, public=False)
    if version != version_token(journey):
        raise JourneyConflict(journey_record(journey), version_token(journey))
    audit.record("journey.deleted", ("journey", slug), journey.name, actor=user)
    db.session.delete(journey)
    db.session.flush()
