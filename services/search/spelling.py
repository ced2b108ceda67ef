"""Spelling: corrections for words the catalogue does not know ("Có phải bạn muốn tìm: …"),
and completions as you type.

A word is corrected when no procedure's name, keywords, agency or lĩnh vực holds it. The
candidates are words of those fields one edit away (a letter left out, added, changed or two
letters swapped, found through an index of one-letter deletions) and the word read as Telex or
VNI typed without the input method ("giaays" → "giấy", "gia6y" → "giây"). Among candidates,
one that forms a known syllable pair with its neighbours wins, then the most frequent.
"""

from __future__ import annotations

import math
import re

from . import analysis, query, ranking
from .snapshot import View
from .vocabulary import LETTERS, Vocabulary, vocabulary_of

MIN_LENGTH = 2
COMPLETIONS = 60

_TELEX_MARKS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"),
                ("uw", "u"), ("w", "u"))  # fmt: skip
_VNI = re.compile(r"(?<=[a-z])[1-9]")


# Letters Vietnamese speakers of one region or another write for each other.
_SOUNDS = (("s", "x"), ("x", "s"), ("tr", "ch"), ("ch", "tr"), ("gi", "d"), ("d", "gi"),
           ("r", "d"), ("d", "r"), ("l", "n"), ("n", "l"))  # fmt: skip


def _sounds_like(word: str) -> set[str]:
    """`word` with its initial consonant swapped for one often confused with it."""
    return {other + word[len(first) :] for first, other in _SOUNDS if word.startswith(first)}


def without_input_method(word: str) -> str:
    """A word typed in Telex or VNI without the input method, read back as its letters
    ("giaays" → "giay", "dduwowngf" → "duong", "gia6y1" → "giay")."""
    folded = _VNI.sub("", word)
    if folded == word:
        if len(folded) > 2 and folded[-1] in "sfrxj":
            folded = folded[:-1]
        for marked, plain in _TELEX_MARKS:
            folded = folded.replace(marked, plain)
    return analysis.fold_word(folded)


def _best(
    vocabulary: Vocabulary,
    word: str,
    before: str | None,
    after: str | None,
    in_context: bool = False,
) -> str | None:
    """The likeliest word meant by `word` between its neighbours; with `in_context`, only a
    word that forms a pair with a neighbour (the typed one is a word, but not here)."""
    candidates: dict[str, float] = {}
    telex = without_input_method(word)
    if telex != word and telex in vocabulary.counts:
        candidates[telex] = 1.0
    for candidate in vocabulary.near(word) | _sounds_like(word):
        if candidate in vocabulary.counts:
            candidates.setdefault(candidate, 0.0)
    if in_context:
        candidates = {
            c: v for c, v in candidates.items() if vocabulary.in_context(c, before, after)
        }
    if not candidates:
        return None

    def rank(candidate: str) -> float:
        # A candidate that forms pairs with its neighbours in names wins, the more names the
        # better ("gia tang" in "giá trị gia tăng" over "gia tinh").
        fits = sum(
            3.0 * (1.0 + math.log1p(vocabulary.pair_count(p)))
            for p in (
                analysis.pair(before, candidate) if before else None,
                analysis.pair(candidate, after) if after else None,
            )
            if p and vocabulary.has_pair(p)
        )
        return fits + candidates[candidate] + math.log1p(vocabulary.counts[candidate])

    return max(sorted(candidates), key=rank)


def as_names_write(view: View, plan: query.Plan) -> str:
    """The query in the catalogue's words, for its meaning to be read: framing words left out,
    everyday and English words replaced by what names say, abbreviations spelt out, and words
    typed without diacritics given those names give them ("giay phep lai xe" → "giấy phép lái
    xe", "work permit" → "giấy phép lao động")."""
    folded: list[str] = []
    typed: list[str | None] = []
    for concept in plan.concepts:
        if concept.optional:
            continue
        chosen = _said_by_names(concept)
        if chosen is concept.typed:
            for word in plan.words[concept.words[0] : concept.words[1]]:
                folded.append(word.folded)
                typed.append(None if word.exact.isascii() and not word.is_compound else word.exact)
        else:
            folded.extend(chosen.syllables)
            typed.extend([None] * len(chosen.syllables))
    if not folded:
        return plan.text
    return " ".join(vocabulary_of(view).accent_all(folded, typed))


def _said_by_names(concept: query.Concept) -> query.Alternative:
    """The alternative of a concept the catalogue would use: a one-way rule's first target
    (everyday words, English), the longest form of an abbreviation, else the words typed."""
    others = concept.alternatives[1:]
    if not others:
        return concept.typed
    if concept.typed.weight != query.TYPED:
        return others[0]
    longest = max(others, key=lambda alt: len(alt.syllables))
    return longest if len(longest.syllables) > len(concept.typed.syllables) else concept.typed


def accents_wrong(view: View, plan: query.Plan) -> bool:
    """True when a word of the query has diacritics no name spells it with."""
    if all(w.exact == w.folded for w in plan.words):
        return False
    vocabulary = vocabulary_of(view)
    return any(vocabulary.misspelt(w) for w in plan.words)


def correct(view: View, plan: query.Plan) -> str | None:
    """The query with unknown words corrected, or None when there is nothing to correct. It
    is written with diacritics, as names spell the words, whatever way it was typed."""
    words = plan.words
    if not words:
        return None
    vocabulary = vocabulary_of(view)
    folded = [w.folded for w in words]
    typed: list[str | None] = []
    changed = False
    for i, word in enumerate(words):
        fixed = None
        before = folded[i - 1] if i else None
        after = folded[i + 1] if i + 1 < len(folded) else None
        if not word.is_compound and LETTERS.match(word.folded) and len(word.folded) >= MIN_LENGTH:
            if word.folded not in vocabulary.counts:
                fixed = _best(vocabulary, word.folded, before, after)
            elif vocabulary.out_of_context(word.folded, before, after):
                fixed = _best(vocabulary, word.folded, before, after, in_context=True)
        if fixed:
            folded[i] = fixed
            typed.append(None)  # spelt as names spell it
            changed = True
        elif vocabulary.misspelt(word):
            typed.append(None)
            changed = True
        elif word.is_compound or word.exact.isascii():
            typed.append(word.exact if word.is_compound else None)
        else:
            typed.append(word.exact)
    if not changed:
        return None
    return " ".join(vocabulary.accent_all(folded, typed))


def complete(
    view: View, text: str, dictionary, limit: int, public: int
) -> tuple[query.Plan, list[tuple[int, float]]]:
    """Procedures whose name or keywords hold what was typed so far, the last word taken as
    the beginning of a word; with the plan (its terms include the completed words)."""
    plan = query.parse(text, dictionary)
    if not plan.concepts:
        return plan, []
    last = plan.concepts[-1]
    open_word = text[-1:].isalnum() and len(last.alternatives) == 1 and not last.typed.whole
    if open_word and len(last.typed.syllables) == 1:
        stem = last.typed.syllables[0]
        if len(stem) >= MIN_LENGTH:
            words = dict.fromkeys(
                view.prefixed("name", stem, COMPLETIONS) + view.prefixed("keywords", stem, 20)
            )
            last.alternatives = [query.Alternative((w,)) for w in words] or last.alternatives
    bits = public
    for concept in plan.required:
        bits &= query.concept_bits(view, concept, query.NAME_FIELDS)
        if not bits:
            return plan, []
    return plan, ranking.order(view, plan, bits, limit)
