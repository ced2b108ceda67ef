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

VOCABULARY_FIELDS = ("name", "keywords", "context")
MIN_LENGTH = 2
COMPLETIONS = 60

_LETTERS = re.compile(r"^[a-z]+$")
_TELEX_MARKS = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"),
                ("uw", "u"), ("w", "u"))  # fmt: skip
_VNI = re.compile(r"(?<=[a-z])[1-9]")


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two adjacent letters as one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            row.append(value)
        previous2, previous = previous, row
    return previous[-1]


class _Vocabulary:
    """The words of the short fields with their document counts, and a deletion index."""

    def __init__(self, view: View):
        reader = view.searcher.reader()
        self.counts: dict[str, int] = {}
        for field in VOCABULARY_FIELDS:
            for raw, info in reader.iter_field(field):
                term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                if _LETTERS.match(term):
                    self.counts[term] = self.counts.get(term, 0) + info.doc_frequency()
        self.deletions: dict[str, list[str]] = {}
        for term in self.counts:
            for key in _deletions(term) | {term}:
                self.deletions.setdefault(key, []).append(term)
        self.pairs = frozenset(view.lexicon("pairs"))
        self._accented: dict[str, str] | None = None
        self._reader = reader

    def near(self, word: str) -> set[str]:
        found: set[str] = set()
        for key in _deletions(word) | {word}:
            found.update(self.deletions.get(key, ()))
        return {t for t in found if t != word and _distance(word, t) <= 1}

    def accented(self, folded: str) -> str:
        """The spelling with diacritics most names use for a folded word."""
        if self._accented is None:
            best: dict[str, tuple[int, str]] = {}
            for raw, info in self._reader.iter_field("name_exact"):
                term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                key = analysis.fold_word(term)
                if info.doc_frequency() > best.get(key, (0, ""))[0]:
                    best[key] = (info.doc_frequency(), term)
            self._accented = {key: term for key, (_, term) in best.items()}
        return self._accented.get(folded, folded)


def _vocabulary(view: View) -> _Vocabulary:
    return view.memo(("vocabulary",), lambda: _Vocabulary(view))


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


def _best(vocabulary: _Vocabulary, word: str, before: str | None, after: str | None) -> str | None:
    candidates: dict[str, float] = {}
    telex = without_input_method(word)
    if telex != word and telex in vocabulary.counts:
        candidates[telex] = 1.0
    for candidate in vocabulary.near(word):
        candidates.setdefault(candidate, 0.0)
    if not candidates:
        return None

    def rank(candidate: str) -> float:
        fits = sum(
            p in vocabulary.pairs
            for p in (
                analysis.pair(before, candidate) if before else None,
                analysis.pair(candidate, after) if after else None,
            )
            if p
        )
        return 3.0 * fits + candidates[candidate] + math.log1p(vocabulary.counts[candidate])

    return max(sorted(candidates), key=rank)


def correct(view: View, plan: query.Plan) -> str | None:
    """The query with unknown words corrected, or None when there is nothing to correct."""
    words = plan.words
    if not words:
        return None
    vocabulary = _vocabulary(view)
    accents = any(w.exact != w.folded for w in words)
    out: list[str] = []
    changed = False
    folded = [w.folded for w in words]
    for i, word in enumerate(words):
        fixed = None
        if (
            not word.is_compound
            and _LETTERS.match(word.folded)
            and len(word.folded) >= MIN_LENGTH
            and word.folded not in vocabulary.counts
        ):
            before = folded[i - 1] if i else None
            after = folded[i + 1] if i + 1 < len(folded) else None
            fixed = _best(vocabulary, word.folded, before, after)
        if fixed:
            folded[i] = fixed
            out.append(vocabulary.accented(fixed) if accents else fixed)
            changed = True
        else:
            out.append(word.exact)
    return " ".join(out) if changed else None


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
