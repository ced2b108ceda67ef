"""Vietnamese text analysis, the same for documents and for queries.

Text is normalized to NFC (decomposed text from PDFs or some input methods would otherwise split
words at every combining mark), cut into syllables, and folded: lowercase, diacritics removed with
Whoosh's `accent_map` (đ → d included), and the two spellings of a final i/y unified ("kỹ"/"kĩ",
"lý"/"lí", "quý"/"quí" all become "ki", "li", "qui"). There is no stoplist and no minimum length:
"an" (an toàn), "in" (in ấn), "y" (Sở Y tế) and "ô" (xe ô tô) are words here.

A Vietnamese word is often two or three syllables, so pairs of adjacent syllables ("giay_phep",
"phep_xay") stand in for phrases: they are computed the same way on both sides and need no word
segmentation model (which would segment accented text but not the unaccented queries people type).

Reference numbers stay whole: "1.001193", "163/QĐ-BTP" and "60/2014/QH13" are one token each,
folded to "1.001193", "163/qd-btp", "60/2014/qh13", and their parts are indexed as well.

The Whoosh analyzer classes below are pickled into the index schema by class path: do not rename
or move them without rebuilding the index (`flask search-reindex`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from whoosh.analysis import Analyzer, Token
from whoosh.support.charset import accent_map

from ..text import nfc

# A token is a run of letters and digits, possibly joined by . / - without spaces (codes,
# decision numbers, dates). Underscores are not word characters here: pairs use them.
_TOKEN = re.compile(r"[^\W_]+(?:[./\-][^\W_]+)*")
_JOINERS = re.compile(r"[./\-]")
_COMBINING = re.compile(r"[\u0300-\u036f]")
# A syllable whose only vowel is a final i or y after its initial consonant: both spellings are
# in use ("kĩ thuật" / "kỹ thuật", "quí" / "quý"), so both fold to i.
_FINAL_Y = re.compile(r"^(?:[bcdghklmnprstvx]|ch|gh|kh|nh|ng|ngh|ph|th|tr|qu)y$")
# str.translate table: one character in, one character out, so offsets in the folded text are
# offsets in the original (the highlighter relies on it).
_FOLD = {code: ch for code, ch in accent_map.items() if len(ch) == 1}
PAIR_SEPARATOR = "_"


def normalize(text: str | None) -> str:
    """NFC text with NBSP as a space and stray combining marks (that compose with nothing)
    dropped; the one form every analysis starts from."""
    if not text:
        return ""
    text = nfc(text)
    return _COMBINING.sub("", text) if _COMBINING.search(text) else text


def fold_text(text: str) -> str:
    """Lowercase and remove diacritics character by character: the result has the same length
    as `text` (which must already be normalized), so positions carry over."""
    lower = text.lower()
    if len(lower) != len(text):  # a few letters ("İ") lowercase to two characters
        lower = "".join(low if len(low := c.lower()) == 1 else c for c in text)
    return lower.translate(_FOLD)


# A Vietnamese syllable once folded: an initial consonant, a vowel group, a final consonant or
# semivowel. English words mostly fail it ("register", "land", "permit", "food"); a few pass
# ("the", "to", "an"), which is why a query's language is judged on all its words.
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnprstvx])?"
    r"(?:[aeiouy]{1,3})(?:ch|ng|nh|[cmnpt])?$"
)


def is_syllable(folded: str) -> bool:
    """True when a folded word can be a Vietnamese syllable."""
    return bool(_SYLLABLE.match(folded))


def unified_i(term: str) -> bool:
    """True when a folded term ending in i may have been written with y ("ki": kí, ký)."""
    return term.endswith("i") and bool(_FINAL_Y.match(term[:-1] + "y"))


_FINAL_Y_MARKS = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")


def accent_key(word: str) -> str:
    """A lowercase word with its diacritics, the two spellings of a final i/y made one ("kỹ" and
    "kĩ" → "kĩ"), to compare words as typed."""
    word = word.lower()
    if word and unified_i(fold_word(word)):
        return word[:-1] + word[-1].translate(_FINAL_Y_MARKS)
    return word


def fold_word(word: str) -> str:
    """Fold one token: lowercase, no diacritics (đ → d), final i/y unified."""
    folded = word.lower().translate(_FOLD)
    return _spell(folded) if folded else folded


@dataclass(frozen=True, slots=True)
class Word:
    """One token of a text: as written (lowercase), folded, and where it is."""

    exact: str
    folded: str
    start: int
    end: int

    @property
    def is_compound(self) -> bool:
        """True for "1.001193", "163/qd-btp" and the like."""
        return bool(_JOINERS.search(self.folded))

    @property
    def parts(self) -> list[str]:
        """The folded pieces of a compound token ("163/qd-btp" → "163", "qd", "btp")."""
        return [fold_word(p) for p in _JOINERS.split(self.exact) if p]


def words(text: str | None) -> list[Word]:
    """The tokens of `text` (normalized first), in order."""
    text = normalize(text)
    return [
        Word(m.group().lower(), fold_word(m.group()), m.start(), m.end())
        for m in _TOKEN.finditer(text)
    ]


def _spell(token: str) -> str:
    return token[:-1] + "i" if token[-1] == "y" and _FINAL_Y.match(token) else token


# The terms of each folded token seen (a catalogue has some tens of thousands), so that a
# rebuild spells and splits each token once, not at each of its occurrences.
_TOKEN_TERMS: dict[str, tuple[str, ...]] = {}
_TOKEN_TERMS_SIZE = 200_000


def _token_terms(token: str) -> tuple[str, ...]:
    found = _TOKEN_TERMS.get(token)
    if found is None:
        if _JOINERS.search(token):
            found = (token, *(_spell(part) for part in _JOINERS.split(token) if part))
        else:
            found = (_spell(token),)
        if len(_TOKEN_TERMS) >= _TOKEN_TERMS_SIZE:
            _TOKEN_TERMS.clear()
        _TOKEN_TERMS[token] = found
    return found


def terms(text: str | None) -> list[str]:
    """Folded terms of `text` as indexed: every token, and the parts of compound tokens."""
    # Folding keeps positions, so the tokens of the folded text are the folded tokens.
    return [t for token in _TOKEN.findall(fold_text(normalize(text))) for t in _token_terms(token)]


def distinct_terms(text: str | None) -> list[str]:
    """The distinct terms of `text` in order of first appearance: dict.fromkeys(terms(text)),
    each distinct token spelled and split once."""
    return list(
        dict.fromkeys(
            t
            for token in dict.fromkeys(_TOKEN.findall(fold_text(normalize(text))))
            for t in _token_terms(token)
        )
    )


def exact_terms(text: str | None) -> list[str]:
    """Lowercase terms with their diacritics, to rank exact spellings first."""
    return [word.exact for word in words(text)]


def syllables(text: str | None) -> list[str]:
    """Folded simple syllables in order (compound tokens split), the material of pairs."""
    return [
        _spell(part)
        for token in _TOKEN.findall(fold_text(normalize(text)))
        for part in _JOINERS.split(token)
        if part
    ]


def pairs(sequence: list[str]) -> list[str]:
    """Adjacent pairs of a syllable sequence: ["giay", "phep", "xay"] → giay_phep, phep_xay."""
    return [f"{a}{PAIR_SEPARATOR}{b}" for a, b in pairwise(sequence)]


def pair(first: str, second: str) -> str:
    """The pair term of two folded syllables."""
    return f"{first}{PAIR_SEPARATOR}{second}"


class _TermAnalyzer(Analyzer):
    """Base of the index analyzers: yields each distinct term once (the index records which
    documents hold a term, not how often, so repeats are only work)."""

    def terms(self, value: str) -> list[str]:
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, mode="", **kwargs) -> Iterator[Token]:
        token = Token(positions, chars, mode=mode, **kwargs)
        for pos, text in enumerate(dict.fromkeys(self.terms(value))):
            token.text, token.boost, token.stopped = text, 1.0, False
            if positions:
                token.pos = pos
            if chars:
                token.startchar = token.endchar = 0
            yield token


# For index.py's rebuild writer: the analyzers whose `terms` give a field's terms.
TermAnalyzer = _TermAnalyzer


class VietnameseAnalyzer(_TermAnalyzer):
    """Folded Vietnamese terms (see the module docstring). `exact=True` keeps diacritics;
    `whole=True` keeps only whole tokens, for reference numbers and codes."""

    def __init__(self, exact: bool = False, whole: bool = False):
        self.exact = exact
        self.whole = whole

    def terms(self, value: str) -> list[str]:
        if self.exact:
            return exact_terms(value)
        if self.whole:
            return [_spell(token) for token in _TOKEN.findall(fold_text(normalize(value)))]
        return distinct_terms(value)


def exact_syllables(text: str | None) -> list[str]:
    """Lowercase syllables with their diacritics in order (compound tokens split), the two
    spellings of a final i/y made one."""
    return [accent_key(part) for word in words(text) for part in _JOINERS.split(word.exact) if part]


class ExactPairAnalyzer(_TermAnalyzer):
    """Pairs of adjacent syllables as written (with diacritics), one text per line: which
    spelling of "dung" follows "xây" in names ("xây_dựng", not "xây_dụng")."""

    def terms(self, value: str) -> list[str]:
        return [p for line in value.split("\n") for p in pairs(exact_syllables(line))]


class SyllablePairAnalyzer(_TermAnalyzer):
    """Pairs of adjacent folded syllables; one text per line, so no pair spans two lines (two
    keywords, two agency names)."""

    def terms(self, value: str) -> list[str]:
        return [p for line in value.split("\n") for p in pairs(syllables(line))]
