"""Legal bases: "Căn cứ pháp lý", the laws, decrees and circulars a procedure rests on.

`legal_number` finds a document's number ("123/2015/NĐ-CP") in a text, `issued_date` the date
that follows it (`iso_date` writes a day, month and year as the record wants them), and
`portal_legal_bases` splits the portal's table (`legal_table`), whose titles and numbers are
run together, into rows.
"""

from __future__ import annotations

import re
from datetime import date

from ..catalogue.records import Record
from ..text import clean
from .parsing import VOWELS, is_empty, prepare

# A legal document number: "123/2015/NĐ-CP", "60/2014/QH13", "12/2021/QĐ-TTg", "163/QĐ-BTP",
# "191/2005/TTLT/BQP-BLĐTBXH-BTC", "66.7/2025/NQ-CP". The capital that starts the next title's
# first word ends it ("NĐ-CPNghị").
# A year glued before it is the end of the previous title ("Luật Cư trú 202068/2020/QH14").
# A capital followed by a small vowel or a Vietnamese two-letter onset (ch, gh, gi, kh, ng, nh,
# ph, qu, th, tr) starts a word; one followed by another small letter ("NHNNsố") does not.
_WORD_START = rf"(?:[{VOWELS}]|(?<=[CKPT])h|(?<=G)[hi]|(?<=N)[gh]|(?<=Q)u|(?<=T)r)"
_SEGMENT = rf"(?:TTg|[A-ZĐ](?:[A-ZĐ](?!{_WORD_START}))*(?:(?<=QH)\d{{1,2}})?)"
LEGAL_NUMBER = re.compile(
    rf"(?:(?<![\d/])|(?<=QH\d\d))(?:(?:19|20)\d\d(?=\d{{1,3}}/))?"
    rf"(?P<number>\d{{1,4}}(?:\.\d{{1,2}}(?=/))?[a-z]?(?:/\d{{4}})?/{_SEGMENT}(?:[-/]{_SEGMENT})*)"
)
LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
# The number column may start with the document's kind glued to the title: "...tín dụngLuật số
# 32/2024/QH15", "...Nghị định 101/2024/NĐ-CPNghị định 101/2024/NĐ-CP".
_NUMBER_PREFIX = re.compile(
    r"(?:(?<=\S)|^)(?=\S)(?:(?:Luật|Nghị định|Thông tư liên tịch|Thông tư|Quyết định|Nghị quyết|"
    r"Pháp lệnh|Lệnh)\s*)?(?:[Ss]ố\s*:?)?\s*$"
)
_DATE = re.compile(r"ngày\s+(\d{1,2})\s*(?:/|tháng)\s*(\d{1,2})\s*(?:/|năm)\s*(\d{4})")


def legal_number(raw: object) -> str:
    """The first legal document number in a text, or ""."""
    match = LEGAL_NUMBER.search(prepare(raw))
    return match.group("number") if match else ""


def issued_date(title: str, number: str) -> str | None:
    """The date a title gives right after the document's number ("... số 123/2015/NĐ-CP ngày
    15/11/2015 ..."), as YYYY-MM-DD."""
    where = title.find(number) if number else -1
    if where < 0:
        return None
    match = _DATE.match(title[where + len(number) :].lstrip(" ,"))
    return iso_date(*match.groups()) if match else None


def iso_date(day: str, month: str, year: str) -> str | None:
    """A day, month and year as YYYY-MM-DD, or None when they are not a date."""
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _starts_row_end(text: str, match: re.Match, following: list[re.Match]) -> bool:
    """Whether a number followed at once by another number ends a row. It does not when the
    next number repeats it ("Luật 54/2014/QH1354/2014/QH13": the title ends with the number) or
    when it sits in the title after a space ("... bởi Nghị định số 232/2025/NĐ-CP34/2025/TT-..."),
    only when it is glued to the title as the number column is ("dụngLuật số 32/2024/QH15")."""
    if following and following[0].group("number") == match.group("number"):
        return False
    before = text[: match.start("number")]
    prefix = _NUMBER_PREFIX.search(before)
    start = prefix.start() if prefix else len(before)
    return start > 0 and not before[start - 1].isspace()


def legal_table(raw: object) -> str:
    """The rows of the "Căn cứ pháp lý" table, without its header and without the next
    section's heading that some pages run into it."""
    return prepare(raw).removeprefix(LEGAL_HEADER).split("Cơ quan thực hiện")[0]


def portal_legal_bases(raw: object) -> list[Record]:
    """The "Căn cứ pháp lý" table of the portal's page: title then number, run together. A
    number ends a row when the next title is glued to it; numbers inside a title are followed
    by a space or punctuation."""
    text = legal_table(raw)
    if is_empty(text):
        return []
    rows: list[Record] = []
    start = 0
    matches = list(LEGAL_NUMBER.finditer(text))
    for i, match in enumerate(matches):
        after = text[match.end() : match.end() + 1]
        if after and (after.isspace() or after in ',.;:)]”"-'):
            continue
        if after.isdigit() and not _starts_row_end(text, match, matches[i + 1 : i + 2]):
            continue
        title = _NUMBER_PREFIX.sub("", text[start : match.start("number")])
        start = match.end()
        _add_basis(rows, clean(title).strip(" ,;"), match.group("number"))
    leftover = clean(text[start:]).strip(" ,;")
    if leftover:
        _add_basis(rows, leftover, legal_number(leftover))
    return rows


def _add_basis(rows: list[Record], title: str, number: str) -> None:
    if rows and rows[-1]["number"] == number and (not rows[-1]["title"] or not title):
        rows[-1]["title"] = rows[-1]["title"] or title
        return
    if not title and not number:
        return
    rows.append(
        {
            "number": number,
            "title": title or number,
            "issued_date": issued_date(title, number),
        }
    )
