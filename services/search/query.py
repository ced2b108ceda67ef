"""Queries: what people type becomes a plan built in code, never parsed as a query language.

The text is normalized, cut to MAX_WORDS tokens, folded (analysis.py) and read left to right
against the synonym dictionary: each dictionary phrase or remaining syllable becomes a
*concept*, a list of alternatives (as typed, then the dictionary's equivalents); compound
tokens ("1.001193", "163/QĐ-BTP") are kept whole as well as split. Every concept must match
(its typed words anywhere in the procedure, a dictionary equivalent as a phrase in the name,
keywords or agency, lĩnh vực, level and subject names); optional words ("thủ tục", "cách")
only add to the score.

Matching is set algebra on bitsets (snapshot.py); running a search with its ranking, spelling
help and facets is engine.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import analysis
from .snapshot import View
from .synonyms import Dictionary

MAX_CHARS = 300
MAX_WORDS = 12

ALL_FIELDS = ("name", "keywords", "context", "body")
SHORT_FIELDS = ("name", "keywords", "context")
NAME_FIELDS = ("name", "keywords")


# How much a match of each kind of alternative counts: the words as typed; the equivalents of
# an abbreviation; the words typed for a one-way rule (everyday words, English: folded, "sổ
# đỏ" is also "sơ đồ") and the formal words that rule names.
TYPED = 1.0
EQUIVALENT = 0.95
EVERYDAY_TYPED = 0.95
EVERYDAY_TARGET = 1.0


@dataclass(frozen=True)
class Alternative:
    """One way a concept may appear: folded syllables; `typed` when the user wrote them (not
    the dictionary); `whole` for a compound token kept whole; `exact`, for typed words, the
    spelling with diacritics when the user gave one (None where not)."""

    syllables: tuple[str, ...]
    typed: bool = True
    whole: str | None = None
    weight: float = TYPED
    exact: tuple[str | None, ...] = ()


@dataclass
class Concept:
    """One thing the query asks for."""

    alternatives: list[Alternative]
    optional: bool = False
    exact: tuple[str, ...] = ()  # the words as typed, when they carry diacritics
    words: tuple[int, int] = (0, 0)  # which typed words it covers

    @property
    def typed(self) -> Alternative:
        return self.alternatives[0]


@dataclass
class Plan:
    """A parsed query."""

    text: str
    words: list[analysis.Word]
    concepts: list[Concept]
    truncated: bool = False

    @property
    def required(self) -> list[Concept]:
        return [c for c in self.concepts if not c.optional]

    def terms(self) -> set[str]:
        """Every folded term the query may match, for highlighting."""
        out: set[str] = set()
        for concept in self.concepts:
            for alt in concept.alternatives:
                out.update(alt.syllables)
                if alt.whole:
                    out.add(alt.whole)
        return out


def parse(text: str, dictionary: Dictionary) -> Plan:
    """Turn user text into a plan (no syntax: every character is plain text)."""
    text = analysis.normalize(text)
    truncated = len(text) > MAX_CHARS
    words = analysis.words(text[:MAX_CHARS])
    truncated = truncated or len(words) > MAX_WORDS
    words = words[:MAX_WORDS]
    concepts: list[Concept] = []
    i = 0
    while i < len(words):
        if words[i].is_compound:
            word = words[i]
            alternatives = [Alternative((word.folded,), whole=word.folded)]
            if len(word.parts) > 1:
                alternatives.append(Alternative(tuple(word.parts)))
            concepts.append(Concept(alternatives, exact=_accented([word]), words=(i, i + 1)))
            i += 1
            continue
        j = i
        while j < len(words) and not words[j].is_compound:
            j += 1
        syllables = [w.folded for w in words[i:j]]
        k = 0
        while k < len(syllables):
            rule = dictionary.match(syllables, k)
            length = rule.length or 1
            span = words[i + k : i + k + length]
            exact = tuple(
                analysis.accent_key(w.exact) if w.exact != w.folded else None for w in span
            )
            typed = Alternative(
                tuple(syllables[k : k + length]),
                weight=EVERYDAY_TYPED if rule.one_way else TYPED,
                exact=exact,
            )
            weight = EVERYDAY_TARGET if rule.one_way else EQUIVALENT
            others = [Alternative(other, False, weight=weight) for other in rule.alternatives]
            concepts.append(
                Concept([typed, *others], rule.optional, _accented(span), (i + k, i + k + length))
            )
            k += length
        i = j
    if concepts and all(c.optional for c in concepts):
        for concept in concepts:
            concept.optional = False
    return Plan(text[:MAX_CHARS], words, concepts, truncated)


def _accented(words: list[analysis.Word]) -> tuple[str, ...]:
    return tuple(analysis.accent_key(w.exact) for w in words if w.exact != w.folded)


# --- matching -----------------------------------------------------------------------------------


def _in_fields(view: View, fields: tuple[str, ...], term: str) -> int:
    bits = 0
    for name in fields:
        bits |= view.bits(name, term)
    return bits


def alternative_bits(view: View, alt: Alternative, fields: tuple[str, ...] = ALL_FIELDS) -> int:
    """Documents where an alternative appears: typed words anywhere in `fields`; dictionary
    phrases only as phrases in the short fields (where pairs are indexed)."""
    if alt.whole:
        return (
            view.bits("refs", alt.whole)
            | view.bits("code", alt.whole)
            | _in_fields(view, fields, alt.whole)
        )
    if not alt.typed:
        fields = tuple(f for f in fields if f in SHORT_FIELDS)
    bits = view.live
    for syllable in alt.syllables:
        bits &= _in_fields(view, fields, syllable)
        if not bits:
            return 0
    if not alt.typed:
        for term in analysis.pairs(list(alt.syllables)):
            bits &= view.bits("pairs", term)
    return bits


def concept_bits(view: View, concept: Concept, fields: tuple[str, ...] = ALL_FIELDS) -> int:
    """Documents where any alternative of a concept appears."""
    bits = 0
    for alt in concept.alternatives:
        bits |= alternative_bits(view, alt, fields)
    return bits


def match(view: View, plan: Plan) -> int:
    """Documents that hold every required concept."""
    bits = view.live
    for concept in plan.required:
        bits &= concept_bits(view, concept)
        if not bits:
            break
    return bits


def match_all_but_one(view: View, plan: Plan) -> int:
    """Documents that hold all required concepts but one (for a query that finds nothing)."""
    required = [concept_bits(view, c) for c in plan.required]
    if len(required) < 2:
        return 0
    bits = 0
    for skip in range(len(required)):
        part = view.live
        for i, concept in enumerate(required):
            if i != skip:
                part &= concept
        bits |= part
    return bits


def idf(view: View, bits: int) -> float:
    """How telling a match is: rarer is worth more."""
    return math.log(1 + view.count / (1 + bits.bit_count()))
