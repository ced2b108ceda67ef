"""Storing records: every write of the catalogue's rows goes through here (flush only; the use
case that calls it commits). `write_procedure` is the one place a procedure row is written;
`store_procedure`, `store_agency`, `store_field` and `store_settings` upsert a canonical record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..db import db, utcnow
from ..errors import Conflict, ValidationError
from ..models import Agency, Field, Level, Procedure, SiteSettings, Subject
from ..text import level_sort_key, slugify, sort_key
from . import convert
from .queries import FULL_PROCEDURE
from .records import Record


def store_settings(record: Record) -> SiteSettings:
    """Write a canonical settings record onto the single settings row (flush only)."""
    settings = db.session.execute(select(SiteSettings).limit(1)).scalar_one_or_none()
    if settings is None:
        settings = SiteSettings()
        db.session.add(settings)
    for key, value in record.items():
        setattr(settings, key, value)
    db.session.flush()
    return settings


class Lookups:
    """Resolves the names and slugs in a record to rows, creating levels, subjects and lĩnh vực
    that do not exist yet; agencies and procedures must exist. With `create=False` the rows
    made for new names are left out of the session (for previews that must store nothing)."""

    def __init__(self, *, create: bool = True) -> None:
        self._cache: dict[tuple[type, str], object] = {}
        self._create = create

    def _get(self, model: type, column, value: str):
        key = (model, value)
        if key not in self._cache:
            self._cache[key] = db.session.execute(
                select(model).where(column == value)
            ).scalar_one_or_none()
        return self._cache[key]

    def _named(self, model: type, name: str):
        row = self._get(model, model.name, name)
        if row is None:
            row = model(name=name, slug=self._free_slug(model, slugify(name) or "x"))
            row.sort_name = level_sort_key(name) if model is Level else sort_key(name)
            if self._create:
                db.session.add(row)
            self._cache[(model, name)] = row
        return row

    def _free_slug(self, model: type, base: str) -> str:
        slug, n = base, 1
        while db.session.execute(select(model.id).where(model.slug == slug)).first():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def agency(self, slug: str) -> Agency:
        agency = self._get(Agency, Agency.slug, slug)
        if agency is None:
            raise ValidationError({"agency": _("Không có cơ quan “%(slug)s”.", slug=slug)})
        return agency

    def field(self, name: str) -> Field:
        return self._named(Field, name)

    def level(self, name: str) -> Level:
        return self._named(Level, name)

    def subject(self, name: str) -> Subject:
        return self._named(Subject, name)

    def procedure(self, code: str) -> Procedure:
        procedure = self._get(Procedure, Procedure.code, code)
        if procedure is None:
            raise ValidationError({"replaced_by": _("Không có thủ tục mã “%(code)s”.", code=code)})
        return procedure

    def existing(self, code: str) -> Procedure | None:
        """The stored procedure with this code, loaded with everything a record holds."""
        if (Procedure, code) not in self._cache:
            self.preload([code])
        return self._cache[(Procedure, code)]

    def preload(self, codes: list[str]) -> None:
        """Load the procedures with these codes (and all their parts) in a few queries, so that
        storing many records does not query once per record."""
        missing = list(dict.fromkeys(c for c in codes if (Procedure, c) not in self._cache))
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            found = {
                p.code: p
                for p in db.session.execute(
                    select(Procedure).where(Procedure.code.in_(chunk)).options(*FULL_PROCEDURE)
                ).scalars()
            }
            for code in chunk:
                self._cache[(Procedure, code)] = found.get(code)

    def remember(self, procedure: Procedure) -> None:
        """Note a procedure just added, so later records with its code find it."""
        self._cache[(Procedure, procedure.code)] = procedure


def store_procedure(
    record: Record,
    lookups: Lookups | None = None,
    *,
    before_update: Callable[[Procedure], object] | None = None,
) -> tuple[Procedure, str]:
    """Insert or update the procedure a canonical record describes (flush only);
    `before_update(procedure)` runs just before an existing row is overwritten (imports record
    the state it held: services.editorial.history.record_outside_state).

    Returns the procedure and what happened: "created", "updated" or "unchanged". Timestamps
    come from the record when it has them, otherwise from the clock. Raises Conflict when the
    procedure was edited in the portal (local_edit_at) and the record, which differs, is not
    newer than that edit; raises ValidationError for names the lookups cannot resolve.
    """
    lookups = lookups or Lookups()
    procedure = lookups.existing(record["code"])
    created_at, updated_at = convert.record_timestamps(record)
    now = utcnow()
    if procedure is None:
        procedure = Procedure(code=record["code"], created_at=created_at or now)
        db.session.add(procedure)
        lookups.remember(procedure)
        outcome = "created"
    else:
        current = convert.procedure_record(procedure)
        incoming = {**record, "created_at": current["created_at"]}
        if not record["updated_at"]:
            incoming["updated_at"] = current["updated_at"]
        if incoming == current:
            return procedure, "unchanged"
        edited = procedure.local_edit_at
        if edited is not None and (updated_at is None or updated_at <= edited):
            raise Conflict(
                _(
                    "Thủ tục %(code)s đã được sửa trên cổng lúc %(when)s (UTC); bản nhập "
                    "không mới hơn nên không ghi đè.",
                    code=record["code"],
                    when=edited.strftime("%Y-%m-%d %H:%M"),
                )
            )
        outcome = "updated"
        if before_update is not None:
            before_update(procedure)
    write_procedure(procedure, record, lookups, updated_at=updated_at or now)
    return procedure, outcome


def write_procedure(
    procedure: Procedure,
    record: Record,
    lookups: Lookups | None = None,
    *,
    updated_at: datetime | None = None,
) -> Procedure:
    """Write a canonical record onto a procedure row, new or existing, and stamp it updated
    (flush only). Raises ValidationError for agencies or replacements that do not exist."""
    with db.session.no_autoflush:
        convert.fill_procedure(procedure, record, lookups or Lookups())
    procedure.updated_at = updated_at or utcnow()
    db.session.flush()
    return procedure


def _is_under(parent: Agency | None, agency: Agency) -> bool:
    """True when `agency` is `parent` or one of its ancestors (the hierarchy would loop)."""
    seen: set[int] = set()
    while parent is not None and id(parent) not in seen:
        if parent is agency:
            return True
        seen.add(id(parent))
        parent = parent.parent
    return False


_AGENCY_COLUMNS = (
    "name", "short_name", "name_en", "summary_en", "kind", "position", "address", "phone",
    "email", "website", "opening_hours", "description",
)  # fmt: skip


def store_agency(record: Record) -> tuple[Agency, str]:
    """Insert or update an agency from a canonical record (flush only); parent and successor
    must already exist. Returns the agency and "created", "updated" or "unchanged"."""
    agency = db.session.execute(
        select(Agency).where(Agency.slug == record["slug"])
    ).scalar_one_or_none()
    if agency is not None and convert.agency_record(agency) == record:
        return agency, "unchanged"
    outcome = "created" if agency is None else "updated"
    lookups = Lookups()
    # No autoflush: walking up the parents loads rows, which must not flush a half-made agency.
    with db.session.no_autoflush:
        parent = lookups.agency(record["parent"]) if record["parent"] else None
        successor = lookups.agency(record["successor"]) if record["successor"] else None
        if agency is None:
            agency = Agency(slug=record["slug"])
            db.session.add(agency)
        if agency is successor or _is_under(parent, agency):
            raise ValidationError(
                {"parent": _("Cơ quan không thể trực thuộc hay kế thừa chính nó.")}
            )
        agency.parent, agency.successor = parent, successor
        for key in _AGENCY_COLUMNS:
            setattr(agency, key, record[key])
        agency.valid_from, agency.valid_to = convert.agency_dates(record)
        agency.sort_name = sort_key(record["name"])
    db.session.flush()
    return agency, outcome


def store_field(record: Record) -> tuple[Field, str]:
    """Insert or update a lĩnh vực from a canonical record (flush only)."""
    field = db.session.execute(
        select(Field).where((Field.slug == record["slug"]) | (Field.name == record["name"]))
    ).scalar_one_or_none()
    if field is not None and convert.field_record(field) == record:
        return field, "unchanged"
    outcome = "created" if field is None else "updated"
    if field is None:
        field = Field()
        db.session.add(field)
    field.slug, field.code, field.name = record["slug"], record["code"], record["name"]
    field.name_en, field.summary_en = record["name_en"], record["summary_en"]
    field.sort_name = sort_key(record["name"])
    db.session.flush()
    return field, outcome
