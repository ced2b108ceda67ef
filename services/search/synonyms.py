"""The synonym dictionary: abbreviations, everyday words and English mapped to the words of the
catalogue, applied to queries (never to the index, so an edit takes effect at once).

The dictionary is a text file, one rule per line (`#` starts a comment):

    giấy phép xây dựng = GPXD = construction permit      equivalent terms, each finds the others
    sổ đỏ, bìa đỏ => giấy chứng nhận quyền sử dụng đất    one way: the left finds the right
    ? thủ tục, cách, xin                                  words a query may hold but need not match

The project ships `data/synonyms.txt`; `save_text` writes an edited copy to the instance folder,
which then takes precedence (`reset` removes it). Terms are compared folded (no diacritics, no
case), so "GPXD", "gpxd" and "ĐKKD"/"dkkd" are the same.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..errors import ValidationError
from . import analysis

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "synonyms.txt"
GLOSSARY = SHIPPED.with_name("glossary-en.txt")
FILENAME = "synonyms.txt"
MAX_TEXT = 200_000

Phrase = tuple[str, ...]


@dataclass
class Dictionary:
    """Parsed rules: phrase → the other phrases it also finds; the phrases that are the left
    side of a one-way rule (everyday words, English: their own words, once folded, may well
    mean something else); optional phrases."""

    alternatives: dict[Phrase, list[Phrase]] = field(default_factory=dict)
    one_way: set[Phrase] = field(default_factory=set)
    optional: set[Phrase] = field(default_factory=set)
    # How each optional phrase is written: typed with other diacritics it is another word
    # ("thẻ" is not the "thế" of "thế nào"), to be matched.
    spellings: dict[Phrase, set[Phrase]] = field(default_factory=dict)
    longest: int = 1
    # The same rules with the English glossary's (glossary.py), for queries in English; the
    # glossary's rules for words that cannot be Vietnamese apply to every query.
    english: Dictionary | None = None
    english_words: frozenset[str] = frozenset()

    def _add(self, source: Phrase, targets: list[Phrase]) -> None:
        known = self.alternatives.setdefault(source, [])
        for target in targets:
            if target != source and target not in known:
                known.append(target)
        self.longest = max(self.longest, len(source))

    def match(self, syllables: list[str], start: int) -> Match:
        """The longest rule starting at `start` (length 0 when none applies)."""
        for length in range(min(self.longest, len(syllables) - start), 0, -1):
            phrase = tuple(syllables[start : start + length])
            if phrase in self.alternatives or phrase in self.optional:
                return Match(
                    length,
                    self.alternatives.get(phrase, []),
                    phrase in self.optional,
                    phrase in self.one_way,
                )
        return Match(0, [], False, False)

    def match_across(self, syllables: list[str], start: int) -> tuple[int, Match]:
        """The longest rule starting at `start` whose words may be separated by single framing
        words ("extend my visa" → "extend visa"), as (how many syllables it spans, the rule);
        what `match` finds when no framing word needs to be skipped."""
        direct = self.match(syllables, start)
        if (syllables[start],) in self.optional:
            return direct.length, direct
        kept = [start] + [
            i for i in range(start + 1, len(syllables)) if (syllables[i],) not in self.optional
        ]
        for length in range(min(self.longest, len(kept)), 1, -1):
            span = kept[length - 1] - start + 1
            if span <= max(direct.length, length):
                break  # no framing word skipped: the direct match says it
            phrase = tuple(syllables[i] for i in kept[:length])
            if phrase in self.alternatives:
                return span, Match(length, self.alternatives[phrase], False, phrase in self.one_way)
        return direct.length, direct


@dataclass(frozen=True)
class Match:
    """What the dictionary says about the phrase at one place in a query."""

    length: int
    alternatives: list[Phrase]
    optional: bool
    one_way: bool


MAX_VARIANTS = 12


def _variants(phrase: Phrase, equivalents: dict[Phrase, list[Phrase]]) -> list[Phrase]:
    """`phrase` with one part replaced by an equivalent ("hoàn thuế giá trị gia tăng" →
    "hoàn thuế GTGT"), so a rule's target is found however the name writes it."""
    out: list[Phrase] = []
    for start in range(len(phrase)):
        for end in range(len(phrase), start, -1):
            for other in equivalents.get(phrase[start:end], ()):
                variant = phrase[:start] + other + phrase[end:]
                if variant != phrase and variant not in out:
                    out.append(variant)
    return out[:MAX_VARIANTS]


def _phrase(text: str) -> Phrase:
    return tuple(analysis.syllables(text))


def _phrases(text: str, line_number: int) -> list[Phrase]:
    phrases = [_phrase(part) for part in text.split(",")]
    if not phrases or any(not p for p in phrases):
        raise ValidationError(
            {"synonyms": _("Dòng %(n)s: có một vế trống.", n=line_number)},
        )
    return phrases


@dataclass
class _Rules:
    """The rules of a dictionary text as written: groups of equivalents, one-way rules
    (sources, targets) and optional phrases."""

    groups: list[list[Phrase]] = field(default_factory=list)
    one_way: list[tuple[list[Phrase], list[Phrase]]] = field(default_factory=list)
    optional: list[Phrase] = field(default_factory=list)
    spellings: list[Phrase] = field(default_factory=list)  # of `optional`, in the same order


def _read(text: str) -> _Rules:
    """The rules of each line. Raises ValidationError naming the first bad line."""
    rules = _Rules()
    for number, raw in enumerate(analysis.normalize(text).splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("?"):
            rules.optional.extend(_phrases(line[1:], number))
            rules.spellings.extend(
                tuple(analysis.exact_syllables(part)) for part in line[1:].split(",")
            )
        elif "=>" in line:
            left, right = line.split("=>", 1)
            rules.one_way.append((_phrases(left, number), _phrases(right, number)))
        elif "=" in line:
            rules.groups.append([p for part in line.split("=") for p in _phrases(part, number)])
        else:
            raise ValidationError(
                {"synonyms": _("Dòng %(n)s: cần dạng “A = B”, “A => B” hoặc “? từ phụ”.", n=number)}
            )
    return rules


def _reach(dictionary: Dictionary, one_way: list[tuple[list[Phrase], list[Phrase]]]) -> None:
    """Equivalents reach into longer phrases ("GTGT" in "hoàn thuế GTGT"), and a one-way rule
    reaches its targets' equivalents ("sổ đỏ" finds what "giấy chứng nhận quyền sử dụng đất"
    finds, its abbreviations included)."""
    equivalents = {phrase: list(targets) for phrase, targets in dictionary.alternatives.items()}
    for phrase, targets in equivalents.items():
        dictionary._add(phrase, [v for t in [phrase, *targets] for v in _variants(t, equivalents)])
    for sources, targets in one_way:
        reach = [
            t
            for target in targets
            for t in [target, *equivalents.get(target, []), *_variants(target, equivalents)]
        ]
        for source in sources:
            dictionary._add(source, reach)
            dictionary.one_way.add(source)


def parse(text: str, rules: _Rules | None = None) -> Dictionary:
    """Read dictionary text (or apply rules already read). Raises ValidationError naming the
    first bad line."""
    if len(text) > MAX_TEXT:
        raise ValidationError({"synonyms": _("Từ điển quá dài.")})
    rules = rules or _read(text)
    dictionary = Dictionary()
    for phrase, spelt in zip(rules.optional, rules.spellings, strict=True):
        dictionary.optional.add(phrase)
        dictionary.spellings.setdefault(phrase, set()).add(spelt)
        dictionary.longest = max(dictionary.longest, len(phrase))
    for group in rules.groups:
        for phrase in group:
            dictionary._add(phrase, group)
    _reach(dictionary, rules.one_way)
    return dictionary


def override_path() -> Path:
    """Where the edited copy lives: the instance folder."""
    return Path(current_app.instance_path) / FILENAME


def _active_path() -> Path:
    path = override_path()
    return path if path.exists() else SHIPPED


def glossary_path() -> Path:
    """The English glossary in effect: an edited copy in the instance folder, else the one
    the project ships."""
    path = Path(current_app.instance_path) / GLOSSARY.name
    return path if path.exists() else GLOSSARY


def load_text() -> str:
    """The dictionary text in effect (the edited copy if there is one)."""
    return _active_path().read_text(encoding="utf-8")


def is_customized() -> bool:
    """True when an edited copy overrides the shipped dictionary."""
    return override_path().exists()


def save_text(text: str) -> Dictionary:
    """Check and store an edited dictionary in the instance folder; it applies to the next
    query in every process. Raises ValidationError (nothing is written) when a line is bad."""
    dictionary = parse(text)
    _write(override_path(), text)
    return dictionary


def save_glossary_text(text: str) -> None:
    """Check and store an edited English glossary in the instance folder (it then takes
    precedence over the shipped one). Raises ValidationError (nothing is written)."""
    parse(text, _glossary_rules(text))
    _write(Path(current_app.instance_path) / GLOSSARY.name, text)


def _write(path: Path, text: str) -> None:
    """Replace `path` at once: a reader in another process sees the old text or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.stem}-", delete=False
    ) as handle:
        handle.write(analysis.normalize(text))
    os.replace(handle.name, path)


def reset() -> None:
    """Go back to the shipped dictionary."""
    override_path().unlink(missing_ok=True)


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def _with_plurals(phrases: list[Phrase]) -> list[Phrase]:
    """English phrases with their last word also in the plural ("work permit(s)")."""
    out = list(phrases)
    for phrase in phrases:
        plural = (*phrase[:-1], _plural(phrase[-1]))
        if plural not in out:
            out.append(plural)
    return out


def _glossary_rules(text: str) -> _Rules:
    rules = _read(text)
    rules.one_way = [(_with_plurals(sources), targets) for sources, targets in rules.one_way]
    return rules


def _foreign(rules: _Rules) -> _Rules:
    """The glossary rules whose English cannot be read as Vietnamese: they apply to every
    query ("visa", "work permit"), where "to" or "an" must not."""
    return _Rules(
        one_way=[
            (kept, targets)
            for sources, targets in rules.one_way
            if (kept := [p for p in sources if not all(analysis.is_syllable(w) for w in p)])
        ]
    )


def _merged(first: _Rules, second: _Rules) -> _Rules:
    return _Rules(
        first.groups + second.groups,
        first.one_way + second.one_way,
        first.optional + second.optional,
        first.spellings + second.spellings,
    )


def build(text: str, glossary_text: str = "") -> Dictionary:
    """The dictionary of a synonyms text and a glossary text, with its English variant."""
    rules = _read(text)
    glossary = _glossary_rules(glossary_text)
    dictionary = parse(text, _merged(rules, _foreign(glossary)))
    dictionary.english = parse(text, _merged(rules, glossary))
    dictionary.english_words = frozenset(
        word for sources, _ in glossary.one_way for p in sources for word in p
    ) | frozenset(word for p in glossary.optional for word in p)
    return dictionary


_cache: dict[tuple, Dictionary] = {}


def current() -> Dictionary:
    """The dictionary in effect with the glossary, parsed once per change of either file."""
    paths = (_active_path(), glossary_path())
    key = tuple((str(path), path.stat().st_mtime_ns if path.exists() else 0) for path in paths)
    found = _cache.get(key)
    if found is None:
        _cache.clear()
        texts = [path.read_text(encoding="utf-8") if path.exists() else "" for path in paths]
        found = _cache[key] = build(*texts)
    return found
