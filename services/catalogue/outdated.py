"""Printed sheets that know when they are out of date.

The QR code of a printed procedure carries the public state it was printed from, as the number
of the revision that records it (services.editorial.history): `/thu-tuc/<code>?ban-in=<n>`.
Every public state a staff change leaves (published, abolished, a discarded draft) is recorded
as a revision when it is written. A state the seed or an import wrote is not, until the next
staff change records it first (`history.record_outside_state`), as the procedure's next
revision number: the sheet names it by that number already, so printing never writes to the
database, and a sheet printed in between names the same state.

Scanning an older sheet opens the live page with what changed since, in plain words: the time
limit and the fees as the summary box shows them (services.catalogue.summary), dossier items
added or removed by name, "other details" for the rest (from services.editorial.diff), or that
the procedure was abolished. Only revisions of public states are read: the number of a draft
revision, of another procedure or of nothing shows no notice, and never a draft's content.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from .. import inputs
from ..db import db
from ..editorial import history
from ..editorial.diff import Change, diff_records
from ..models import Procedure, ProcedureRevision, Status
from . import convert
from .queries import PUBLIC_STATUSES
from .records import parse_timestamp
from .summary import Fact, fee_facts, time_limit_facts

# The query parameter of the printed state, on the URL a sheet's QR code opens.
PARAMETER = "ban-in"
# Revisions that record a public state of the row (the others record drafts).
PUBLIC_ACTIONS = frozenset({"initial", "imported", "published", "abolished", "discarded"})
_TIME_KEYS = ("time_limit_value", "time_limit_unit", "time_limit_text")
_FEE_KEYS = ("fee_text", "fee_amount")
_CHANNEL_KEYS = ("kind", *_TIME_KEYS, *_FEE_KEYS)


@dataclass
class Outdated:
    """What changed between the printed state of a procedure and its public state now."""

    printed_on: datetime
    changed_on: datetime
    abolished: bool = False
    time_limits: tuple[list[Fact], list[Fact]] | None = None
    fees: tuple[list[Fact], list[Fact]] | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    other: bool = False


@dataclass
class Scan:
    """What the page says about the sheet a visitor scanned: `current` when it shows the public
    state, `outdated` when that changed since; neither for an unknown state."""

    current: bool = False
    outdated: Outdated | None = None


# --- the number a sheet prints ------------------------------------------------------------------


def _public_state(revision: ProcedureRevision) -> dict | None:
    """The record a revision holds when it is one of a public state, else None."""
    record = revision.record
    if revision.action not in PUBLIC_ACTIONS or not isinstance(record, dict):
        return None
    return record if record.get("status") in PUBLIC_STATUSES else None


def _number(procedure: Procedure, revisions: list[ProcedureRevision]) -> int | None:
    """The number of the revision recording `procedure`'s public state (`revisions` are its
    own, oldest first): the first that holds it since it was written, or the number the
    outside state will have; None when neither (a state recorded under a former schema)."""
    current = convert.procedure_record(procedure) if revisions else {}
    for revision in revisions:
        record = _public_state(revision)
        same_time = record and record.get("updated_at") == current["updated_at"]
        if same_time and not diff_records(record, current):
            return revision.number
    if history.has_outside_state(procedure):
        return (revisions[-1].number if revisions else 0) + 1
    return None


def state_numbers(procedures: list[Procedure]) -> dict[int, int | None]:
    """Procedure id → the number of its public state, for printing (one query for all)."""
    by_procedure: dict[int, list[ProcedureRevision]] = defaultdict(list)
    ids = [p.id for p in procedures]
    for revision in db.session.execute(
        select(ProcedureRevision)
        .where(ProcedureRevision.procedure_id.in_(ids))
        .order_by(ProcedureRevision.procedure_id, ProcedureRevision.number)
    ).scalars():
        by_procedure[revision.procedure_id].append(revision)
    return {p.id: _number(p, by_procedure[p.id]) for p in procedures}


# --- the live page of a scanned sheet -----------------------------------------------------------


def scanned(procedure: Procedure, value: str | None) -> Scan:
    """What the page of `procedure` says to a visitor who scanned a sheet printed from state
    `value` (the query parameter as sent: any text). Unknown, malformed or foreign states say
    nothing."""
    try:
        number = inputs.integer(value, minimum=1)
    except ValueError:
        return Scan()
    if number == state_numbers([procedure])[procedure.id]:
        return Scan(current=True)
    revision = db.session.execute(
        select(ProcedureRevision).where(
            ProcedureRevision.procedure_id == procedure.id, ProcedureRevision.number == number
        )
    ).scalar_one_or_none()
    printed = _public_state(revision) if revision is not None else None
    if printed is None:
        return Scan()
    outdated = compare(printed, procedure, revision.created_at)
    return Scan(current=outdated is None, outdated=outdated)


def compare(printed: dict, procedure: Procedure, recorded_at: datetime) -> Outdated | None:
    """What changed from the `printed` record (recorded at `recorded_at`) to `procedure` as
    the public sees it now; None when nothing did. Records of an older schema (missing keys)
    compare as far as they go."""
    current = convert.procedure_record(procedure)
    changes = {change.key: change for change in diff_records(printed, current)}
    if not changes:
        return None
    result = Outdated(printed_on=_stamp(printed) or recorded_at, changed_on=procedure.updated_at)
    result.abolished = current["status"] == Status.ABOLISHED != printed.get("status")
    if result.abolished:
        return result
    new_channels = current["channels"]
    old, new = _channels(printed.get("channels")), _channels(new_channels)
    if (before := time_limit_facts(old)) != (after := time_limit_facts(new)):
        result.time_limits = (before, after)
    if (before := fee_facts(old)) != (after := fee_facts(new)):
        result.fees = (before, after)
    if "dossier" in changes:
        result.other |= _dossier(changes.pop("dossier"), result)
    if changes.pop("channels", None):
        result.other |= _without_facts(printed.get("channels")) != _without_facts(new_channels)
    result.other |= bool(changes)
    return result


def _stamp(record: dict) -> datetime | None:
    try:
        return parse_timestamp(record["updated_at"])
    except (KeyError, TypeError, ValueError):
        return None


def _channels(value: Any) -> list[SimpleNamespace]:
    """A record's channels as summary.py reads channel rows; keys an older record lacks are
    empty, and values of the wrong type are left out."""
    channels = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            channels.append(SimpleNamespace(**{key: item.get(key) for key in _CHANNEL_KEYS}))
    for channel in channels:
        if not isinstance(channel.time_limit_value, int | float):
            channel.time_limit_value = None
        if not isinstance(channel.fee_amount, int):
            channel.fee_amount = None
        channel.time_limit_text = str(channel.time_limit_text or "")
        channel.fee_text = str(channel.fee_text or "")
        channel.kind = str(channel.kind or "")
    return channels


def _without_facts(channels: Any) -> list:
    """A record's channels without their time limits and fees: what else they say."""
    facts = _TIME_KEYS + _FEE_KEYS
    return [
        {k: v for k, v in c.items() if k not in facts} if isinstance(c, dict) else c
        for c in (channels if isinstance(channels, list) else [])
    ]


def _name(item: Any) -> str:
    return str(item.get("name") or "") if isinstance(item, dict) else str(item)


def _dossier(change: Change, result: Outdated) -> bool:
    """Dossier items added and removed (an item renamed is both), by name, into `result`;
    True when items changed in other ways too (copies, notes, templates)."""
    other = False
    for item in change.items or []:
        if item.kind == "added":
            result.added.append(_name(item.new))
        elif item.kind == "removed":
            result.removed.append(_name(item.old))
        elif "name" in item.keys:
            result.removed.append(_name(item.old))
            result.added.append(_name(item.new))
            other |= set(item.keys) != {"name"}
        else:
            other = True
    return other
