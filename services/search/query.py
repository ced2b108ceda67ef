"""Queries: what people type becomes a plan built in code, never parsed as a query language.

The text is normalized, cut to MAX_WORDS tokens, folded (analysis.py) and read left to right
against the synonym dictionary: each dictionary phrase or remaining syllable becomes a
*concept*, a list of alternatives (as typed, then the dictionary's equivalents); compound
tokens ("1.001193", "163/QĐ-BTP") are kept whole as well as split. Every concept must match
(its typed words anywhere in the procedure, a dictionary equivalent as a phrase in the name,
keywords or agency, lĩnh vực, level and subject names); optional words ("thủ tục", "cách")
only add to the score.

Matching is set algebra on bitsets (snapshot.py); ranking is two-stage (ranking.py); when a
query finds little, corrected spellings (spelling.py) and then all-but-one-word matches are
tried. Facet counts are taken over every match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import analysis, ranking, spelling
from .snapshot import View, members
from .synonyms import Dictionary

MAX_CHARS = 300
MAX_WORDS = 12
FEW = 3
MAX_RESULTS = 10_000
SORT_IN_PLACE = 2000  # fewer matches than this are sorted by reading their keys one by one

ALL_FIELDS = ("name", "keywords", "context", "body")
SHORT_FIELDS = ("name", "keywords", "context")
NAME_FIELDS = ("name", "keywords")
FACETS = ("agency", "field", "level", "subject", "online")
SORTS = ("relevance", "name", "code", "updated")


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


# --- running a search ---------------------------------------------------------------------------


@dataclass
class Request:
    """A search as the engine sees it: text, facet filters (facet → value), order, page."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass
class Outcome:
    """What a search found: the page of document numbers, totals, facets and help."""

    total: int
    docnums: list[int]
    facets: dict[str, list[tuple[str, int]]]
    terms: set[str]
    suggestion: str | None = None
    corrected: bool = False  # the results are those of `suggestion` (the query found nothing)
    relaxed: bool = False  # no procedure holds every word; these hold all but one
    truncated: bool = False
    nearby: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    scores: dict[int, float] = field(default_factory=dict)


def _filter_bits(view: View, filters: dict[str, str], skip: str | None = None) -> int:
    bits = view.live
    for name, value in filters.items():
        if name != skip:
            bits &= view.bits(name, value)
    return bits


def facet_values(view: View, name: str) -> list[tuple[str, int]]:
    """Each value of a facet with its documents, once per state of the index."""
    return view.memo(
        ("facet", name), lambda: [(value, view.bits(name, value)) for value in view.lexicon(name)]
    )


def facet_counts(view: View, matched: int, filters: dict[str, str]) -> dict:
    """For each facet, the count of each value among the matches, with the other facets'
    filters applied (so one can switch between values of a facet)."""
    out: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        base = matched & _filter_bits(view, filters, skip=name)
        counts = []
        if base:
            for value, bits in facet_values(view, name):
                n = (base & bits).bit_count()
                if n:
                    counts.append((value, n))
        counts.sort(key=lambda item: -item[1])
        out[name] = counts
    return out


def run(view: View, request: Request, dictionary: Dictionary) -> Outcome:
    """Search the index as one thread sees it now."""
    plan = parse(request.q, dictionary)
    public = view.bits("status", "published")
    need = min(request.page * request.per_page, MAX_RESULTS)
    if not plan.concepts:
        return _browse(view, request, plan.truncated, public, need)
    found = _matches(view, plan, public, dictionary)
    filters = _filter_bits(view, request.filters)
    results = found.matched & filters
    outcome = Outcome(
        total=results.bit_count(),
        docnums=[],
        facets=facet_counts(view, found.matched, request.filters),
        terms=set().union(*(p.terms() for p, _ in found.plans)),
        suggestion=found.suggestion,
        corrected=found.corrected,
        relaxed=found.relaxed,
        truncated=plan.truncated,
    )
    if request.sort == "relevance":
        order = _ranked(view, found.plans, filters, need, outcome.scores)
    else:
        order = _sorted(view, results, request.sort, need)
    outcome.docnums = _page(order, request, need)
    if not results:
        outcome.nearby = _nearby(view, plan, public)
    return outcome


def _browse(view: View, request: Request, truncated: bool, public: int, need: int) -> Outcome:
    """A search without words: every published procedure the filters keep, in name order
    unless another was asked for."""
    results = public & _filter_bits(view, request.filters)
    outcome = Outcome(results.bit_count(), [], facet_counts(view, public, request.filters), set())
    order = _sorted(view, results, "name" if request.sort == "relevance" else request.sort, need)
    outcome.docnums = _page(order, request, need)
    outcome.truncated = truncated
    return outcome


def _page(order: list[int], request: Request, need: int) -> list[int]:
    return order[(request.page - 1) * request.per_page : need]


@dataclass
class _Matches:
    """What a query matched, and the plans that rank it in order: its own and a corrected
    spelling's (either first); or, when nothing matched, its own over the documents that hold
    all its words but one (`relaxed`)."""

    plans: list[tuple[Plan, int]]
    matched: int
    suggestion: str | None = None
    corrected: bool = False
    relaxed: bool = False


def _matches(view: View, plan: Plan, public: int, dictionary: Dictionary) -> _Matches:
    """The published documents a plan matches; when they are few, with those of a corrected
    spelling; when there are none, those that hold all its words but one."""
    matched = match(view, plan) & public
    found = _Matches([(plan, matched)], matched)
    if matched.bit_count() < FEW:
        _add_correction(view, found, public, dictionary)
    if not found.matched:
        loose = match_all_but_one(view, plan) & public
        if loose:
            found.plans, found.matched, found.relaxed = [(plan, loose)], loose, True
    return found


def _add_correction(view: View, found: _Matches, public: int, dictionary: Dictionary) -> None:
    """Add what a corrected spelling of the query finds beyond what it found as typed."""
    plan, matched = found.plans[0]
    suggestion = spelling.correct(view, plan)
    fixed = parse(suggestion, dictionary) if suggestion else None
    fixed_matched = match(view, fixed) & public if fixed else 0
    if not (fixed and fixed_matched & ~matched):
        return
    found.suggestion = suggestion
    if ranking.named(view, fixed, fixed_matched) and not ranking.named(view, plan, matched):
        # The words as typed occur only in body text, the corrected ones in names: show what
        # the user most likely meant first.
        found.plans = [(fixed, fixed_matched), (plan, matched & ~fixed_matched)]
        found.corrected = True
    else:
        found.plans.append((fixed, fixed_matched & ~matched))
    found.matched = matched | fixed_matched


def _ranked(
    view: View, plans: list[tuple[Plan, int]], filters: int, need: int, scores: dict[int, float]
) -> list[int]:
    """The first `need` documents by relevance, each plan's matches after the previous plan's;
    their scores go into `scores`."""
    order: list[int] = []
    for plan, bits in plans:
        if len(order) >= need:
            break
        for docnum, score in ranking.order(view, plan, bits & filters, need - len(order)):
            order.append(docnum)
            scores[docnum] = score
    return order


def _sorted(view: View, bits: int, sort: str, need: int) -> list[int]:
    """The first `need` documents of `bits` in name, code or update order (newest first)."""
    column = {"name": "sort_name", "code": "code_key", "updated": "updated"}[sort]
    descending = sort == "updated"
    if bits.bit_count() <= SORT_IN_PLACE:
        docs = members(bits)
        if descending:
            docs.sort(key=lambda d: (-view.value(column, d), d))
        else:
            docs.sort(key=lambda d: (view.value(column, d), d))
        return docs[:need]
    order = view.order(column, descending)
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    out = []
    for d in order:
        if d >> 3 < len(data) and data[d >> 3] >> (d & 7) & 1:
            out.append(d)
            if len(out) >= need:
                break
    return out


def _nearby(view: View, plan: Plan, public: int) -> dict[str, list[tuple[str, int]]]:
    """Agencies and lĩnh vực where any word of a query that found nothing appears."""
    loose = 0
    for concept in plan.concepts:
        loose |= concept_bits(view, concept, SHORT_FIELDS)
    loose &= public
    counts = facet_counts(view, loose, {})
    return {name: counts[name][:5] for name in ("agency", "field")}


def idf(view: View, bits: int) -> float:
    """How telling a match is: rarer is worth more."""
    return math.log(1 + view.count / (1 + bits.bit_count()))
