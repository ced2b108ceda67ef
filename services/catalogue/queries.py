"""What the public pages read: site settings, agencies, lĩnh vực, procedures and the counts to
browse by. Readers return model objects loaded with what the page shows (no query per row).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from flask import g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import Integer, and_, func, literal_column, select, true, union_all
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..db import db
from ..errors import NotFound
from ..models import (
    Agency,
    Channel,
    DossierItem,
    Field,
    LegalBasis,
    Level,
    Procedure,
    ProcedureAgency,
    RelatedProcedure,
    Role,
    SiteSettings,
    Status,
    Step,
    Subject,
    procedure_field,
    procedure_level,
    procedure_subject,
)
from ..models import Result as ResultPart
from ..text import level_sort_key, sort_key
from . import records

PUBLIC_STATUSES = (Status.PUBLISHED, Status.ABOLISHED)

# Everything a procedure page shows, loaded in a handful of queries.
FULL_PROCEDURE = (
    selectinload(Procedure.fields),
    selectinload(Procedure.levels),
    selectinload(Procedure.subjects),
    selectinload(Procedure.agency_links).joinedload(ProcedureAgency.agency),
    selectinload(Procedure.steps),
    selectinload(Procedure.channels),
    selectinload(Procedure.dossier),
    selectinload(Procedure.results),
    selectinload(Procedure.legal_bases),
    selectinload(Procedure.related),
    selectinload(Procedure.replaced_by),
)
# What a line in a list of procedures shows (search results: four queries for any number). An
# agency is one row per link: joined to its link, not loaded by a query of its own.
LIST_PROCEDURE = (
    selectinload(Procedure.fields),
    selectinload(Procedure.levels),
    selectinload(Procedure.agency_links).joinedload(ProcedureAgency.agency),
)


# --- lines of a list -----------------------------------------------------------------------------


@dataclass(slots=True)
class ListedName:
    """A lĩnh vực or level as a line of a list shows it."""

    slug: str
    name: str
    name_en: str = ""


@dataclass(slots=True)
class ListedAgency:
    """An agency as a line of a list shows it."""

    id: int
    slug: str
    name: str
    short_name: str
    name_en: str

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


@dataclass(slots=True)
class ListedLink:
    """An agency in one of its roles for a listed procedure (see ProcedureAgency)."""

    role: str
    name: str
    agency: ListedAgency | None

    @property
    def display_name(self) -> str:
        return self.agency.name if self.agency is not None else self.name


@dataclass(slots=True)
class ListedProcedure:
    """A procedure as a line of a list (search results, the API's results) shows it: the
    attributes the templates and the API read of a Procedure, and nothing else."""

    id: int
    code: str
    name: str
    name_en: str
    summary_en: str
    status: str
    online_level: str | None
    fields: list[ListedName] = field(default_factory=list)
    levels: list[ListedName] = field(default_factory=list)
    agency_links: list[ListedLink] = field(default_factory=list)

    def agencies(self, role: Role | str) -> list[ListedLink]:
        return [link for link in self.agency_links if link.role == role]

    @property
    def main_agency(self) -> ListedAgency | None:
        """The first implementing agency that is in the catalogue."""
        for link in self.agencies(Role.IMPLEMENTING):
            if link.agency is not None:
                return link.agency
        return None


def listed_procedures(
    ids: list[int], status: Status = Status.PUBLISHED
) -> dict[int, ListedProcedure]:
    """The procedures among `ids` that have `status`, keyed by id, as lines of a list: in ONE
    statement of plain columns (row 0 of a procedure is the procedure, rows 1, 2 and 3 its
    lĩnh vực, levels and agency links, see _numbers), no ORM object built."""
    if not ids:
        return {}
    numbers = _numbers(4)
    n = numbers.c.n
    query = (
        select(
            n,
            Procedure.id,
            Procedure.code,
            Procedure.name,
            Procedure.name_en,
            Procedure.summary_en,
            Procedure.status,
            Procedure.online_level,
            Field.slug,
            Field.name,
            Field.name_en,
            Level.slug,
            Level.name,
            ProcedureAgency.id,
            ProcedureAgency.role,
            ProcedureAgency.name,
            Agency.id,
            Agency.slug,
            Agency.name,
            Agency.short_name,
            Agency.name_en,
        )
        .select_from(Procedure)
        .join(numbers, true())
        .outerjoin(procedure_field, and_(n == 1, procedure_field.c.procedure_id == Procedure.id))
        .outerjoin(Field, Field.id == procedure_field.c.field_id)
        .outerjoin(procedure_level, and_(n == 2, procedure_level.c.procedure_id == Procedure.id))
        .outerjoin(Level, Level.id == procedure_level.c.level_id)
        .outerjoin(ProcedureAgency, and_(n == 3, ProcedureAgency.procedure_id == Procedure.id))
        .outerjoin(Agency, Agency.id == ProcedureAgency.agency_id)
        .where(Procedure.id.in_(ids), Procedure.status == status)
        .order_by(
            Procedure.id,
            n,
            Field.sort_name,
            Level.sort_name,
            ProcedureAgency.position,
            ProcedureAgency.id,
        )
    )
    found: dict[int, ListedProcedure] = {}
    for row in db.session.execute(query).tuples():
        kind, procedure_id = row[0], row[1]
        if kind == 0:
            found[procedure_id] = ListedProcedure(*row[1:8])
        elif kind == 1 and row[8] is not None:
            found[procedure_id].fields.append(ListedName(*row[8:11]))
        elif kind == 2 and row[11] is not None:
            found[procedure_id].levels.append(ListedName(*row[11:13]))
        elif kind == 3 and row[13] is not None:
            agency = ListedAgency(*row[16:21]) if row[16] is not None else None
            found[procedure_id].agency_links.append(ListedLink(row[14], row[15], agency))
    return found


# --- site settings ------------------------------------------------------------------------------


def get_settings() -> SiteSettings:
    """The site settings; an unsaved empty row when none were ever stored. Read once per GET
    request (the page, its JSON-LD and its links all show them); work that may change them
    reads them afresh."""
    reading = has_request_context() and request.method in ("GET", "HEAD")
    if reading and "site_settings" in g:
        return g.site_settings
    settings = db.session.execute(select(SiteSettings).limit(1)).scalar_one_or_none()
    settings = settings or SiteSettings(**dict.fromkeys(records.SETTINGS_KEYS, ""))
    if reading:
        g.site_settings = settings
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
    name_en: str = ""  # the lĩnh vực's English name, "" when none or not a lĩnh vực

    @property
    def name(self) -> str:
        """The heading (what services.content_language reads as the Vietnamese name)."""
        return self.title


def _group_by_field(procedures: list[Procedure]) -> list[Group]:
    groups: dict[str | None, Group] = {}
    for procedure in procedures:
        field = procedure.fields[0] if procedure.fields else None
        key = field.slug if field else None
        if key not in groups:
            name = (field.name, key, [], field.name_en) if field else (_("Lĩnh vực khác"), key, [])
            groups[key] = Group(*name)
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
    name_en: str = ""  # the English name (lĩnh vực and agencies), "" when none


def _facet(model: type, table, column) -> list[Facet]:
    # Lĩnh vực have an English name; levels and subjects do not.
    english = [model.name_en] if hasattr(model, "name_en") else []
    rows = db.session.execute(
        select(model.slug, model.name, func.count(Procedure.id), *english)
        .join(table, column == model.id)
        .join(Procedure, Procedure.id == table.c.procedure_id)
        .where(Procedure.status == Status.PUBLISHED)
        .group_by(model.id, model.slug, model.name, *english)
    ).all()
    return [Facet(*row) for row in rows]


def browse() -> dict[str, list[Facet]]:
    """Counts of published procedures by agency, lĩnh vực, level and subject, for the home page."""
    counts = _public_counts_by_agency()
    today = date.today()
    agencies = [
        Facet(a.slug, a.display_name, counts[a.id], a.name_en)
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


def _numbers(count: int):
    """A table of the numbers 0 to `count - 1` (column `n`). Joined to one row, it makes one
    statement load several collections side by side: row n is outer-joined to the n-th
    collection only, so a procedure gives one row per part (or one empty row per collection
    it lacks), never a product of its collections."""
    numbers = [select(literal_column(str(n), Integer).label("n")) for n in range(count)]
    return union_all(*numbers).subquery("numbers")


# The collections of the procedure page, in the order of the numbers that load them.
_PAGE_PARTS = (
    "fields",
    "levels",
    "subjects",
    "agency_links",
    "steps",
    "channels",
    "dossier",
    "results",
    "legal_bases",
    "related",
)


def procedure_page(code: str) -> tuple[Procedure, dict[str, Procedure]]:
    """A public procedure with everything its page shows, and its public related procedures
    keyed by code: in ONE statement (FULL_PROCEDURE takes eleven), the collections set on the
    loaded rows as if the ORM had loaded them. Raises NotFound."""
    base, page, replaced, linked = (
        aliased(Procedure, name=name) for name in ("base", "page", "replaced", "linked")
    )
    numbers = _numbers(1 + len(_PAGE_PARTS))
    n = numbers.c.n

    def part(number: int, column):  # row `number`, joined to this procedure's parts only
        return and_(n == number, column == base.id)

    # Row n (from 1) holds the n-th part of _PAGE_PARTS in column n + 2; a link's agency and
    # the public procedure a related code names come last.
    parts = (Field, Level, Subject, ProcedureAgency, Step, Channel, DossierItem, ResultPart)
    parts += (LegalBasis, RelatedProcedure)
    query = (
        select(n, page, replaced, *parts, Agency, linked)
        .select_from(base)
        .join(numbers, true())
        .outerjoin(page, and_(n == 0, page.id == base.id))
        .outerjoin(replaced, replaced.id == page.replaced_by_id)
        .outerjoin(procedure_field, part(1, procedure_field.c.procedure_id))
        .outerjoin(Field, Field.id == procedure_field.c.field_id)
        .outerjoin(procedure_level, part(2, procedure_level.c.procedure_id))
        .outerjoin(Level, Level.id == procedure_level.c.level_id)
        .outerjoin(procedure_subject, part(3, procedure_subject.c.procedure_id))
        .outerjoin(Subject, Subject.id == procedure_subject.c.subject_id)
        .outerjoin(ProcedureAgency, part(4, ProcedureAgency.procedure_id))
        .outerjoin(Agency, Agency.id == ProcedureAgency.agency_id)
        .outerjoin(Step, part(5, Step.procedure_id))
        .outerjoin(Channel, part(6, Channel.procedure_id))
        .outerjoin(DossierItem, part(7, DossierItem.procedure_id))
        .outerjoin(ResultPart, part(8, ResultPart.procedure_id))
        .outerjoin(LegalBasis, part(9, LegalBasis.procedure_id))
        .outerjoin(RelatedProcedure, part(10, RelatedProcedure.procedure_id))
        .outerjoin(
            linked,
            and_(linked.code == RelatedProcedure.code, linked.status.in_(PUBLIC_STATUSES)),
        )
        .where(base.code == code, base.status.in_(PUBLIC_STATUSES))
        # Each collection in its relationship's order (the ids only settle ties).
        .order_by(
            n,
            Field.sort_name,
            Level.sort_name,
            Subject.sort_name,
            *(
                column
                for model in (ProcedureAgency, Step, Channel, DossierItem, ResultPart)
                for column in (model.position, model.id)
            ),
            LegalBasis.position,
            LegalBasis.id,
            RelatedProcedure.position,
            RelatedProcedure.id,
        )
    )
    rows = db.session.execute(query).all()
    if not rows:
        raise NotFound(_("Không tìm thấy thủ tục có mã “%(code)s”.", code=code))
    procedure = rows[0][1]
    collections: dict[str, list] = {name: [] for name in _PAGE_PARTS}
    related: dict[str, Procedure] = {}
    for row in rows[1:]:
        name, item = _PAGE_PARTS[row[0] - 1], row[row[0] + 2]
        if item is None:  # a collection the procedure lacks
            continue
        if name == "agency_links":
            set_committed_value(item, "agency", row[-2])
            set_committed_value(item, "procedure", procedure)
        elif name == "related" and row[-1] is not None:
            related[item.code] = row[-1]
        collections[name].append(item)
    set_committed_value(procedure, "replaced_by", rows[0][2])
    for name, items in collections.items():
        set_committed_value(procedure, name, items)
    return procedure, related


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
