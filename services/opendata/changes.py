"""The record of published changes: written by the editorial workflow in the same transaction as
a publication or an abolition (flush only), read by the feeds and the change list.

Each entry keeps the public record as published, so another portal can keep a copy in step
from the change list alone, and says in words what changed since the record before (the
staff area's diff, services.editorial.diff, spelled out as sentences).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, text

from ..catalogue import convert, queries
from ..catalogue.records import Record
from ..db import db, utcnow
from ..editorial.diff import Change, ItemChange, as_text, diff_records, key_label
from ..labels import label, time_limit
from ..models import CatalogueChange, Procedure, Role, Status

# Texts longer than this are said to have been revised rather than quoted in full.
QUOTE_LENGTH = 120


def public_record(procedure: Procedure) -> Record | None:
    """The record the public sees of `procedure` now, before a change; None when unpublished."""
    return convert.procedure_record(procedure) if procedure.is_public else None


def record_change(procedure: Procedure, previous: Record | None) -> CatalogueChange | None:
    """Add the entry for `procedure` just published or abolished (flush only); `previous` is
    `public_record` taken before the change. Nothing is added when nothing public changed."""
    new = convert.procedure_record(procedure)
    if previous is not None and not diff_records(previous, new):
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        # Sequence numbers must follow commit order, or a reader polling `since` could skip
        # an entry that commits after a higher one: one writer of the log at a time.
        db.session.execute(text("LOCK TABLE catalogue_change IN EXCLUSIVE MODE"))
    slugs = [link.agency.slug for link in procedure.agencies(Role.IMPLEMENTING) if link.agency]
    entry = CatalogueChange(
        at=utcnow(),
        code=procedure.code,
        kind="abolished" if new["status"] == Status.ABOLISHED else "published",
        name=procedure.name,
        agencies=_spaced(slugs),
        fields=_spaced(field.slug for field in procedure.fields),
        summary=describe(previous, new),
        record=new,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _spaced(slugs) -> str:
    return " " + " ".join(slugs) + " "


# --- what changed, in words ---------------------------------------------------------------------


def describe(old: Record | None, new: Record) -> list[str]:
    """Sentences that say what changed from `old` to `new` (the first publication when none)."""
    if new["status"] == Status.ABOLISHED and (old is None or old["status"] != Status.ABOLISHED):
        lines = [_("Thủ tục bị bãi bỏ. Lý do: %(r)s", r=new["abolished_reason"] or "—")]
        if new["replaced_by"]:
            lines.append(_("Thay thế bằng thủ tục %(c)s.", c=new["replaced_by"]))
        return lines
    if old is None:
        return [_("Công bố thủ tục.")]
    return [line for change in diff_records(old, new) for line in _change_lines(change)]


def _quote(value: Any) -> str:
    spelled = as_text(value)
    return spelled if len(spelled) <= QUOTE_LENGTH else spelled[: QUOTE_LENGTH - 1] + "…"


def _change_lines(change: Change) -> list[str]:
    if change.items is None:
        if max(len(as_text(change.old)), len(as_text(change.new))) > QUOTE_LENGTH:
            return [_("%(what)s: đã sửa.", what=change.label)]
        return [f"{change.label}: {as_text(change.old)} → {as_text(change.new)}"]
    return [_item_line(change.key, item) for item in change.items]


def _item_name(value: Any) -> str:
    """What a list item is called: its name or number when it has one, else all of it."""
    if isinstance(value, dict):
        for key in ("name", "number", "agency"):
            if value.get(key):
                return str(value[key])
        if "kind" in value:
            return label(value["kind"])
    return _quote(value)


def _item_line(key: str, item: ItemChange) -> str:
    what = key_label(key)
    if item.kind == "added":
        return _("%(what)s: thêm %(item)s", what=what, item=_item_name(item.new))
    if item.kind == "removed":
        return _("%(what)s: bỏ %(item)s", what=what, item=_item_name(item.old))
    if not isinstance(item.new, dict):
        return f"{what}: {_quote(item.old)} → {_quote(item.new)}"
    parts = _value_changes(item.old, item.new, item.keys)
    return f"{what} ({_item_name(item.new)}): " + "; ".join(parts)


def _value_changes(old: dict, new: dict, keys: list[str]) -> list[str]:
    parts = []
    if {"time_limit_value", "time_limit_unit"} & set(keys):
        before = time_limit(old.get("time_limit_value"), old.get("time_limit_unit")) or "—"
        after = time_limit(new.get("time_limit_value"), new.get("time_limit_unit")) or "—"
        parts.append(f"{key_label('time_limit_value')}: {before} → {after}")
    for key in keys:
        if key not in ("time_limit_value", "time_limit_unit"):
            parts.append(f"{key_label(key)}: {_quote(old.get(key))} → {_quote(new.get(key))}")
    return parts


# --- reading the record -------------------------------------------------------------------------


def since(sequence: int, limit: int) -> list[CatalogueChange]:
    """Up to `limit` entries after `sequence`, oldest first."""
    return list(
        db.session.execute(
            select(CatalogueChange)
            .where(CatalogueChange.id > sequence)
            .order_by(CatalogueChange.id)
            .limit(limit)
        ).scalars()
    )


def latest_sequence() -> int:
    """The number of the newest entry (0 before the first)."""
    return db.session.execute(select(db.func.max(CatalogueChange.id))).scalar() or 0


def recent(limit: int, *, agency: str | None = None, field: str | None = None):
    """The newest `limit` entries, newest first, of one agency's or one lĩnh vực's procedures
    (given by slug) or of all."""
    query = select(CatalogueChange).order_by(CatalogueChange.id.desc()).limit(limit)
    if agency:
        query = query.where(CatalogueChange.agencies.contains(f" {agency} ", autoescape=True))
    if field:
        query = query.where(CatalogueChange.fields.contains(f" {field} ", autoescape=True))
    return list(db.session.execute(query).scalars())


def updated_since(moment: datetime, page: int, per_page: int) -> tuple[int, list[Procedure]]:
    """Public procedures whose public record changed at or after `moment` (naive UTC), oldest
    change first: how many there are and one page of them."""
    where = (Procedure.status.in_(queries.PUBLIC_STATUSES), Procedure.updated_at >= moment)
    total = db.session.execute(select(db.func.count(Procedure.id)).where(*where)).scalar() or 0
    rows = db.session.execute(
        select(Procedure)
        .where(*where)
        .order_by(Procedure.updated_at, Procedure.code)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(*queries.LIST_PROCEDURE)
    ).scalars()
    return total, list(rows)
