"""Vietnamese text: NFC normalization, diacritic folding, slugs and dictionary collation.

Everything the portal stores or indexes goes through `clean` (NFC, no NBSP, single spaces);
everything it compares without regard to diacritics goes through `fold`; everything it sorts
for people goes through `sort_key`, which orders as a Vietnamese dictionary does: letters first
(a < ă < â < b < c < d < đ < e < ê ...), then tones (ngang < huyền < hỏi < ngã < sắc < nặng).
"""

import re
import unicodedata

# Combining marks that make a different letter (ă, â, ê, ô, ơ, ư) versus those that only add a
# tone; the first group belongs to the primary (letter) level, the second to the secondary.
_LETTER_MARKS = {"\u0306": 1, "\u0302": 2, "\u031b": 3}  # breve, circumflex, horn
_TONE_MARKS = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}

# Base letters in Vietnamese alphabet order, with the four foreign letters (f, j, w, z) placed
# as Vietnamese dictionaries place them; digits sort before letters.
_ALPHABET = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {ch: i + 2 for i, ch in enumerate(_ALPHABET)}  # 0 ends a key, 1 is a word break

SORT_LENGTH = 160

_SPACES = re.compile(r"\s+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def nfc(value: str) -> str:
    """`value` in NFC with NBSP as a plain space: the one form all text starts from."""
    return unicodedata.normalize("NFC", value).replace("\u00a0", " ")


def clean(value: str | None) -> str:
    """Return `value` in NFC with NBSP and runs of white space made single spaces, trimmed."""
    if not value:
        return ""
    return _SPACES.sub(" ", nfc(value)).strip()


def clean_block(value: str | None) -> str:
    """Like `clean` but keeps line breaks (for multi-line text such as notes and requirements)."""
    if not value:
        return ""
    lines = (clean(line) for line in value.replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def fold(value: str | None) -> str:
    """Lowercase `value` and strip its diacritics, đ → d included ("Đăng ký" → "dang ky")."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFD", clean(value).lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(value: str) -> str:
    """Return an ASCII URL slug ("Phòng Tư pháp" → "phong-tu-phap")."""
    return _NON_SLUG.sub("-", fold(value)).strip("-")


def _letters(value: str) -> list[tuple[str, int, int]]:
    """Split text into (base letter, letter-mark rank, tone rank) triples, lowercase."""
    out: list[tuple[str, int, int]] = []
    for ch in unicodedata.normalize("NFD", clean(value).lower()):
        if ch in _LETTER_MARKS and out:
            base, _, tone = out[-1]
            out[-1] = (base, _LETTER_MARKS[ch], tone)
        elif ch in _TONE_MARKS and out:
            base, mark, _ = out[-1]
            out[-1] = (base, mark, _TONE_MARKS[ch])
        elif not unicodedata.combining(ch):
            out.append((ch, 0, 0))
    return out


_MARKED = {("a", 1): "ă", ("a", 2): "â", ("e", 2): "ê", ("o", 2): "ô", ("o", 3): "ơ", ("u", 3): "ư"}


def sort_key(value: str | None) -> str:
    """Return a string whose plain (byte or C-collation) order is Vietnamese dictionary order.

    The key is printable ASCII so it can be stored in a column and used in ORDER BY on any
    database. Punctuation counts as a word break; letters come first, then tones, then case.
    """
    # Names that agree on their first SORT_LENGTH letters are rare; the cap keeps the key short
    # enough for a B-tree index on any database.
    letters = _letters(value or "")[:SORT_LENGTH]
    primary: list[int] = []
    tones: list[int] = []
    for base, mark, tone in letters:
        letter = _MARKED.get((base, mark), base)
        rank = _RANK.get(letter)
        if rank is None:
            if primary and primary[-1] == 1:
                continue
            rank = 1
        primary.append(rank)
        tones.append(tone if rank > 1 else 0)
    while primary and primary[-1] == 1:
        primary.pop()
        tones.pop()
    case = [1 if ch.isupper() else 0 for ch in clean(value)[:SORT_LENGTH]]
    return (
        "".join(f"{r:02d}" for r in primary)
        + "00"
        + "".join(str(t) for t in tones)
        + "0"
        + "".join(str(c) for c in case)
    )


# Levels of government (cấp thực hiện) from the top down, as the national database names them.
LEVELS = ("Cấp bộ", "Cấp tỉnh", "Cấp huyện", "Cấp xã", "Cơ quan khác")
_FOLDED_LEVELS = [fold(name) for name in LEVELS]


def standard_level(name: str) -> str:
    """The national database's spelling of a level ("CẤP XÃ" → "Cấp xã"); others unchanged."""
    folded = fold(name)
    return LEVELS[_FOLDED_LEVELS.index(folded)] if folded in _FOLDED_LEVELS else name


def level_sort_key(name: str) -> str:
    """Sort key for a cấp thực hiện: ministry, province, district, commune, others, then by name."""
    folded = fold(name)
    rank = _FOLDED_LEVELS.index(folded) if folded in _FOLDED_LEVELS else len(LEVELS)
    return f"{rank}{sort_key(name)}"
