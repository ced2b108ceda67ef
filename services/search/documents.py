"""The search document of a procedure: the Whoosh schema, and what of a procedure goes into
which field (folded and exact name, keywords, agency and lĩnh vực names, body text, codes and
numbers, facet values, the columns that ranking, sorting and snippets read).

index.py writes these documents; query.py and ranking.py read the fields back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from itertools import chain

from whoosh import columns, formats
from whoosh.analysis import STOP_WORDS
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, FieldType, Schema

from ..models import Procedure, Role
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
