"""Fusing the two rankings: the lexical one (ranking.py) and the nearest vectors (semantic.py).

The semantic ranking weighs by how badly the words served the query: little when the name of a
top lexical result holds every word the user typed, much when no name holds them (a need told
in plain words, a question, English). Weighted reciprocal-rank fusion joins the two lists over
the first WINDOW places; semantic results that the words did not find are admitted in number
growing with that weight, and only when the query's vector stands out from the catalogue (a
string of nonsense is near everything and nothing).

The constants were tuned on the training half of tests/relevance/needs.json only
(bench/relevance.py --split train).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import query
from .snapshot import View

WINDOW = 30  # fused places; later pages follow the lexical order
K = 10  # reciprocal-rank constant
DEPTH = 60  # semantic candidates considered
# The semantic weight: BASE, plus UNCOVERED times the share of the query the top names miss,
# plus QUESTION for a question or need (intent words), ENGLISH for an English query; at most MAX.
BASE = 0.4
UNCOVERED = 0.2
QUESTION = 0.0
ENGLISH = 0.1
MAX = 0.9
ADMIT = 20  # semantic results admitted at weight 1 (fewer at lower weights)
STANDOUT = 3.0  # how far (in standard deviations) the best vector must stand above the mean
TOP = 5  # lexical results whose coverage counts


@dataclass
class Signal:
    """What the lexical search says about a query."""

    coverage: float  # share of the query's weight held by the name of a top result (0..1)
    question: bool
    english: bool


def coverage(view: View, plan: query.Plan, docs: list[int]) -> float:
    """The best share, over the first TOP documents, of the required concepts' weight that
    the document's name or keywords hold."""
    concepts = [c for c in plan.required if not c.typed.whole]
    if any(c.typed.whole for c in plan.required) and docs:
        codes = 0
        for concept in plan.required:
            if concept.typed.whole:
                codes |= view.bits("code", concept.typed.whole)
        if any(codes >> d & 1 for d in docs[:TOP]):
            return 1.0
    if not concepts or not docs:
        return 0.0
    weights = [query.idf(view, query.concept_bits(view, c, query.SHORT_FIELDS)) for c in concepts]
    named = [query.concept_bits(view, c, query.NAME_FIELDS) for c in concepts]
    total = sum(weights) or 1.0
    return max(
        sum(w for w, bits in zip(weights, named, strict=True) if bits >> d & 1) / total
        for d in docs[:TOP]
    )


def weight(signal: Signal) -> float:
    """How much the semantic ranking counts for this query (0..MAX)."""
    value = BASE + UNCOVERED * (1.0 - signal.coverage)
    value += QUESTION * signal.question + ENGLISH * signal.english
    return max(0.0, min(MAX, value))


def wanted(plan: query.Plan) -> bool:
    """Whether the meaning of a query is worth computing at all: not for codes and numbers."""
    return any(not c.typed.whole for c in plan.required)


def standout(scores: list[float], mean: float, spread: float) -> bool:
    """True when the nearest vector stands out from the catalogue."""
    return bool(scores) and spread > 0 and (scores[0] - mean) / spread >= STANDOUT


def fuse(
    lexical: list[int], semantic: list[int], semantic_weight: float, exact: int = 0
) -> list[int]:
    """The lexical results whose name holds the query as typed (`exact`) first, in their
    order; then the first WINDOW places by weighted reciprocal rank; then the rest of the
    lexical list."""
    if not semantic or semantic_weight <= 0:
        return lexical
    head = [d for d in lexical[:WINDOW] if exact >> d & 1]
    taken = set(head)
    score: dict[int, float] = {}
    for rank, d in enumerate(lexical[:WINDOW]):
        if d not in taken:
            score[d] = (1.0 - semantic_weight) / (K + rank)
    for rank, d in enumerate(semantic[:WINDOW]):
        if d not in taken:
            score[d] = score.get(d, 0.0) + semantic_weight / (K + rank)
    head += sorted(score, key=lambda d: -score[d])[: WINDOW - len(head)]
    taken = set(head)
    return head + [d for d in lexical if d not in taken]


def admitted(signal: Signal, semantic_weight: float) -> int:
    """How many semantic results the words did not find may join the results: none when a
    name holds the whole query."""
    return 0 if signal.coverage >= 1.0 else round(ADMIT * semantic_weight)
