"""The words spelling corrections are drawn from: the words of the short fields with their
document counts, an index of their one-letter deletions, the syllable pairs of names, and how
names spell each folded word.

All of it is read once per *segment* and kept in the process's cache (snapshot.cache), like the
postings: Whoosh never changes a segment's terms, so after an edit only the small new segment
is read, and a view of the index combines the parts of its segments in moments. No request
after an edit pays for reading the whole vocabulary again (the server's warm-up reads it at
start). Document counts include deleted documents until their segment is merged away, as
Whoosh's own doc_frequency does.
"""

from __future__ import annotations

import re
from collections import Counter

from . import analysis, snapshot
from .snapshot import View

VOCABULARY_FIELDS = ("name", "keywords", "context")
SPELLINGS = 4  # spellings of a folded word weighed when writing a correction
LETTERS = re.compile(r"^[a-z]+$")


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


class _Part:
    """What one segment adds to the vocabulary (it holds no reader: threads share it)."""

    def __init__(self, reader):
        self.counts: Counter[str] = Counter()
        for field in VOCABULARY_FIELDS:
            for raw, info in reader.iter_field(field):
                term = snapshot.term_text(raw)
                if LETTERS.match(term):
                    self.counts[term] += info.doc_frequency()
        self.deletions: dict[str, list[str]] = {}
        for term in self.counts:
            for key in _deletions(term) | {term}:
                self.deletions.setdefault(key, []).append(term)
        self.pairs = frozenset(snapshot.term_text(t) for t in reader.lexicon("pairs"))
        # Each folded word's spellings in names with their document counts.
        self.spellings: dict[str, Counter[str]] = {}
        self.exact: set[str] = set()
        for raw, info in reader.iter_field("name_exact"):
            term = snapshot.term_text(raw)
            self.exact.add(analysis.accent_key(term))
            self.spellings.setdefault(analysis.fold_word(term), Counter())[term] += (
                info.doc_frequency()
            )

    def size(self) -> int:
        return 200 * (len(self.counts) + len(self.pairs) + len(self.exact)) + 64


def _part(segment) -> _Part:
    def build() -> tuple[_Part, int]:
        snapshot.built["vocabulary"] += segment.size
        part = _Part(segment.reader)
        return part, part.size()

    return snapshot.cache.get((*segment.key, "vocabulary"), build)


class _Counts:
    """Document counts over several segments' parts, summed when asked: after an edit the
    whole index's counts are not merged again for the new small segment."""

    def __init__(self, parts: list[_Part]):
        self._parts = parts

    def __contains__(self, term: str) -> bool:
        return any(term in part.counts for part in self._parts)

    def __getitem__(self, term: str) -> int:
        return sum(part.counts.get(term, 0) for part in self._parts)


class Vocabulary:
    """The vocabulary of one view: its segments' parts combined."""

    def __init__(self, view: View):
        self._parts = [_part(segment) for segment in view.segments]
        self.counts: Counter[str] | _Counts = (
            self._parts[0].counts if len(self._parts) == 1 else _Counts(self._parts)
        )
        self._reader = view.searcher.reader()
        self._spelt: dict[str, list[tuple[int, str]]] = {}

    def near(self, word: str) -> set[str]:
        found: set[str] = set()
        for key in _deletions(word) | {word}:
            for part in self._parts:
                found.update(part.deletions.get(key, ()))
        return {t for t in found if t != word and _distance(word, t) <= 1}

    def has_pair(self, term: str) -> bool:
        """True when a folded syllable pair occurs in the short fields."""
        return any(term in part.pairs for part in self._parts)

    def _spellings(self, folded: str) -> list[tuple[int, str]]:
        """A folded word's spellings in names, the most frequent first."""
        found = self._spelt.get(folded)
        if found is None:
            merged: Counter[str] = Counter()
            for part in self._parts:
                merged.update(part.spellings.get(folded, {}))
            found = sorted(((n, term) for term, n in merged.items()), reverse=True)[:SPELLINGS]
            self._spelt[folded] = found
        return found

    def _known(self, folded: str) -> bool:
        return any(folded in part.spellings for part in self._parts)

    def accented(self, folded: str) -> str:
        """The spelling with diacritics most names use for a folded word."""
        options = self._spellings(folded)
        return options[0][1] if options else folded

    def in_context(self, word: str, before: str | None, after: str | None) -> bool:
        """True when `word` forms a pair of the short fields with a neighbour."""
        return any(
            self.has_pair(p)
            for p in (
                analysis.pair(before, word) if before else None,
                analysis.pair(word, after) if after else None,
            )
            if p
        )

    def out_of_context(self, word: str, before: str | None, after: str | None) -> bool:
        """True for a known word that forms no pair with either neighbour in names ("xu"
        after "luật", meant "sư"), when it has neighbours."""
        return bool(before or after) and not self.in_context(word, before, after)

    def pair_count(self, term: str) -> int:
        """How many documents hold a folded syllable pair in their short fields."""
        return self._reader.doc_frequency("pairs", term)

    def _pair_count(self, first: str, second: str) -> int:
        term = analysis.pair(analysis.accent_key(first), analysis.accent_key(second))
        return self._reader.doc_frequency("pairs_exact", term)

    def _options(self, folded: list[str], typed: list[str | None], i: int) -> list[str]:
        """The spellings the word at `i` may have (none past the end)."""
        if i >= len(folded):
            return []
        if typed[i] is not None:
            return [typed[i]]
        return [term for _, term in self._spellings(folded[i])] or [folded[i]]

    def accent_all(self, folded: list[str], typed: list[str | None]) -> list[str]:
        """A folded phrase written as names write it: each word's spelling chosen by the
        spellings next to it in names ("xây dựng", not "xây dụng"), else the most frequent;
        words typed with diacritics (`typed`) keep them."""
        out: list[str] = []
        for i, given in enumerate(typed):
            if given is not None:
                out.append(given)
                continue
            options = self._options(folded, typed, i)
            following = self._options(folded, typed, i + 1)

            def fit(option: str, i: int = i, following: list[str] = following) -> int:
                before = self._pair_count(out[i - 1], option) if i else 0
                after = max((self._pair_count(option, f) for f in following), default=0)
                return before + after

            out.append(max(options, key=fit))  # max keeps the most frequent among ties
        return out

    def misspelt(self, word: analysis.Word) -> bool:
        """True for a word typed with diacritics that no name spells so, though names hold
        its letters ("giây" for "giấy", "chap" typed "chạp" for "chấp")."""
        key = analysis.accent_key(word.exact)
        return (
            not word.exact.isascii()
            and self._known(word.folded)
            and not any(key in part.exact for part in self._parts)
        )


def vocabulary_of(view: View) -> Vocabulary:
    return view.memo(("vocabulary",), lambda: Vocabulary(view))
