"""Journeys (hành trình): ordered steps through several procedures, composed by staff, such as
investing in an industrial cluster or registering a birth.

A step holds one or more procedures, all of which are needed ("all", done side by side) or any
one of which is enough ("any"). Procedures are named by code, like related procedures: a code
that is unknown, unpublished or abolished is shown as such, never an error. The English columns
are filled by staff; pages in English fall back to the Vietnamese.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, Versioned, utcnow


class StepMode(enum.StrEnum):
    """How a step's procedures combine."""

    ALL = "all"  # all of them, done side by side
    ANY = "any"  # any one of them


class Journey(Versioned, Base):
    """A journey through procedures, shown at /hanh-trinh/<slug> when published."""

    __tablename__ = "journey"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    steps: Mapped[list[JourneyStep]] = relationship(
        back_populates="journey", cascade="all, delete-orphan", order_by="JourneyStep.position"
    )


class JourneyStep(Base):
    """One step of a journey: its procedures, whether it may be skipped, a note."""

    __tablename__ = "journey_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")
    optional: Mapped[bool] = mapped_column(default=False)
    mode: Mapped[str] = mapped_column(String(8), default=StepMode.ALL)

    journey: Mapped[Journey] = relationship(back_populates="steps")
    procedures: Mapped[list[JourneyStepProcedure]] = relationship(
        cascade="all, delete-orphan", order_by="JourneyStepProcedure.position"
    )


class JourneyStepProcedure(Base):
    """A procedure of a step, by code: it may be outside this catalogue."""

    __tablename__ = "journey_step_procedure"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(
        ForeignKey("journey_step.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(50), index=True)
