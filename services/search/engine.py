"""Running a search on the index: match the query's plan (query.py), rank the matches in two
stages (ranking.py) or sort them, and when a query finds little try corrected spellings
(spelling.py), then documents that hold some of its words. Ranked by relevance, the first
places fuse the words' ranking with the nearest vectors (fusion.py), which may add procedures
the words missed. Facet counts are taken over every result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import analysis, fusion, ranking, spelling
from .query import (
    SHORT_FIELDS,
    Plan,
    concept_bits,
    everything_required,
    match,
    match_any,
    parse,
)
from .snapshot import View, members
from .synonyms import Dictionary

FEW = 3
MAX_RESULTS = 10_000
SORT_IN_PLACE = 2000  # fewer matches than this are sorted by reading their keys one by one
FACETS = ("agency", "field", "level", "subject", "online")
SORTS = ("relevance", "name", "code", "updated")
# The column each sort but relevance reads, and whether it runs from the largest value.
SORT_COLUMNS = {
    "name": ("sort_name", False),
    "code": ("code_key", False),
    "updated": ("updated", True),
}


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
    relaxed: bool = False  # no procedure holds every word; these hold some of them
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
    return view.memo(("facet", name), lambda: view.facet(name))


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


# Starts embedding texts (the query as typed, and as names write it) and returns what waits for
# their vector: None when it could not be had (words only).
Meaning = Callable[[list[str]], Callable[[], Any]]


def run(
    view: View, request: Request, dictionary: Dictionary, meaning: Meaning | None = None
) -> Outcome:
    """Search the index as one thread sees it now; `meaning` gives the query's vector when
    the semantic ranking is wanted (fusion.py)."""
    plan = parse(request.q, dictionary, view)
    public = view.bits("status", "published")
    need = min(request.page * request.per_page, MAX_RESULTS)
    if not plan.concepts:
        return _browse(view, request, plan.truncated, public, need)
    wanted = meaning is not None and request.sort == "relevance" and fusion.wanted(plan)
    vector = meaning(_meaning_texts(view, plan)) if wanted else None  # runs meanwhile
    found = _matches(view, plan, public, dictionary)
    filters = _filter_bits(view, request.filters)
    semantic: list[int] = []
    lexical: list[int] = []
    scores: dict[int, float] = {}
    if request.sort == "relevance":
        lexical = _ranked(view, found.plans, filters, need + fusion.WINDOW, scores)
        if vector is not None:
            if found.corrected:  # found once corrected: it means what the correction says
                fixed = found.plans[0][0]
                vector = meaning(_meaning_texts(view, fixed))
            semantic = _semantic(view, plan, found, lexical, public, filters, vector)
    results = found.matched & filters
    outcome = Outcome(
        total=results.bit_count(),
        docnums=[],
        facets=facet_counts(view, found.matched, request.filters),
        terms=set().union(*(p.terms() for p, _, _ in found.plans)),
        suggestion=found.suggestion,
        corrected=found.corrected,
        relaxed=found.relaxed,
        truncated=plan.truncated,
    )
    outcome.scores = scores
    if request.sort == "relevance":
        exact = ranking.exact(view, *found.plans[0][:2]) if semantic else 0
        order = fusion.fuse(lexical, semantic, found.semantic_weight, exact)
    else:
        order = _sorted(view, results, request.sort, need)
    outcome.docnums = _page(order, request, need)
    if not results:
        outcome.nearby = _nearby(view, plan, public)
    return outcome


def _meaning_texts(view: View, plan: Plan) -> list[str]:
    """What to embed: the query as names would write it; with it, for a Vietnamese query typed
    with diacritics whose words were replaced (everyday words, abbreviations), the query as
    typed (their vectors are averaged)."""
    written = spelling.as_names_write(view, plan)
    kept = [w.folded for c in plan.required for w in plan.words[c.words[0] : c.words[1]]]
    if plan.english or plan.text.isascii() or analysis.syllables(written) == kept:
        return [written]  # nothing but framing words left out: one vector says it
    return [written, plan.text]


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
    some of its words (`relaxed`: a partial ranking). Semantic results may join them."""

    plans: list[tuple[Plan, int, bool]]  # plan, its documents, ranked as partial matches
    matched: int
    suggestion: str | None = None
    corrected: bool = False
    relaxed: bool = False
    semantic_weight: float = 0.0


def _matches(view: View, plan: Plan, public: int, dictionary: Dictionary) -> _Matches:
    """The published documents a plan matches; when they are few, with those of a corrected
    spelling; when there are none, those that hold some of its words."""
    matched = match(view, plan) & public
    found = _Matches([(plan, matched, False)], matched)
    if matched.bit_count() < FEW or spelling.accents_wrong(view, plan):
        _add_correction(view, found, public, dictionary)
    if not any(ranking.named(view, p, bits) for p, bits, _ in found.plans):
        # No name holds the whole query (a question, a need told in many words): rank by how
        # much of it each procedure holds, the strict matches among them.
        ranked_plan = found.plans[0][0]
        loose = ranking.partial_pool(view, ranked_plan, match_any(view, ranked_plan) & public)
        if not (loose | found.matched):
            ranked_plan = everything_required(ranked_plan)
            loose = ranking.partial_pool(view, ranked_plan, match_any(view, ranked_plan) & public)
        if loose | found.matched:
            found.relaxed = not found.matched
            found.matched |= loose
            found.plans = [(ranked_plan, found.matched, True)]
    return found


def _semantic(
    view: View,
    plan: Plan,
    found: _Matches,
    lexical: list[int],
    public: int,
    filters: int,
    vector: Callable[[], Any],
) -> list[int]:
    """The nearest documents to the query's meaning, for fusion: those the words found, and as
    many others as the query's weight admits (added to `found.matched`)."""
    if filters != view.live:
        # How well the words served the query is a matter of the catalogue, not the filters.
        lexical = _ranked(view, found.plans, view.live, fusion.TOP, {})
    signal = fusion.Signal(
        0.0 if found.relaxed else fusion.coverage(view, plan, lexical), plan.question, plan.english
    )
    weight = fusion.weight(signal)
    wanted = vector() if weight > 0 else None
    if wanted is None:
        return []
    near = view.similar(wanted, public, fusion.DEPTH)
    nothing = not found.matched
    admit = (
        fusion.admitted(signal, weight)
        if fusion.standout([s for _, s in near.hits], near.mean, near.spread)
        else 0
    )
    out: list[int] = []
    for d, _ in near.hits:
        inside = found.matched >> d & 1
        if not inside and admit > 0:
            found.matched |= 1 << d
            admit -= 1
            inside = True
        if inside and filters >> d & 1:
            out.append(d)
    found.semantic_weight = weight
    found.relaxed = found.relaxed or (nothing and bool(found.matched))
    return out


def _same_letters(plan: Plan, other: Plan) -> bool:
    return [w.folded for w in plan.words] == [w.folded for w in other.words]


def _add_correction(view: View, found: _Matches, public: int, dictionary: Dictionary) -> None:
    """Add what a corrected spelling of the query finds beyond what it found as typed."""
    plan, matched, _ = found.plans[0]
    suggestion = spelling.correct(view, plan)
    fixed = parse(suggestion, dictionary, view) if suggestion else None
    fixed_matched = match(view, fixed) & public if fixed else 0
    if fixed and fixed_matched and _same_letters(plan, fixed):
        # Only diacritics were wrong ("giây khai sinh"): the same procedures, ranked by the
        # words as names spell them.
        found.suggestion = suggestion
        found.plans[0] = (fixed, matched | fixed_matched, False)
        found.matched = matched | fixed_matched
        return
    if not (fixed and fixed_matched & ~matched):
        return
    found.suggestion = suggestion
    if ranking.named(view, fixed, fixed_matched) and not ranking.named(view, plan, matched):
        # The words as typed occur only in body text, the corrected ones in names: show what
        # the user most likely meant first.
        found.plans = [(fixed, fixed_matched, False), (plan, matched & ~fixed_matched, False)]
        found.corrected = True
    else:
        found.plans.append((fixed, fixed_matched & ~matched, False))
    found.matched = matched | fixed_matched


def _ranked(
    view: View,
    plans: list[tuple[Plan, int, bool]],
    filters: int,
    need: int,
    scores: dict[int, float],
) -> list[int]:
    """The first `need` documents by the words' relevance, each plan's matches after the
    previous plan's; their scores go into `scores`."""
    order: list[int] = []
    for plan, bits, partial in plans:
        if len(order) >= need:
            break
        rank = ranking.order_partial if partial else ranking.order
        for docnum, score in rank(view, plan, bits & filters, need - len(order)):
            order.append(docnum)
            scores[docnum] = score
    return order


def _sorted(view: View, bits: int, sort: str, need: int) -> list[int]:
    """The first `need` documents of `bits` in name, code or update order (newest first)."""
    column, descending = SORT_COLUMNS[sort]
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
