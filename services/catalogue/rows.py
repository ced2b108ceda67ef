"""What a page reads in ONE statement: the procedure page with every part it shows, and the
lines of a list of procedures (search results, the API's results) as small plain rows.

Both join a table of numbers to the procedure (`_numbers`): row n is outer-joined to the n-th
collection only, so a procedure gives one row per part, or one empty row for a collection it
lacks, never a product of its collections. The procedure page's rows are ORM objects whose
collections are set as the ORM would set them (`set_committed_value`); a list's lines are
plain columns in dataclasses that have the attributes the templates and the API read of a
Procedure. queries.FULL_PROCEDURE and LIST_PROCEDURE stay for the readers that want ORM
objects loaded by the ORM (the index, printing, the editor, the CSV).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, and_, bindparam, literal_column, select, true, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from ..db import db
from ..errors import NotFound
from ..models import (
    Agency,
    AgencyLinks,
    Channel,
    DossierItem,
    Field,
    LegalBasis,
    Level,
    Procedure,
    ProcedureAgency,
    RelatedProcedure,
    Status,
    Step,
    Subject,
    procedure_field,
    procedure_level,
    procedure_subject,
)
from ..models import Result as ResultPart
from .queries import PUBLIC_STATUSES


def _numbers(count: int):
    """A table of the numbers 0 to `count - 1` (column `n`). Joined to one row, it makes one
    statement load several collections side by side: row n is outer-joined to the n-th
    collection only, so a procedure gives one row per part (or one empty row per collection
    it lacks), never a product of its collections."""
    numbers = [select(literal_column(str(n), Integer).label("n")) for n in range(count)]
    return union_all(*numbers).subquery("numbers")


# --- the lines of a list --------------------------------------------------------------------------


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
class ListedProcedure(AgencyLinks):
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


def listed_procedures(
    ids: list[int], status: Status = Status.PUBLISHED, parts: dict | None = None
) -> dict[int, ListedProcedure]:
    """The procedures among `ids` that have `status`, keyed by id, as lines of a list: in ONE
    statement of plain columns (row 0 of a procedure is the procedure, rows 1, 2 and 3 its
    lĩnh vực, levels and agency links, see _numbers), no ORM object built.

    `parts`, kept by a caller that keeps many lines, holds one copy of each lĩnh vực, level,
    agency and link they show (a few hundred for a whole catalogue), which the lines share:
    none of these is ever changed once listed."""
    if not ids:
        return {}
    shared = {} if parts is None else parts
    found: dict[int, ListedProcedure] = {}
    rows = db.session.execute(_lines(), {"ids": ids, "status": str(status)}).tuples()
    for row in rows:
        kind, procedure_id = row[0], row[1]
        if kind == 0:
            found[procedure_id] = ListedProcedure(*row[1:8])
        elif kind == 1 and row[8] is not None:
            found[procedure_id].fields.append(_part(shared, ListedName, row[8:11]))
        elif kind == 2 and row[11] is not None:
            found[procedure_id].levels.append(_part(shared, ListedName, row[11:13]))
        elif kind == 3 and row[13] is not None:
            key = (ListedLink, *row[14:21])
            link = shared.get(key)
            if link is None:
                agency = _part(shared, ListedAgency, row[16:21]) if row[16] is not None else None
                link = shared[key] = ListedLink(row[14], row[15], agency)
            found[procedure_id].agency_links.append(link)
    return found


def _part(parts: dict, kind: type, values: tuple):
    """The one `kind` made of `values` among `parts`."""
    key = (kind, *values)
    found = parts.get(key)
    if found is None:
        found = parts[key] = kind(*values)
    return found


@cache
def _lines() -> Select:
    """The statement of listed_procedures, built once (building it costs more than running
    it); `ids` and `status` are its parameters."""
    numbers = _numbers(4)
    n = numbers.c.n
    return (
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
        .where(
            Procedure.id.in_(bindparam("ids", expanding=True)),
            Procedure.status == bindparam("status"),
        )
        .order_by(
            Procedure.id,
            n,
            Field.sort_name,
            Level.sort_name,
            ProcedureAgency.position,
            ProcedureAgency.id,
        )
    )


# --- the procedure page ---------------------------------------------------------------------------


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
    rows = db.session.execute(_page(), {"code": code}).all()
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


@cache
def _page() -> Select:
    """The statement of procedure_page, built once; `code` is its parameter."""
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
    return (
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
        .where(base.code == bindparam("code"), base.status.in_(PUBLIC_STATUSES))
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
