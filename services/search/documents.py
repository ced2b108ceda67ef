"""The search document of a procedure: the Whoosh schema, and what of a procedure goes into
which field (folded and exact name, keywords, agency and lĩnh vực names, body text, codes and
numbers, facet values, the columns that ranking, sorting and snippets read).

index.py writes these documents; query.py and ranking.py read the fields back. A full rebuild
reads procedures with `batches()`: plain rows of just the columns `document` and `passage`
read, a few queries per thousand procedures, instead of ORM objects (most of a rebuild's
loading time went into building those). Whatever `document` reads must be loaded there too:
tests/test_search_rebuild.py compares both ways on the real catalogue.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import NamedTuple

from sqlalchemy import select
from whoosh import columns, formats
from whoosh.analysis import STOP_WORDS
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, FieldType, Schema

from ..db import db
from ..models import (
    Agency,
    Channel,
    DossierItem,
    Field,
    LegalBasis,
    Level,
    Procedure,
    ProcedureAgency,
    Result,
    Role,
    Step,
    Subject,
)
from ..models.catalogue import procedure_field, procedure_level, procedure_subject
from .analysis import (
    ExactPairAnalyzer,
    SyllablePairAnalyzer,
    VietnameseAnalyzer,
    fold_word,
    syllables,
)

# Bump when the schema or the analysis changes: an index of another version is rebuilt at start.
SCHEMA_VERSION = 2
SUMMARY_LENGTH = 700
PASSAGE_DESCRIPTION = 200


def _terms(analyzer) -> FieldType:
    """An indexed set of terms: which documents hold a term, nothing more (ranking is done by
    services.search.query, not by Whoosh's scorer)."""
    # Scorable only so that Whoosh keeps a length column: without one its writer checks the
    # disk for that column once per posting, which tripled the time of a rebuild.
    return FieldType(formats.Existence(), analyzer, scorable=True)


def schema() -> Schema:
    """The fields of a procedure's search document."""
    folded = VietnameseAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        code=ID(),
        digest=STORED(),
        status=ID(),
        name=_terms(folded),
        name_exact=_terms(VietnameseAnalyzer(exact=True)),
        keywords=_terms(folded),
        context=_terms(folded),
        body=_terms(folded),
        pairs=_terms(SyllablePairAnalyzer()),
        pairs_exact=_terms(ExactPairAnalyzer()),
        refs=_terms(VietnameseAnalyzer(whole=True)),
        agency=KEYWORD(commas=True, scorable=True),
        field=KEYWORD(commas=True, scorable=True),
        level=KEYWORD(commas=True, scorable=True),
        subject=KEYWORD(commas=True, scorable=True),
        online=ID(),
        stored_code=STORED(),
        title=COLUMN(columns.VarBytesColumn()),
        kw=COLUMN(columns.VarBytesColumn()),
        ctx=COLUMN(columns.VarBytesColumn()),
        summary=COLUMN(columns.CompressedBytesColumn()),
        sort_name=COLUMN(columns.VarBytesColumn()),
        code_key=COLUMN(columns.VarBytesColumn()),
        updated=COLUMN(columns.NumericColumn("q")),
        name_length=COLUMN(columns.NumericColumn("H")),
        # The passage's embedding (vectors.py), b"" when none could be made.
        vector=COLUMN(columns.VarBytesColumn()),
    )


def _lines(values: Iterable[str | None]) -> str:
    return "\n".join(v for v in values if v)


def english(text: str) -> str:
    """Staff's English as searched: without the English stop words ("to", "an", "a"), which
    fold to Vietnamese syllables (tờ, ân, á) and would match Vietnamese queries."""
    return " ".join(word for word in text.split() if word.lower().strip(",.;:()") not in STOP_WORDS)


def _context(procedure: Procedure) -> str:
    """The names around a procedure, each once: its English name (so that an English query
    finds it), its agencies (their name, the name published with the procedure, their short
    and English names), lĩnh vực (and their English names), levels and subjects."""
    agency_names = chain.from_iterable(
        (
            link.display_name,
            link.name,
            link.agency.short_name if link.agency else "",
            english(link.agency.name_en) if link.agency else "",
        )
        for link in procedure.agency_links
    )
    return _lines(
        dict.fromkeys(
            chain(
                [english(procedure.name_en)],
                agency_names,
                chain.from_iterable((f.name, english(f.name_en)) for f in procedure.fields),
                (level.name for level in procedure.levels),
                (s.name for s in procedure.subjects),
            )
        )
    )


def _body(procedure: Procedure) -> str:
    """Every other text of a procedure: what it is, steps, dossier, results, legal bases,
    channels, where to apply."""
    return _lines(
        chain(
            [procedure.description, english(procedure.summary_en), procedure.requirements],
            (step.text for step in procedure.steps),
            chain.from_iterable(
                (d.group, d.name, d.note, d.template_name) for d in procedure.dossier
            ),
            (r.name for r in procedure.results),
            chain.from_iterable((b.number, b.title, b.issuer) for b in procedure.legal_bases),
            chain.from_iterable(
                (c.time_limit_text, c.fee_text, c.note) for c in procedure.channels
            ),
            [procedure.receiving_address, procedure.procedure_type, procedure.abolished_reason],
        )
    )


def _refs(procedure: Procedure) -> str:
    """The codes and numbers people search by, each kept whole."""
    return _lines(
        chain(
            [procedure.code, procedure.decision_number],
            (b.number for b in procedure.legal_bases),
            (r.code for r in procedure.results),
        )
    )


def _summary(procedure: Procedure) -> str:
    """The text snippets are cut from, the most telling first."""
    return _lines(
        chain(
            [procedure.description],
            (r.name for r in procedure.results),
            [procedure.requirements],
            (d.name for d in procedure.dossier),
            (step.text for step in procedure.steps),
        )
    )[:SUMMARY_LENGTH]


def passage(procedure: Procedure) -> str:
    """What the document's vector is made from: the name, the lĩnh vực and a short
    description (the description, else the results), in a sentence or two."""
    parts = [procedure.name]
    fields = ", ".join(f.name for f in procedure.fields)
    if fields:
        parts.append(f"Lĩnh vực: {fields}")
    described = procedure.description or "; ".join(r.name for r in procedure.results)
    if described:
        parts.append(described[:PASSAGE_DESCRIPTION])
    return ". ".join(part.rstrip(". ") for part in parts)


def _facets(procedure: Procedure) -> dict[str, str]:
    """The facet values of a procedure (slugs, comma-separated); the agency facet counts only
    the agencies that implement it."""
    implementing = [
        link.agency.slug for link in procedure.agencies(Role.IMPLEMENTING) if link.agency
    ]
    return {
        "agency": ",".join(dict.fromkeys(implementing)),
        "field": ",".join(f.slug for f in procedure.fields),
        "level": ",".join(level.slug for level in procedure.levels),
        "subject": ",".join(s.slug for s in procedure.subjects),
        "online": procedure.online_level or "none",
    }


def _digest(text: dict) -> str:
    """A fingerprint of what the document says, so that `check` finds documents indexed from
    older data."""
    return hashlib.sha1(json.dumps(text, sort_keys=True).encode()).hexdigest()


def document(procedure: Procedure) -> dict:
    """The search document of a procedure (loaded with queries.FULL_PROCEDURE)."""
    keywords = _lines(procedure.keywords or [])
    context = _context(procedure)
    searched = {
        "name": procedure.name,
        "keywords": keywords,
        "context": context,
        "body": _body(procedure),
        "refs": _refs(procedure),
    }
    facets = _facets(procedure)
    summary = _summary(procedure)
    updated = int(procedure.updated_at.timestamp()) if procedure.updated_at else 0
    digest = _digest(
        {
            "code": procedure.code,
            "status": procedure.status,
            **searched,
            **facets,
            "summary": summary,
            "sort_name": procedure.sort_name,
            "updated": updated,
        }
    )
    return {
        "id": str(procedure.id),
        "code": fold_word(procedure.code),
        "stored_code": procedure.code,
        "digest": digest,
        "status": procedure.status,
        **searched,
        "name_exact": procedure.name,
        "pairs": _lines([procedure.name, keywords, context]),
        "pairs_exact": _lines([procedure.name, keywords]),
        **facets,
        "title": procedure.name.encode(),
        "kw": keywords.encode(),
        "ctx": context.encode(),
        "summary": summary.encode(),
        "sort_name": procedure.sort_name.encode(),
        "code_key": procedure.code.encode(),
        "updated": updated,
        "name_length": min(len(syllables(procedure.name)), 65535),
    }


# --- loading for a rebuild ----------------------------------------------------------------------
# Plain rows standing for a procedure and its parts, with the attributes (and the one method)
# that `document` and `passage` read, in the order of the ORM relationships.

LOAD_BATCH = 1000


class _Named(NamedTuple):  # a lĩnh vực, level or subject
    id: int
    name: str
    name_en: str
    slug: str
    sort_name: str


class _Agency(NamedTuple):
    name: str
    short_name: str
    name_en: str
    slug: str


class _Link(NamedTuple):
    role: str
    name: str
    agency: _Agency | None

    @property
    def display_name(self) -> str:
        return self.agency.name if self.agency is not None else self.name


class _Step(NamedTuple):
    text: str


class _Channel(NamedTuple):
    time_limit_text: str
    fee_text: str
    note: str


class _Dossier(NamedTuple):
    group: str
    name: str
    note: str
    template_name: str


class _Result(NamedTuple):
    name: str
    code: str | None


class _Basis(NamedTuple):
    number: str
    title: str
    issuer: str


_COLUMNS = (
    Procedure.id,
    Procedure.code,
    Procedure.name,
    Procedure.name_en,
    Procedure.summary_en,
    Procedure.sort_name,
    Procedure.status,
    Procedure.decision_number,
    Procedure.procedure_type,
    Procedure.receiving_address,
    Procedure.online_level,
    Procedure.keywords,
    Procedure.description,
    Procedure.requirements,
    Procedure.abolished_reason,
    Procedure.updated_at,
)
# The ordered parts: (attribute, model, the columns read, the row type).
_PARTS = (
    ("steps", Step, (Step.text,), _Step),
    ("channels", Channel, (Channel.time_limit_text, Channel.fee_text, Channel.note), _Channel),
    (
        "dossier",
        DossierItem,
        (DossierItem.group, DossierItem.name, DossierItem.note, DossierItem.template_name),
        _Dossier,
    ),
    ("results", Result, (Result.name, Result.code), _Result),
    ("legal_bases", LegalBasis, (LegalBasis.number, LegalBasis.title, LegalBasis.issuer), _Basis),
)


class Loaded:
    """A procedure as `document` and `passage` read it, loaded by `batches`."""

    __slots__ = (
        *(column.key for column in _COLUMNS),
        "fields",
        "levels",
        "subjects",
        "agency_links",
        *(part[0] for part in _PARTS),
    )
    id: int
    code: str
    name: str
    status: str
    updated_at: datetime | None

    def __init__(self, row) -> None:
        for column, value in zip(_COLUMNS, row, strict=True):
            setattr(self, column.key, value)
        for name in ("fields", "levels", "subjects", "agency_links", *(p[0] for p in _PARTS)):
            setattr(self, name, [])

    def agencies(self, role: Role | str) -> list[_Link]:
        """The agency links of one role, in order (as Procedure.agencies)."""
        return [link for link in self.agency_links if link.role == role]


def _named(model) -> dict[int, _Named]:
    english = (model.name_en,) if hasattr(model, "name_en") else ()
    rows = db.session.execute(select(model.id, model.name, model.slug, model.sort_name, *english))
    return {
        row[0]: _Named(row[0], row[1], (row[4] or "") if english else "", row[2], row[3] or "")
        for row in rows
    }


def _attach_named(loaded: dict[int, Loaded], first: int, last: int, named: list) -> None:
    for attribute, key, table, lookup in named:
        rows = db.session.execute(
            select(table.c.procedure_id, key).where(table.c.procedure_id.between(first, last))
        )
        for procedure_id, item_id in rows:
            if procedure_id in loaded and item_id in lookup:
                getattr(loaded[procedure_id], attribute).append(lookup[item_id])
        for procedure in loaded.values():
            getattr(procedure, attribute).sort(key=lambda item: (item.sort_name, item.id))


def _attach_links(loaded: dict[int, Loaded], first: int, last: int, agencies: dict) -> None:
    links = db.session.execute(
        select(
            ProcedureAgency.procedure_id,
            ProcedureAgency.role,
            ProcedureAgency.name,
            ProcedureAgency.agency_id,
        )
        .where(ProcedureAgency.procedure_id.between(first, last))
        .order_by(ProcedureAgency.procedure_id, ProcedureAgency.position, ProcedureAgency.id)
    )
    for procedure_id, role, name, agency_id in links:
        if procedure_id in loaded:
            agency = agencies.get(agency_id) if agency_id is not None else None
            loaded[procedure_id].agency_links.append(_Link(role, name or "", agency))


def _attach_parts(loaded: dict[int, Loaded], first: int, last: int) -> None:
    for attribute, model, read, kind in _PARTS:
        rows = db.session.execute(
            select(model.procedure_id, *read)
            .where(model.procedure_id.between(first, last))
            .order_by(model.procedure_id, model.position, model.id)
        )
        for procedure_id, *values in rows:
            if procedure_id in loaded:
                getattr(loaded[procedure_id], attribute).append(kind(*values))


def batches(size: int = LOAD_BATCH) -> Iterator[list[Loaded]]:
    """Every procedure, in order of id, as `Loaded` rows, `size` at a time: one query for the
    procedures of a batch and one per kind of part (by a range of ids, so no list of ids is
    sent), the lĩnh vực, levels, subjects and agencies read once."""
    named = [
        ("fields", procedure_field.c.field_id, procedure_field, _named(Field)),
        ("levels", procedure_level.c.level_id, procedure_level, _named(Level)),
        ("subjects", procedure_subject.c.subject_id, procedure_subject, _named(Subject)),
    ]
    agencies = {
        row[0]: _Agency(row[1], row[2] or "", row[3] or "", row[4])
        for row in db.session.execute(
            select(Agency.id, Agency.name, Agency.short_name, Agency.name_en, Agency.slug)
        )
    }
    last: int | None = None
    while True:
        query = select(*_COLUMNS).order_by(Procedure.id).limit(size)
        if last is not None:
            query = query.where(Procedure.id > last)
        loaded = {row[0]: Loaded(row) for row in db.session.execute(query)}
        if not loaded:
            return
        first, last = min(loaded), max(loaded)
        _attach_named(loaded, first, last, named)
        _attach_links(loaded, first, last, agencies)
        _attach_parts(loaded, first, last)
        yield list(loaded.values())
