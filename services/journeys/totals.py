"""A journey's statutory time and known fees, from the structured channels of its procedures.

The rules (the README's "Journeys" section and every journey page say the same):

- Steps follow one another, so their times add up, and so do their fees.
- An "all of" step's procedures run side by side: the step takes as long as its longest one;
  each of them is paid, so their fees add up.
- An "either of" step needs one of its procedures: it gives a range, from the shortest to the
  longest, and a fee range, from the cheapest to the dearest.
- A procedure that can be submitted several ways (channels) is itself an "either of" over them.
- Optional steps are listed but not counted.
- Times are added per unit: working days, calendar days, months and hours are never added to one
  another (15 ngày + 10 ngày làm việc stays two figures). When the procedures of one step give
  their times in different units, they cannot be compared, so each unit keeps its own bound and
  the step (and the total) are marked as such.
- Only known figures count: the page says how many procedures have no structured time limit or
  no known fee ("not counted"). Abolished, unpublished and unknown procedures are marked and
  not counted at all.

The texts of each procedure (time limit, fee, agency) come from services.catalogue.summary, the
same facts its page's summary box shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_decimal

from ..catalogue.summary import Summary, summarize
from ..labels import money, time_limit
from ..models import Journey, JourneyStep, Procedure, Status, StepMode, TimeUnit

# The order in which a total's units are written.
UNITS = (TimeUnit.MONTHS, TimeUnit.DAYS, TimeUnit.WORKING_DAYS, TimeUnit.HOURS)


@dataclass(frozen=True)
class Span:
    """A figure known to lie between `low` and `high` (equal when it is exact)."""

    low: float
    high: float

    def __add__(self, other: Span) -> Span:
        return Span(self.low + other.low, self.high + other.high)


Times = dict[str, Span]  # by time unit


def _either(options: list[Times]) -> Times:
    """Any one of `options`: per unit, from the shortest to the longest (a unit an option does
    not use counts as 0 for it)."""
    units = {unit for option in options for unit in option}
    return {
        unit: Span(
            min(option.get(unit, Span(0, 0)).low for option in options),
            max(option.get(unit, Span(0, 0)).high for option in options),
        )
        for unit in units
    }


def _together(options: list[Times]) -> Times:
    """All of `options`, side by side: per unit, the longest."""
    units = {unit for option in options for unit in option}
    return {
        unit: Span(
            max(option.get(unit, Span(0, 0)).low for option in options),
            max(option.get(unit, Span(0, 0)).high for option in options),
        )
        for unit in units
    }


def _added(a: Times, b: Times) -> Times:
    return {unit: a.get(unit, Span(0, 0)) + b.get(unit, Span(0, 0)) for unit in {*a, *b}}


def procedure_times(procedure: Procedure) -> Times:
    """The procedure's structured time limit: an "either of" over its channels that have one."""
    options = [
        {c.time_limit_unit: Span(c.time_limit_value, c.time_limit_value)}
        for c in procedure.channels
        if c.time_limit_value is not None and c.time_limit_unit
    ]
    return _either(options) if options else {}


def procedure_fee(procedure: Procedure) -> Span | None:
    """The procedure's known fee, from the cheapest channel to the dearest; None if unknown."""
    amounts = [c.fee_amount for c in procedure.channels if c.fee_amount is not None]
    return Span(min(amounts), max(amounts)) if amounts else None


# --- what pages show ----------------------------------------------------------------------------


@dataclass
class Item:
    """A procedure of a step: `procedure` is None when the code is not public (unknown, a draft
    or in review); `counted` says whether it enters the totals (published only)."""

    code: str
    procedure: Procedure | None
    summary: Summary | None = None
    times: Times = field(default_factory=dict)
    fee: Span | None = None

    @property
    def counted(self) -> bool:
        return self.procedure is not None and self.procedure.status == Status.PUBLISHED

    @property
    def abolished(self) -> bool:
        return self.procedure is not None and self.procedure.status == Status.ABOLISHED


@dataclass
class StepView:
    step: JourneyStep
    items: list[Item]
    times: Times
    fee: Span | None
    mixed_units: bool


@dataclass
class Totals:
    """The journey's totals over its required steps, and what they leave out."""

    times: Times
    fee: Span | None
    mixed_units: bool
    untimed: int  # counted procedures without a structured time limit
    unpriced: int  # counted procedures without a known fee
    left_out: int  # abolished, unpublished or unknown procedures of required steps
    optional_steps: int


def _step_view(step: JourneyStep, procedures: dict[str, Procedure], locality: str) -> StepView:
    items = []
    for link in step.procedures:
        procedure = procedures.get(link.code)
        item = Item(link.code, procedure)
        if procedure is not None:
            item.summary = summarize(procedure, locality)
        if item.counted:
            item.times, item.fee = procedure_times(procedure), procedure_fee(procedure)
        items.append(item)
    timed = [item.times for item in items if item.counted and item.times]
    fees = [item.fee for item in items if item.counted and item.fee is not None]
    if step.mode == StepMode.ANY:
        times = _either(timed) if timed else {}
        fee = Span(min(f.low for f in fees), max(f.high for f in fees)) if fees else None
    else:
        times = _together(timed) if timed else {}
        fee = sum(fees[1:], fees[0]) if fees else None
    mixed = (len(timed) > 1 and len(times) > 1) or any(len(t) > 1 for t in timed)
    return StepView(step, items, times, fee, mixed)


def step_views(journey: Journey, procedures: dict[str, Procedure], locality: str) -> list[StepView]:
    """Each step of `journey` with its procedures (public ones from `procedures`, by code) and
    the step's own time and fee."""
    return [_step_view(step, procedures, locality) for step in journey.steps]


def totals(steps: list[StepView]) -> Totals:
    """The totals of the required steps (see the module's rules)."""
    required = [view for view in steps if not view.step.optional]
    times: Times = {}
    fee: Span | None = None
    for view in required:
        times = _added(times, view.times)
        if view.fee is not None:
            fee = view.fee if fee is None else fee + view.fee
    counted = [item for view in required for item in view.items if item.counted]
    return Totals(
        times=times,
        fee=fee,
        mixed_units=any(view.mixed_units for view in required),
        untimed=sum(1 for item in counted if not item.times),
        unpriced=sum(1 for item in counted if item.fee is None),
        left_out=sum(1 for view in required for item in view.items if not item.counted),
        optional_steps=len(steps) - len(required),
    )


# --- words --------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return format_decimal(value, format="#,##0.#")


def times_text(times: Times) -> str:
    """Times as words, unit by unit ("75 ngày + 13 ngày làm việc", "15–20 ngày"); empty when
    none is known."""
    parts = []
    for unit in UNITS:
        span = times.get(unit)
        if span is None:
            continue
        if span.low == span.high:
            parts.append(time_limit(span.high, unit))
        else:
            parts.append(f"{_number(span.low)}–{time_limit(span.high, unit)}")
    return " + ".join(parts)


def fee_text(fee: Span | None) -> str:
    """A fee or fee range as words ("150.000 đồng", "50.000 – 100.000 đồng"); empty if unknown."""
    if fee is None:
        return ""
    if fee.low == fee.high:
        return money(int(fee.high))
    return f"{_number(fee.low)} – {money(int(fee.high))}"
