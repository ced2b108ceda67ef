"""What the public pages read: site settings, agencies, lĩnh vực, procedures and the counts to
browse by. Readers return model objects loaded with what the page shows (no query per row).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from flask import g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..db import db
from ..errors import NotFound
from ..models import (
    Agency,
    Field,
    Level,
    Procedure,
    ProcedureAgency,
    Role,
    SiteSettings,
    Status,
    Subject,
    procedure_field,
    procedure_level,
    procedure_subject,
)
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
