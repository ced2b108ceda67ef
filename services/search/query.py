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
from dataclasses import dataclass, replace

from . import analysis
from .snapshot import View
from .synonyms import Dictionary, Match

MAX_CHARS = 300
MAX_WORDS = 16

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
    phrase: bool = False  # typed, but found only as a phrase in the short fields ("sổ đỏ")

    @property
    def as_phrase(self) -> bool:
        """Whether it matches only as a phrase (dictionary words, everyday phrases)."""
        return (not self.typed or self.phrase) and len(self.syllables) > 1


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
    english: bool = False

    @property
    def question(self) -> bool:
        """True when the query holds words that only frame it ("tôi muốn", "thế nào")."""
        return any(c.optional for c in self.concepts)

    @property
    def required(self) -> list[Concept]:
        return [c for c in self.concepts if not c.optional]

    def terms(self) -> set[str]:
        """What to highlight: folded terms, and phrases (syllables joined by a space) for
        alternatives that match only as phrases, so "sổ đỏ" → "giấy chứng nhận" never marks a
        lone "nhận"."""
        out: set[str] = set()
        for concept in self.required:  # not the words that only frame the query
            for alt in concept.alternatives:
                if alt.whole:
                    out.add(alt.whole)
                elif alt.as_phrase:
                    out.add(" ".join(alt.syllables))
                else:
                    out.update(alt.syllables)
        return out


def parse(text: str, dictionary: Dictionary, view: View | None = None) -> Plan:
    """Turn user text into a plan (no syntax: every character is plain text). With the
    index's `view`, a framing word that forms a word of the catalogue with its neighbour
    ("bị" in "thiết bị", "làm" in "làm việc") stays a word to match."""
    text = analysis.normalize(text)
    truncated = len(text) > MAX_CHARS
    words = analysis.words(text[:MAX_CHARS])
    truncated = truncated or len(words) > MAX_WORDS
    words = words[:MAX_WORDS]
    english = is_english(words, dictionary)
    if english and dictionary.english is not None:
        dictionary = dictionary.english
    concepts: list[Concept] = []
    i = 0
    while i < len(words):
        if words[i].is_compound:
            word = words[i]
            alternatives = [Alternative((word.folded,), whole=word.folded)]
            if len(word.parts) > 1:
                alternatives.append(Alternative(tuple(word.parts)))
                alternatives += _spelt_apart(dictionary, word)
            concepts.append(Concept(alternatives, exact=_accented([word]), words=(i, i + 1)))
            i += 1
            continue
        j = i
        while j < len(words) and not words[j].is_compound:
            j += 1
        syllables = [w.folded for w in words[i:j]]
        k = 0
        while k < len(syllables):
            length, rule = _rule(dictionary, syllables, k, english)
            span = words[i + k : i + k + length]
            exact = tuple(
                analysis.accent_key(w.exact) if w.exact != w.folded else None for w in span
            )
            typed = Alternative(
                tuple(syllables[k : k + length]),
                weight=EVERYDAY_TYPED if rule.one_way else TYPED,
                exact=exact,
                phrase=rule.one_way,
            )
            weight = EVERYDAY_TARGET if rule.one_way else EQUIVALENT
            others = [Alternative(other, False, weight=weight) for other in rule.alternatives]
            optional = rule.optional and _spelt_as_listed(dictionary, typed.syllables, span)
            concepts.append(
                Concept([typed, *others], optional, _accented(span), (i + k, i + k + length))
            )
            k += length
        i = j
    if view is not None:
        _keep_catalogue_words(view, concepts)
    if concepts and all(c.optional for c in concepts):
        for concept in concepts:
            concept.optional = False
    return Plan(text[:MAX_CHARS], words, concepts, truncated, english)


def _rule(
    dictionary: Dictionary, syllables: list[str], start: int, english: bool
) -> tuple[int, Match]:
    """The dictionary's rule at `start` and how many syllables it spans (at least 1); in
    English, across the framing words between its words."""
    if english:
        length, rule = dictionary.match_across(syllables, start)
    else:
        rule = dictionary.match(syllables, start)
        length = rule.length
    return length or 1, rule


def _spelt_apart(dictionary: Dictionary, word: analysis.Word) -> list[Alternative]:
    """What the dictionary says of a hyphenated word of letters read as separate words
    ("e-visa" as "e visa" → "thị thực điện tử"): its rule's phrases, when one covers it."""
    parts = word.parts
    if any(part.isdigit() for part in parts):
        return []
    rule = dictionary.match(parts, 0)
    if rule.length != len(parts) or rule.optional:
        return []
    weight = EVERYDAY_TARGET if rule.one_way else EQUIVALENT
    return [Alternative(other, False, weight=weight) for other in rule.alternatives]


def _keep_catalogue_words(view: View, concepts: list[Concept]) -> None:
    """Make a framing word required where it and a neighbouring syllable are a pair that
    names, keywords or agencies hold."""
    for i, concept in enumerate(concepts):
        if not concept.optional or concept.typed.whole:
            continue
        syllables = concept.typed.syllables
        before = concepts[i - 1].typed.syllables[-1:] if i else ()
        after = concepts[i + 1].typed.syllables[:1] if i + 1 < len(concepts) else ()
        candidates = [*(analysis.pair(b, syllables[0]) for b in before)]
        candidates += [analysis.pair(syllables[-1], a) for a in after]
        if any(view.bits("pairs", term) for term in candidates):
            concept.optional = False


def is_english(words: list[analysis.Word], dictionary: Dictionary) -> bool:
    """True when a query reads as English: no diacritics, and more of its words are English
    (words of the glossary that cannot be Vietnamese syllables) than Vietnamese."""
    if not all(w.exact.isascii() for w in words):
        return False
    plain = [w.folded for w in words if not w.is_compound and not w.folded.isdigit()]
    foreign = sum(1 for w in plain if not analysis.is_syllable(w) and w in dictionary.english_words)
    return foreign > 0 and foreign >= sum(1 for w in plain if analysis.is_syllable(w)) / 2


def _spelt_as_listed(
    dictionary: Dictionary, phrase: tuple[str, ...], span: list[analysis.Word]
) -> bool:
    """False when an optional phrase was typed with diacritics other than the dictionary's."""
    if all(w.exact.isascii() for w in span):
        return True
    spelt = tuple(analysis.accent_key(w.exact) for w in span)
    return spelt in dictionary.spellings.get(phrase, {spelt})


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
    if not alt.typed or alt.phrase:
        fields = tuple(f for f in fields if f in SHORT_FIELDS)
    bits = view.live
    for syllable in alt.syllables:
        bits &= _in_fields(view, fields, syllable)
        if not bits:
            return 0
    if alt.as_phrase:
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


def match_any(view: View, plan: Plan) -> int:
    """Documents that hold at least one required concept (for a query whose words are never
    all found together)."""
    bits = 0
    for concept in plan.required:
        bits |= concept_bits(view, concept)
    return bits & view.live


def everything_required(plan: Plan) -> Plan:
    """The plan with its framing words required too: when nothing else of a query is in the
    catalogue ("tại" and a word nobody wrote), they are all it has."""
    concepts = [replace(c, optional=False) for c in plan.concepts]
    return replace(plan, concepts=concepts)


def idf(view: View, bits: int) -> float:
    """How telling a match is: rarer is worth more."""
    return math.log(1 + view.count / (1 + bits.bit_count()))
