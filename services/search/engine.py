"""Running a search on the index: match the query's plan (query.py), rank the matches in two
stages (ranking.py) or sort them, and when a query finds little try corrected spellings
(spelling.py) and then all-but-one-word matches. Facet counts are taken over every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ranking, spelling
from .query import SHORT_FIELDS, Plan, concept_bits, match, match_all_but_one, parse
from .snapshot import View, members
from .synonyms import Dictionary

FEW = 3
MAX_RESULTS = 10_000
SORT_IN_PLACE = 2000  # fewer matches than this are sorted by reading their keys one by one
FACETS = ("agency", "field", "level", "subject", "online")
SORTS = ("relevance", "name", "code", "updated")


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
