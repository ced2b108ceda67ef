"""What journey pages read: the list, one journey with its procedures loaded, the journeys a
procedure is part of, the procedures people open most from search, the names staff pick from,
and the English-or-Vietnamese text of a journey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..catalogue import queries as catalogue
from ..db import db, utcnow
from ..errors import NotFound
from ..models import (
    Journey,
    JourneyStep,
    JourneyStepProcedure,
    Procedure,
    ProcedureAgency,
    SearchClick,
    Status,
)
from ..text import sort_key
from . import totals

WITH_STEPS = selectinload(Journey.steps).selectinload(JourneyStep.procedures)
# What a step's line shows of each procedure: summary.summarize reads these.
STEP_PROCEDURE = (
    selectinload(Procedure.channels),
    selectinload(Procedure.results),
    selectinload(Procedure.agency_links).joinedload(ProcedureAgency.agency),
)
MOST_SEARCHED_DAYS = 90


def list_journeys(*, published_only: bool = True) -> list[Journey]:
    """Journeys by position then Vietnamese name, with their steps (published ones only, unless
    staff ask)."""
    query = select(Journey).options(WITH_STEPS)
    if published_only:
        query = query.where(Journey.published.is_(True))
    rows = db.session.execute(query).scalars().all()
    return sorted(rows, key=lambda j: (j.position, sort_key(j.name)))


def get_journey(slug: str, *, public: bool = True) -> Journey:
    """The journey with this slug and its steps; with `public`, an unpublished one is not
    found. Raises NotFound."""
    journey = db.session.execute(
        select(Journey).where(Journey.slug == slug).options(WITH_STEPS)
    ).scalar_one_or_none()
    if journey is None or (public and not journey.published):
        raise NotFound(_("Không tìm thấy hành trình “%(slug)s”.", slug=slug))
    return journey


@dataclass
class JourneyPage:
    """A journey with each step's procedures, times and fees, and its totals."""

    journey: Journey
    steps: list[totals.StepView]
    totals: totals.Totals


def journey_page(slug: str) -> JourneyPage:
    """Everything the journey's page, sheet and API show, in a few queries. Raises NotFound."""
    journey = get_journey(slug)
    codes = sorted({link.code for step in journey.steps for link in step.procedures})
    procedures = {}
    if codes:
        rows = db.session.execute(
            select(Procedure)
            .where(Procedure.code.in_(codes), Procedure.status.in_(catalogue.PUBLIC_STATUSES))
            .options(*STEP_PROCEDURE)
        ).scalars()
        procedures = {p.code: p for p in rows}
    steps = totals.step_views(journey, procedures, catalogue.get_settings().locality)
    return JourneyPage(journey, steps, totals.totals(steps))


def journeys_with(code: str) -> list[Journey]:
    """The published journeys a procedure is part of, by position then name."""
    rows = db.session.execute(
        select(Journey)
        .join(JourneyStep)
        .join(JourneyStepProcedure)
        .where(JourneyStepProcedure.code == code, Journey.published.is_(True))
    ).scalars()
    return sorted(set(rows), key=lambda j: (j.position, sort_key(j.name)))


def most_searched(limit: int = 6, days: int = MOST_SEARCHED_DAYS) -> list[Procedure]:
    """The published procedures people opened most often from search results in the last
    `days` days (one grouped query over the clicks)."""
    opened = (
        select(SearchClick.code, func.count().label("opened"))
        .where(SearchClick.clicked_at >= utcnow() - timedelta(days=days))
        .group_by(SearchClick.code)
        .subquery()
    )
    return list(
        db.session.execute(
            select(Procedure)
            .join(opened, opened.c.code == Procedure.code)
            .where(Procedure.status == Status.PUBLISHED)
            .order_by(opened.c.opened.desc(), Procedure.code)
            .limit(limit)
        ).scalars()
    )


def procedure_choices() -> list[tuple[str, str]]:
    """(code, name) of every published procedure, by code: what staff pick a step's
    procedures from."""
    return list(
        db.session.execute(
            select(Procedure.code, Procedure.name)
            .where(Procedure.status == Status.PUBLISHED)
            .order_by(Procedure.code)
        ).tuples()
    )
