"""Use cases on the catalogue: read procedures, agencies and lĩnh vực for the public pages, and
store records of them.

Readers return model objects loaded with what the page shows (no query per row). Writers take
canonical records (services.records) and flush; the public writers commit once at their end.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from . import records
from .errors import Conflict, NotFound, ValidationError
from .models import (
    Agency,
    Field,
    Level,
    Procedure,
    ProcedureAgency,
    Role,
    SiteSettings,
    Status,
    Subject,
    db,
    procedure_field,
    procedure_level,
    procedure_subject,
    utcnow,
)
from .records import Record
from .text import level_sort_key, slugify, sort_key

PUBLIC_STATUSES = (Status.PUBLISHED, Status.ABOLISHED)

# Everything a procedure page shows, loaded in a handful of queries.
FULL_PROCEDURE = (
    selectinload(Procedure.fields),
    selectinload(Procedure.levels),
    selectinload(Procedure.subjects),
    selectinload(Procedure.agency_links).selectinload(ProcedureAgency.agency),
    selectinload(Procedure.steps),
    selectinload(Procedure.channels),
    selectinload(Procedure.dossier),
    selectinload(Procedure.results),
    selectinload(Procedure.legal_bases),
    selectinload(Procedure.related),
    selectinload(Procedure.replaced_by),
)
# What a line in a list of procedures shows.
LIST_PROCEDURE = (
    selectinload(Procedure.fields),
    selectinload(Procedure.levels),
    selectinload(Procedure.agency_links).selectinload(ProcedureAgency.agency),
)


# --- site settings ------------------------------------------------------------------------------


def get_settings() -> SiteSettings:
    """The site settings; an unsaved empty row when none were ever stored."""
    settings = db.session.execute(select(SiteSettings).limit(1)).scalar_one_or_none()
    return settings or SiteSettings(**dict.fromkeys(records.SETTINGS_KEYS, ""))


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


# --- agencies -----------------------------------------------------------------------------------


@dataclass
class AgencyNode:
    """An agency in the hierarchy with its published procedure count and its children."""

    agency: Agency
    count: int
    children: list[AgencyNode]


def _public_counts_by_agency() -> Counter[int]:
    rows = db.session.execute(
        select(ProcedureAgency.agency_id, func.count(func.distinct(ProcedureAgency.procedure_id)))
        .join(Procedure, Procedure.id == ProcedureAgency.procedure_id)
        .where(
            Procedure.status == Status.PUBLISHED,
            ProcedureAgency.role == Role.IMPLEMENTING,
            ProcedureAgency.agency_id.is_not(None),
        )
        .group_by(ProcedureAgency.agency_id)
    )
    return Counter(dict(rows.all()))


def agency_tree() -> list[AgencyNode]:
    """All agencies as a forest, siblings by position then Vietnamese name."""
    agencies = db.session.execute(select(Agency)).scalars().all()
    counts = _public_counts_by_agency()
    children: dict[int | None, list[Agency]] = {}
    for agency in agencies:
        children.setdefault(agency.parent_id, []).append(agency)

    def build(parent_id: int | None, seen: frozenset[int]) -> list[AgencyNode]:
        siblings = sorted(children.get(parent_id, []), key=lambda a: (a.position, a.sort_name))
        return [
            AgencyNode(a, counts[a.id], build(a.id, seen | {a.id}))
            for a in siblings
            if a.id not in seen
        ]

    return build(None, frozenset())


def get_agency(slug: str) -> Agency:
    """The agency with this slug. Raises NotFound."""
    agency = db.session.execute(
        select(Agency)
        .where(Agency.slug == slug)
        .options(selectinload(Agency.children), selectinload(Agency.successor))
    ).scalar_one_or_none()
    if agency is None:
        raise NotFound(_("Không tìm thấy cơ quan “%(slug)s”.", slug=slug))
    return agency


def predecessors(agency: Agency) -> list[Agency]:
    """Agencies whose work passed to this one, by name."""
    rows = db.session.execute(select(Agency).where(Agency.successor_id == agency.id)).scalars()
    return sorted(rows, key=lambda a: a.sort_name)


@dataclass
class Group:
    """Procedures under one heading (a lĩnh vực or an agency), in Vietnamese order."""

    title: str
    slug: str | None
    procedures: list[Procedure]


def _group_by_field(procedures: list[Procedure]) -> list[Group]:
    groups: dict[str | None, Group] = {}
    for procedure in procedures:
        field = procedure.fields[0] if procedure.fields else None
        key = field.slug if field else None
        if key not in groups:
            groups[key] = Group(field.name if field else _("Lĩnh vực khác"), key, [])
        groups[key].procedures.append(procedure)
    ordered = sorted(groups.values(), key=lambda g: (g.slug is None, sort_key(g.title)))
    for group in ordered:
        group.procedures.sort(key=lambda p: p.sort_name)
    return ordered


def agency_procedures(agency: Agency, *, status: Status = Status.PUBLISHED) -> list[Group]:
    """Procedures the agency carries out (implementing role), grouped by lĩnh vực."""
    procedures = (
        db.session.execute(
            select(Procedure)
            .join(ProcedureAgency)
            .where(
                ProcedureAgency.agency_id == agency.id,
                ProcedureAgency.role == Role.IMPLEMENTING,
                Procedure.status == status,
            )
            .options(*LIST_PROCEDURE)
        )
        .scalars()
        .unique()
        .all()
    )
    return _group_by_field(list(procedures))


# --- lĩnh vực -----------------------------------------------------------------------------------


def get_field(slug: str) -> Field:
    """The lĩnh vực with this slug. Raises NotFound."""
    field = db.session.execute(select(Field).where(Field.slug == slug)).scalar_one_or_none()
    if field is None:
        raise NotFound(_("Không tìm thấy lĩnh vực “%(slug)s”.", slug=slug))
    return field


def field_procedures(field: Field) -> list[Procedure]:
    """Published procedures of a lĩnh vực, in Vietnamese order of name."""
    return list(
        db.session.execute(
            select(Procedure)
            .join(procedure_field)
            .where(procedure_field.c.field_id == field.id, Procedure.status == Status.PUBLISHED)
            .order_by(Procedure.sort_name)
            .options(*LIST_PROCEDURE)
        ).scalars()
    )


# --- browsing -----------------------------------------------------------------------------------


@dataclass
class Facet:
    """One value to browse by, with the number of published procedures that have it."""

    slug: str
    name: str
    count: int


def _facet(model: type, table, column) -> list[Facet]:
    rows = db.session.execute(
        select(model.slug, model.name, func.count(Procedure.id))
        .join(table, column == model.id)
        .join(Procedure, Procedure.id == table.c.procedure_id)
        .where(Procedure.status == Status.PUBLISHED)
        .group_by(model.id, model.slug, model.name)
    ).all()
    return [Facet(slug, name, count) for slug, name, count in rows]


def browse() -> dict[str, list[Facet]]:
    """Counts of published procedures by agency, lĩnh vực, level and subject, for the home page."""
    counts = _public_counts_by_agency()
    today = date.today()
    agencies = [
        Facet(a.slug, a.display_name, counts[a.id])
        for a in db.session.execute(select(Agency)).scalars()
        if counts[a.id] and not a.is_retired(today)
    ]
    levels = _facet(Level, procedure_level, procedure_level.c.level_id)
    return {
        "agencies": sorted(agencies, key=lambda f: sort_key(f.name)),
        "fields": sorted(
            _facet(Field, procedure_field, procedure_field.c.field_id),
            key=lambda f: sort_key(f.name),
        ),
        "levels": sorted(levels, key=lambda f: level_sort_key(f.name)),
        "subjects": sorted(
            _facet(Subject, procedure_subject, procedure_subject.c.subject_id),
            key=lambda f: -f.count,
        ),
    }


def recent_procedures(limit: int = 8) -> list[Procedure]:
    """The most recently updated published procedures."""
    return list(
        db.session.execute(
            select(Procedure)
            .where(Procedure.status == Status.PUBLISHED)
            .order_by(Procedure.updated_at.desc(), Procedure.code)
            .limit(limit)
        ).scalars()
    )


# --- procedures ---------------------------------------------------------------------------------


def get_procedure(code: str, *, public: bool = True) -> Procedure:
    """The procedure with this code and everything its page shows.

    With `public`, drafts and procedures in review are not found. Raises NotFound.
    """
    procedure = db.session.execute(
        select(Procedure).where(Procedure.code == code).options(*FULL_PROCEDURE)
    ).scalar_one_or_none()
    if procedure is None or (public and procedure.status not in PUBLIC_STATUSES):
        raise NotFound(_("Không tìm thấy thủ tục có mã “%(code)s”.", code=code))
    return procedure


def procedures_by_code(codes: list[str]) -> dict[str, Procedure]:
    """Public procedures among `codes`, keyed by code (for links to related procedures)."""
    if not codes:
        return {}
    rows = db.session.execute(
        select(Procedure).where(Procedure.code.in_(codes), Procedure.status.in_(PUBLIC_STATUSES))
    ).scalars()
    return {p.code: p for p in rows}


def all_procedures(*, public: bool = False, options: tuple = FULL_PROCEDURE) -> list[Procedure]:
    """Every procedure (or every public one), by code, with the parts `options` load (by
    default all of them)."""
    query = select(Procedure).order_by(Procedure.code).options(*options)
    if public:
        query = query.where(Procedure.status.in_(PUBLIC_STATUSES))
    return list(db.session.execute(query).scalars())


# --- storing records ----------------------------------------------------------------------------


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


def store_procedure(record: Record, lookups: Lookups | None = None) -> tuple[Procedure, str]:
    """Insert or update the procedure a canonical record describes (flush only).

    Returns the procedure and what happened: "created", "updated" or "unchanged". Timestamps
    come from the record when it has them, otherwise from the clock. Raises Conflict when the
    procedure was edited in the portal (local_edit_at) and the record, which differs, is not
    newer than that edit; raises ValidationError for names the lookups cannot resolve.
    """
    lookups = lookups or Lookups()
    procedure = lookups.existing(record["code"])
    created_at, updated_at = records.record_timestamps(record)
    now = utcnow()
    if procedure is None:
        procedure = Procedure(code=record["code"], created_at=created_at or now)
        db.session.add(procedure)
        lookups.remember(procedure)
        outcome = "created"
    else:
        current = records.procedure_record(procedure)
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
    apply_record(procedure, record, lookups, updated_at=updated_at or now)
    return procedure, outcome


def apply_record(
    procedure: Procedure,
    record: Record,
    lookups: Lookups | None = None,
    *,
    updated_at: datetime | None = None,
) -> Procedure:
    """Write a canonical record onto a procedure row, new or existing, and stamp it updated
    (flush only). Raises ValidationError for agencies or replacements that do not exist."""
    with db.session.no_autoflush:
        records.apply_procedure_fields(procedure, record, lookups or Lookups())
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
    "name", "short_name", "kind", "position", "address", "phone", "email", "website",
    "opening_hours", "description",
)  # fmt: skip


def store_agency(record: Record) -> tuple[Agency, str]:
    """Insert or update an agency from a canonical record (flush only); parent and successor
    must already exist. Returns the agency and "created", "updated" or "unchanged"."""
    agency = db.session.execute(
        select(Agency).where(Agency.slug == record["slug"])
    ).scalar_one_or_none()
    if agency is not None and records.agency_record(agency) == record:
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
        agency.valid_from, agency.valid_to = records.agency_dates(record)
        agency.sort_name = sort_key(record["name"])
    db.session.flush()
    return agency, outcome


def store_field(record: Record) -> tuple[Field, str]:
    """Insert or update a lĩnh vực from a canonical record (flush only)."""
    field = db.session.execute(
        select(Field).where((Field.slug == record["slug"]) | (Field.name == record["name"]))
    ).scalar_one_or_none()
    if field is not None and records.field_record(field) == record:
        return field, "unchanged"
    outcome = "created" if field is None else "updated"
    if field is None:
        field = Field()
        db.session.add(field)
    field.slug, field.code, field.name = record["slug"], record["code"], record["name"]
    field.sort_name = sort_key(record["name"])
    db.session.flush()
    return field, outcome
