"""Heuristic parsers shared by the readers: structure recovered from the national portal's text.

The portal publishes its tables as cell text run together ("Trực tiếp15 Ngày làm việcMiễn phí"),
with "Không có thông tin" for empty cells and NBSP between words. Each function here takes such
text and returns plain values for the canonical record; all are pure and deterministic, so
reading the same file twice gives the same record.

This module holds what every reader needs (text made safe, empty markers, one-line and
multi-line values, lists of names, levels). The three tables with heuristics of their own have
a module each, built on these helpers: channels (channels, time limits and fees), dossier
(thành phần hồ sơ) and legal (căn cứ pháp lý). The results with their keywords, and the steps,
stay here: each is a short split over the helpers above, belongs to none of those three
subjects, and would make too small a module of its own.
"""

from __future__ import annotations

import itertools
import re

from ..catalogue.records import Record
from ..text import clean, clean_block, fold, nfc, standard_level

# Vietnamese small vowels: a capital followed by one starts a word.
VOWELS = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
# Vietnamese small letters, for character classes ("[à-ỹ]" would take capitals too).
LOWER = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệfghiìíỉĩịjklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvwxyỳýỷỹỵz"
)
_EMPTY = {"khong co thong tin", "khong co thong tin."}
_NONE_WORDS = {"khong", "khong co", "khong quy dinh", "khong co yeu cau", "khong co."}


def prepare(value: object) -> str:
    """Raw text made safe for the regular expressions: NFC, NBSP and tabs as spaces, Windows
    line ends and stray HTML paragraph tags removed. Line breaks are kept."""
    if value is None:
        return ""
    text = nfc(str(value)).replace("\t", " ").replace("\r\n", "\n")
    return re.sub(r"</?p>", "", text)


def _empty(text: str) -> bool:
    # Cheap length test first: folding long texts is what a large import spends its time on.
    return not text or (len(text) <= 20 and fold(text) in _EMPTY)


def is_empty(raw: object) -> bool:
    """True for nothing, blank text and the portal's "Không có thông tin"."""
    return _empty(clean(prepare(raw)))


def value(raw: object) -> str:
    """One-line text, "" for the portal's empty markers."""
    text = clean(prepare(raw))
    return "" if _empty(text) else text


def block(raw: object) -> str:
    """Multi-line text, "" for the portal's empty markers."""
    text = clean_block(prepare(raw))
    return "" if _empty(clean(text)) else text


def optional_block(raw: object) -> str:
    """Multi-line text that reads "Không" when there is nothing (yêu cầu, điều kiện)."""
    text = block(raw)
    return "" if fold(text).rstrip(".") in _NONE_WORDS else text


def split_names(raw: object, *, continued: bool = True) -> list[str]:
    """A comma-separated list of names. Commas inside parentheses, and with `continued` commas
    before a small letter, are inside a name: "Cán bộ, công chức, viên chức, Tổ chức (không
    bao gồm doanh nghiệp, HTX)" is two names."""
    names: list[str] = []
    depth, start = 0, 0
    text = value(raw)
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch in ",;\n" and depth == 0:
            if continued and text[i + 1 :].lstrip()[:1].islower():
                continue
            names.append(text[start:i])
            start = i + 1
    names.append(text[start:])
    return [name for name in (clean(n).strip(" .") for n in names) if name]


def levels(raw: object) -> list[str]:
    """Cấp thực hiện as a list of the catalogue's level names ("Cấp Bộ, Cấp Xã" → two)."""
    return [standard_level(name) for name in split_names(raw)]


# --- results, keywords, steps ---------------------------------------------------------------------

_RESULT_CODE = re.compile(r"Mã\s*:\s*((?:[A-Z0-9]+[.\-])*[A-Z0-9]*\d)")


def portal_results(raw: object) -> tuple[list[Record], list[str], str]:
    """The "Kết quả xử lý" block of the portal's page: the results ("name" + "Mã: KQ..."),
    the keywords ("Từ khóa") and the description ("Mô tả"); page noise after them dropped."""
    text = prepare(raw)
    results_text, _, tail = text.partition("Từ khóa")
    keywords_text, _, tail = tail.partition("Mô tả")
    description = tail.split("Chọn cơ quan thực hiện")[0]
    results: list[Record] = []
    last = 0
    for match in _RESULT_CODE.finditer(results_text):
        name = clean(results_text[last : match.start()])
        last = match.end()
        if name:
            results.append({"name": name, "code": match.group(1)})
    rest = block(results_text[last:])
    if rest:
        results.append({"name": rest, "code": None})
    keywords = [] if is_empty(keywords_text) else split_names(keywords_text, continued=False)
    return results, keywords, block(description)


_STEP = re.compile(r"(?:^|(?<=\n)|(?<=[.;:]\s))[\s\-+*•]*(?:[a-zđ]\)\s*)?Bước\s*\d+\s*[:.)\-]?")
_LETTERED = re.compile(r"(?:^|(?<=\n))[\s\-+*•]*[a-zđ]\)\s")


def steps(raw: object) -> list[str]:
    """Trình tự thực hiện as an ordered list: split before each "Bước N" when the text numbers
    its steps so (or before "a)", "b)" at line starts); otherwise one step."""
    text = block(raw)
    if not text:
        return []
    for pattern in (_STEP, _LETTERED):
        starts = [m.start() for m in pattern.finditer(text)]
        if len(starts) >= 2:
            cuts = ([0] if starts[0] > 0 else []) + starts + [len(text)]
            parts = [clean_block(text[a:b]) for a, b in itertools.pairwise(cuts)]
            return [part for part in parts if part]
    return [text]
