"""Highlights: the words a query matched, marked in a procedure's name and in a short snippet.

The text is folded character by character (analysis.fold_text keeps every offset), and the
folded query terms are found in it with one regular expression bounded by non-word characters,
so "giay phep" marks "Giấy phép" in "Cấp Giấy phép…" and "ky" marks "kỹ" as well as "kĩ".
Everything is escaped; only the <mark> elements are markup; adjacent marked words share one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from . import analysis

SNIPPET_CHARS = 220
LEAD = 40
ELLIPSIS = "…"
_STOPS = ".;:!?…"
PREPARED = 1024  # summaries kept ready (about 3 kB each)


@lru_cache(maxsize=512)
def _pattern(terms: frozenset[str]) -> re.Pattern | None:
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        # A phrase ("giay chung nhan") is marked only whole, its syllables apart by spaces.
        parts.append(r"\s+".join(_syllable(word) for word in term.split(" ")))
    if not parts:
        return None
    return re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + r")(?![^\W_])")


def _syllable(term: str) -> str:
    escaped = re.escape(term)
    if analysis.unified_i(term):  # "ki" stands for "ký" as well as "kí"
        escaped = escaped[:-1] + "[iy]"
    return escaped


def _spans(text: str, terms: set[str], folded: str | None = None) -> list[tuple[int, int]]:
    """Where terms occur in `text`, adjacent occurrences (only spaces between) merged."""
    pattern = _pattern(frozenset(terms))
    if pattern is None:
        return []
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(folded or analysis.fold_text(text)):
        start, end = match.span()
        if spans and not text[spans[-1][1] : start].strip():
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out, cursor = [], start
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        out += [str(escape(text[cursor:a])), "<mark>", str(escape(text[a:b])), "</mark>"]
        cursor = b
    out.append(str(escape(text[cursor:end])))
    return "".join(out)


def _sentences(text: str) -> str:
    """The lines of a summary (description, results, dossier...) as one line, each ending in
    its punctuation, or a full stop where it has none, so fields do not run together."""
    out = []
    for line in analysis.normalize(text).splitlines():
        line = " ".join(line.split())
        if line:
            out.append(line if line[-1] in _STOPS else line + ".")
    return " ".join(out)


@lru_cache(maxsize=PREPARED)
def _prepared(summary: str) -> tuple[str, str]:
    """A summary as one line (_sentences) and folded: the same for every search that shows
    it, and most of a snippet's time."""
    text = _sentences(summary)
    return text, analysis.fold_text(text)


def mark(text: str, terms: set[str]) -> Markup:
    """The whole text with matched words marked."""
    text = analysis.normalize(text)
    return Markup(_render(text, _spans(text, terms), 0, len(text)))


def snippet(text: str, terms: set[str], size: int = SNIPPET_CHARS) -> Markup:
    """About `size` characters of `text` where the most different matched words are close
    together, marked; the beginning of the text when nothing matches."""
    text, folded = _prepared(text)
    if not text:
        return Markup("")
    spans = _spans(text, terms, folded)
    start = 0
    if spans:
        # Slide a window of `size` characters over the matches; keep the one with the most
        # different words, then the most matches.
        best, best_value, last = 0, -1, 0
        for first, (a, _) in enumerate(spans):
            last = max(last, first)
            while last + 1 < len(spans) and spans[last + 1][1] <= a + size:
                last += 1
            window = spans[first : last + 1]
            value = len({folded[x:y] for x, y in window}) * 100 + len(window)
            if value > best_value:
                best, best_value = first, value
        anchor = spans[best][0]
        if anchor > LEAD:
            start = text.rfind(" ", 0, anchor - LEAD) + 1
    end = len(text)
    if end - start > size:
        end = text.rfind(" ", start, start + size)
        end = end if end > start else start + size
    body = _render(text, spans, start, end)
    prefix = ELLIPSIS + " " if start > 0 else ""
    suffix = " " + ELLIPSIS if end < len(text) else ""
    return Markup(f"{prefix}{body}{suffix}")
