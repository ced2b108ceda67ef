"""Ranking: which matches come first, in two stages.

Stage one sorts every match into tiers with set algebra, whatever their number:
  0. procedures whose code was typed;
  1. procedures whose name or keywords hold every concept, with the typed syllables adjacent
     in the typed order (syllable pairs: "giấy phép xây dựng" before a name that has "giấy",
     "phép", "xây" and "dựng" in different places);
  2. procedures whose name or keywords hold every concept;
  3. the rest: some concept only in the agency, lĩnh vực or body text.
Stage two scores, within a tier, at most LIMIT candidates one by one (short names first: the
tier is narrowed by bitsets of name length until LIMIT remain). A concept scores its rarity
(idf) times where it was found — as a phrase in the name, scattered in the name, in a keyword,
in the agency or lĩnh vực, in the body — with a bonus for adjacent concepts, for diacritics
typed as in the name, and for names the query covers well. Beyond LIMIT a tier keeps the short-
names-first order, so every page of a search sees the same order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeAlias

from . import analysis, query
from .snapshot import View, as_array, members

LIMIT = 100
_DOC_TEXT_BYTES = 8192  # what a DocText takes in memory (7.6 KB on average on the real catalogue)
LENGTHS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 17, 20, 25, 30, 40, 60, 65535)

# Where a concept was found, as a share of its weight.
NAME_PHRASE = 1.0
NAME_SCATTERED = 0.7
KEYWORD_PHRASE = 0.85
KEYWORD_SCATTERED = 0.5
CONTEXT_PHRASE = 0.35
CONTEXT_SCATTERED = 0.2
BODY = 0.1
ACCENTS_DIFFER = 0.6
# A situation told in everyday words that a one-way rule reads ("bị mất" → cấp lại, "chuyển
# hộ khẩu" → thường trú) names what the user wants; the words around it only describe it.
SITUATION = 3.0
SPECIFIC = 0.1  # per syllable an alternative has beyond the concept's shortest one
OPTIONAL = 0.5
ADJACENT = 0.3
PHRASE = 0.3  # of the query's total weight, when the name holds the whole query as typed
EARLY = 0.3  # of a concept's gain when it starts the name, less further in
ACCENTS = 0.1
PARTIAL_BODY = 0.3  # a concept found only in the body, in a partial match's quick score
POOL_SHARE = 0.5  # partial matches shown: a quick score at least this share of the best


@dataclass(frozen=True, slots=True)
class DocText:
    """The short texts of one document, tokenized for scoring."""

    name: tuple[str, ...]
    name_set: frozenset[str]
    name_pairs: frozenset[str]
    exact: frozenset[str]
    keywords: tuple[tuple[str, ...], ...]
    keyword_set: frozenset[str]
    context: tuple[tuple[str, ...], ...]
    context_set: frozenset[str]


def _terms(text: str) -> tuple[str, ...]:
    # Interned: a catalogue uses a few thousand distinct syllables, so the documents held in
    # the cache share one string of each instead of a copy per occurrence (a third of the
    # memory of a document's text).
    return tuple(map(sys.intern, analysis.terms(text)))


def _lines(raw: bytes) -> tuple[tuple[str, ...], ...]:
    return tuple(_terms(line) for line in raw.decode().split("\n") if line)


def _doc_text(view: View, docnum: int) -> DocText:
    def build(d: int) -> DocText:
        title = view.value("title", d).decode()
        name = _terms(title)
        keywords = _lines(view.value("kw", d))
        context = _lines(view.value("ctx", d))
        return DocText(
            name,
            frozenset(name),
            frozenset(map(sys.intern, analysis.pairs(analysis.syllables(title)))),
            frozenset(sys.intern(analysis.accent_key(t)) for t in analysis.exact_terms(title)),
            keywords,
            frozenset(t for line in keywords for t in line),
            context,
            frozenset(t for line in context for t in line),
        )

    return view.derived("text", docnum, build, _DOC_TEXT_BYTES)


def _contains(sequence: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 1:
        return phrase[0] in sequence
    first = phrase[0]
    return any(
        sequence[i] == first and sequence[i : i + n] == phrase for i in range(len(sequence) - n + 1)
    )


def _place_whole(doc: DocText, alt: query.Alternative) -> tuple[float, bool]:
    """Where a compound token kept whole (a code, a number) was found, as a share of its
    concept's weight, and whether in the name."""
    if alt.whole in doc.name_set:
        return NAME_PHRASE * alt.weight, True
    return BODY * 3 * alt.weight, False


def _place_syllable(doc: DocText, alt: query.Alternative) -> tuple[float, bool]:
    """The same for one syllable (most concepts): set lookups only."""
    word = alt.syllables[0]
    if word in doc.name_set:
        return NAME_PHRASE * _accents_agree(doc, alt) * alt.weight, True
    if word in doc.keyword_set:
        found = KEYWORD_PHRASE
    elif word in doc.context_set:
        found = CONTEXT_PHRASE
    else:
        found = BODY
    return found * alt.weight, False


def _place_phrase(doc: DocText, alt: query.Alternative) -> tuple[float, bool]:
    """The same for several syllables: as a phrase or scattered, in the name, a keyword, the
    agency or lĩnh vực names; else partly in the name, or in the body."""
    syllables = alt.syllables
    if all(s in doc.name_set for s in syllables):
        found = NAME_PHRASE if _contains(doc.name, syllables) else NAME_SCATTERED
        return found * _accents_agree(doc, alt) * alt.weight, True
    if any(_contains(line, syllables) for line in doc.keywords):
        found = KEYWORD_PHRASE
    elif all(s in doc.keyword_set for s in syllables):
        found = KEYWORD_SCATTERED
    elif any(_contains(line, syllables) for line in doc.context):
        found = CONTEXT_PHRASE
    elif all(s in doc.context_set for s in syllables):
        found = CONTEXT_SCATTERED
    else:
        share = sum(s in doc.name_set for s in syllables) / len(syllables)
        found = max(BODY, NAME_SCATTERED * share * 0.7)
    return found * alt.weight, False


Place: TypeAlias = Callable[[DocText, query.Alternative], tuple[float, bool]]


def _placer(alt: query.Alternative) -> Place:
    """How to find where an alternative is in a document, chosen once per ranking rather than
    once per candidate."""
    if alt.whole:
        return _place_whole
    return _place_syllable if len(alt.syllables) == 1 else _place_phrase


def _accents_agree(doc: DocText, alt: query.Alternative) -> float:
    """1, or less when a word typed with diacritics is in the name only with others ("sổ" typed,
    "sơ" in the name): the same letters, another word."""
    for word in alt.exact:
        if word is not None and word not in doc.exact:
            return ACCENTS_DIFFER
    return 1.0


@dataclass
class _Weights:
    concepts: list[float]
    # Each alternative of each concept with its weight (see _alternative_weights) and the
    # function that places it in a document.
    choices: list[list[tuple[query.Alternative, float, Place]]]
    # Pairs of typed syllables across consecutive concepts ("cấp" + "lại"), with a weight: the
    # bonus for words typed next to each other; `required` are those the first tier needs
    # (between concepts without dictionary alternatives).
    across: list[tuple[str, float]]
    required: list[str]
    # Every typed syllable of the required concepts in order, and their total weight: a name
    # holding the whole query as a phrase gets a bonus.
    phrase: tuple[str, ...]
    total: float


def _concept_weight(view: View, concept: query.Concept) -> float:
    """A concept's rarity among the short texts (names, keywords, agencies, lĩnh vực), where
    ranking looks; among all texts for a word found only in bodies."""
    bits = query.concept_bits(view, concept, query.SHORT_FIELDS)
    return query.idf(view, bits or query.concept_bits(view, concept))


def _concept_weights(view: View, plan: query.Plan) -> list[float]:
    """Each concept's weight: its rarity, times SITUATION for a situation a rule read."""
    return [
        _concept_weight(view, c) * (SITUATION if c.typed.phrase else 1.0) for c in plan.concepts
    ]


def _alternative_weights(concept: query.Concept, weight: float) -> list[float]:
    """Among the targets of a one-way rule, a longer one found as a phrase says more than a
    shorter one ("mở cửa hàng": "thành lập hộ kinh doanh" over "hộ kinh doanh"). Equivalents
    (an abbreviation and its long form) are the same thing and weigh the same."""
    if concept.typed.weight != query.EVERYDAY_TYPED:
        return [weight] * len(concept.alternatives)
    shortest = min(len(alt.syllables) for alt in concept.alternatives)
    return [
        weight * (1 + min(SPECIFIC * (len(alt.syllables) - shortest), 0.5))
        for alt in concept.alternatives
    ]


def _weights(view: View, plan: query.Plan) -> _Weights:
    """How much each concept, alternative and cross-word pair of the plan counts. Computed per
    ranking, not kept on the view: the queries a view sees are unbounded."""
    concepts = _concept_weights(view, plan)
    choices = [
        [
            (alt, alt_weight, _placer(alt))
            for alt, alt_weight in zip(
                concept.alternatives, _alternative_weights(concept, weight), strict=True
            )
        ]
        for concept, weight in zip(plan.concepts, concepts, strict=True)
    ]
    across: list[tuple[str, float]] = []
    required: list[str] = []
    words = [(c, w) for c, w in zip(plan.concepts, concepts, strict=True) if not c.typed.whole]
    for (a, weight_a), (b, weight_b) in pairwise(words):
        if a.optional or b.optional:
            continue
        term = analysis.pair(a.typed.syllables[-1], b.typed.syllables[0])
        across.append((term, min(weight_a, weight_b)))
        if len(a.alternatives) == len(b.alternatives) == 1:
            required.append(term)
    phrase = tuple(
        s
        for c, _ in words
        if not c.optional and c.typed.weight == query.TYPED
        for s in c.typed.syllables
    )
    total = sum(w for c, w in zip(plan.concepts, concepts, strict=True) if not c.optional)
    return _Weights(concepts, choices, across, required, phrase if len(phrase) > 1 else (), total)


def _phrase_bits(view: View, concept: query.Concept) -> int:
    """Documents whose name or keywords hold an alternative of the concept as a phrase."""
    bits = 0
    for alt in concept.alternatives:
        found = query.alternative_bits(view, alt, query.NAME_FIELDS)
        if not alt.whole:
            for term in analysis.pairs(list(alt.syllables)):
                found &= view.bits("pairs", term)
        bits |= found
    return bits


def _best(doc: DocText, choices: list[tuple[query.Alternative, float, Place]]):
    """The alternative of a concept found best in a document: its gain, where it was found
    (share of weight), the alternative, and whether in the name."""
    gain, best, best_alt, in_name = 0.0, 0.0, None, False
    for alt, alt_weight, place in choices:
        found, name = place(doc, alt)
        if found * alt_weight > gain:
            gain, best, best_alt, in_name = found * alt_weight, found, alt, name
    return gain, best, best_alt, in_name


def score(
    doc: DocText, plan: query.Plan, weights: _Weights, absent: frozenset[int] = frozenset()
) -> float:
    """The fine score of one document for a plan; the concepts numbered in `absent` are not
    in the document (a partial match) and count nothing."""
    total = 0.0
    covered: set[str] = set()
    for number, (concept, weight, choices) in enumerate(
        zip(plan.concepts, weights.concepts, weights.choices, strict=True)
    ):
        if number in absent:
            continue
        gain, best, best_alt, in_name = _best(doc, choices)
        if concept.optional and best <= BODY:
            continue
        gain *= OPTIONAL if concept.optional else 1.0
        total += gain
        if best_alt is not None and in_name:
            # Found in the name, its first syllable (or whole token) is in the name. The object
            # of a procedure comes right after its verb ("Cấp hộ chiếu"): a match early in the
            # name is what the procedure is about.
            first = best_alt.whole or best_alt.syllables[0]
            covered.update(best_alt.syllables)
            total += EARLY * gain / (1 + doc.name.index(first) / 2)
        total += ACCENTS * weight * sum(word in doc.exact for word in concept.exact)
    for term, weight in weights.across:
        if term in doc.name_pairs:
            total += ADJACENT * weight
    if weights.phrase and _contains(doc.name, weights.phrase):
        total += PHRASE * weights.total
    if doc.name:
        distinct = doc.name_set
        total *= 0.8 + 0.2 * len(covered & distinct) / len(distinct)
    return total


def _tiers(view: View, plan: query.Plan, bits: int, weights: _Weights) -> list[int]:
    code = 0
    for concept in plan.concepts:
        for alt in concept.alternatives:
            if alt.whole:
                code |= view.bits("code", alt.whole)
    code &= bits
    rest = bits & ~code
    named = rest
    for concept in plan.required:
        named &= query.concept_bits(view, concept, query.NAME_FIELDS)
        if not named:
            break
    adjacent = named
    for concept in plan.required:
        if len(concept.typed.syllables) > 1 or len(concept.alternatives) > 1:
            adjacent &= _phrase_bits(view, concept)
    for term in weights.required:
        adjacent &= view.bits("pairs", term)
    return [code, adjacent, named & ~adjacent, rest & ~named]


def exact(view: View, plan: query.Plan, bits: int) -> int:
    """The documents of `bits` whose code was typed, or whose name or keywords hold every
    concept with the typed words adjacent (the first two tiers)."""
    code, adjacent, _, _ = _tiers(view, plan, bits, _weights(view, plan))
    return code | adjacent


def named(view: View, plan: query.Plan, bits: int) -> int:
    """The documents of `bits` whose code, name or keywords hold what the plan asks for."""
    code, adjacent, scattered, _ = _tiers(view, plan, bits, _weights(view, plan))
    return code | adjacent | scattered


def _length_buckets(view: View) -> list[int]:
    def build() -> list[int]:
        lengths = view.column("name_length")
        buckets = [bytearray((len(lengths) + 7) // 8) for _ in LENGTHS]
        for d, length in enumerate(lengths):
            for i, limit in enumerate(LENGTHS):
                if length <= limit:
                    buckets[i][d >> 3] |= 1 << (d & 7)
                    break
        cumulative, out = 0, []
        for bucket in buckets:
            cumulative |= int.from_bytes(bucket, "little")
            out.append(cumulative)
        return out

    return view.memo(("lengths",), build)


def _bits(docs: list[int]) -> int:
    bits = 0
    for d in docs:
        bits |= 1 << d
    return bits


def _static_order(view: View, docs: list[int]) -> list[int]:
    lengths = view.column("name_length")
    return sorted(docs, key=lambda d: (lengths[d], d))


def _rank_tier(
    view: View, plan: query.Plan, weights: _Weights, tier: int, need: int
) -> list[tuple[int, float]]:
    if not tier:
        return []
    candidates = tier
    if tier.bit_count() > LIMIT:
        for bucket in _length_buckets(view):
            candidates = tier & bucket
            if candidates.bit_count() >= LIMIT:
                break
    docs = members(candidates)
    if len(docs) > 2 * LIMIT:
        docs = _static_order(view, docs)[: 2 * LIMIT]
        candidates = _bits(docs)
    scored = [(d, score(_doc_text(view, d), plan, weights)) for d in docs]
    lengths = view.column("name_length")
    scored.sort(key=lambda item: (-item[1], lengths[item[0]], item[0]))
    if need > len(scored) and candidates != tier:
        rest = _static_order(view, members(tier & ~candidates))[: need - len(scored)]
        scored.extend((d, 0.0) for d in rest)
    return scored[:need]


def _quick(
    view: View, plan: query.Plan, bits: int, weights: list[float]
) -> tuple[Any, dict[int, int]]:
    """A quick partial-match score for every document (the `weights` of the concepts it holds, more
    in the short fields), and the documents of `bits` holding each required concept."""
    import numpy

    present = {
        i: query.concept_bits(view, c) & bits for i, c in enumerate(plan.concepts) if not c.optional
    }
    quick = numpy.zeros(view.size, dtype=numpy.float32)
    for i, bits_i in present.items():
        short = query.concept_bits(view, plan.concepts[i], query.SHORT_FIELDS) & bits_i
        quick += weights[i] * (
            PARTIAL_BODY * as_array(bits_i, view.size) + as_array(short, view.size)
        )
    return quick, present


def partial_pool(view: View, plan: query.Plan, bits: int) -> int:
    """The documents of `bits` that hold enough of the plan to be shown as partial matches:
    a quick score at least POOL_SHARE of the best one's."""
    import numpy

    quick, _ = _quick(view, plan, bits, _concept_weights(view, plan))
    best = float(quick.max()) if len(quick) else 0.0
    if best <= 0:
        return 0
    data = numpy.packbits(quick >= POOL_SHARE * best, bitorder="little")
    return int.from_bytes(data.tobytes(), "little") & bits


def order_partial(view: View, plan: query.Plan, bits: int, need: int) -> list[tuple[int, float]]:
    """The best `need` documents of `bits`, each holding only some of the plan's concepts:
    ranked by how many concepts, how rare, and in which fields. The quick score picks
    2 * LIMIT candidates for the fine score; the others follow in quick-score order."""
    import numpy

    weights = _weights(view, plan)
    quick, present = _quick(view, plan, bits, weights.concepts)
    candidates = int(numpy.count_nonzero(quick))
    if not candidates:
        return []
    ranked = numpy.argsort(-quick, kind="stable")[:candidates].tolist()
    scored = []
    for d in ranked[: 2 * LIMIT]:
        absent = frozenset(i for i, bits_i in present.items() if not bits_i >> d & 1)
        scored.append((d, score(_doc_text(view, d), plan, weights, absent)))
    lengths = view.column("name_length")
    scored.sort(key=lambda item: (-item[1], lengths[item[0]], item[0]))
    if need > len(scored):
        scored.extend((d, 0.0) for d in ranked[2 * LIMIT : need])
    return scored[:need]


def order(view: View, plan: query.Plan, bits: int, need: int) -> list[tuple[int, float]]:
    """The best `need` documents of `bits` for a plan, with their scores, best first."""
    out: list[tuple[int, float]] = []
    weights = _weights(view, plan)
    for tier in _tiers(view, plan, bits, weights):
        if len(out) >= need:
            break
        out.extend(_rank_tier(view, plan, weights, tier, need - len(out)))
    return out
