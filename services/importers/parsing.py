"""Heuristic parsers shared by the readers: structure recovered from the national portal's text.

The portal publishes its tables as cell text run together ("Trực tiếp15 Ngày làm việcMiễn phí"),
with "Không có thông tin" for empty cells and NBSP between words. Each function here takes such
text and returns plain values for the canonical record; all are pure and deterministic, so
reading the same file twice gives the same record.
"""

from __future__ import annotations

import itertools
import re
from datetime import date

from ..catalogue.records import Record
from ..models import ChannelKind, TimeUnit
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


# --- channels, time limits and fees ---------------------------------------------------------------

_KINDS = {
    "truc tiep": ChannelKind.DIRECT,
    "truc tuyen": ChannelKind.ONLINE,
    "dich vu buu chinh": ChannelKind.POSTAL,
    "buu chinh": ChannelKind.POSTAL,
    "qua buu chinh": ChannelKind.POSTAL,
    "buu chinh cong ich": ChannelKind.POSTAL,
}


def channel_kind(raw: object) -> ChannelKind | None:
    """The channel a "Hình thức nộp" names, or None."""
    return _KINDS.get(fold(value(raw)).strip(" .:"))


# Units in folded form, longest first so "ngay lam viec" wins over "ngay".
_UNITS = (
    ("ngay lam viec", TimeUnit.WORKING_DAYS),
    ("ngay", TimeUnit.DAYS),
    ("gio lam viec", TimeUnit.HOURS),
    ("gio", TimeUnit.HOURS),
    ("thang", TimeUnit.MONTHS),
)
_UNIT_WORDS = "|".join(word for word, _ in _UNITS)
_UNIT_BY_WORD = dict(_UNITS)
# Folding keeps length for Vietnamese letters, so positions in the folded text are positions in
# the original text.
_TIME = re.compile(rf"^\s*(\d+(?:[.,]\d+)?)\s*(?:\([^)]{{0,20}}\)\s*)?({_UNIT_WORDS})?\b")


def _number(text: str) -> int | float:
    number = float(text.replace(",", "."))
    return int(number) if number.is_integer() else number


def time_limit(raw: object) -> tuple[int | float | None, TimeUnit | None]:
    """The number and unit a time limit starts with ("15 Ngày làm việc" → 15, working days;
    "05 (năm) ngày" → 5, days; "Không quy định" → None, None). A number without a unit is
    returned with unit None."""
    match = _TIME.match(fold(value(raw)))
    if not match:
        return None, None
    unit = _UNIT_BY_WORD.get(match.group(2)) if match.group(2) else None
    return _number(match.group(1)), unit


def unit_in(text: str, number: int | float) -> TimeUnit | None:
    """The unit `text` gives to `number` ("trong 05 ngày làm việc" → working days), for tables
    whose time cell lost its unit."""
    pattern = rf"(?<![\d.,])0*{re.escape(str(number))}\s*(?:\([^)]{{0,20}}\)\s*)?({_UNIT_WORDS})\b"
    match = re.search(pattern, fold(text))
    return _UNIT_BY_WORD[match.group(1)] if match else None


_CURRENCY_VND = r"(?:việt nam đồng|vnđ|vnd|đồng|đ)"
# An amount in đồng; not a year ("... năm 2016 Đồng (Thông tư ...)").
_AMOUNT = re.compile(
    rf"(?<![\d.,/])(?<!năm )(\d[\d.,]*)\s*{_CURRENCY_VND}(?![{LOWER}])", re.IGNORECASE
)
_OTHER_CURRENCY = re.compile(r"\d\s*(?:usd|eur|\$)", re.IGNORECASE)


def dong(text: str) -> int | None:
    """An amount in đồng written with dots or commas between thousands ("2,000,000" or
    "2.000.000") as an integer."""
    digits = re.sub(r"[.,](?=\d{3}(?:\D|$))", "", text.strip())
    return int(digits) if digits.isdigit() else None


def fee_amount(raw: object) -> int | None:
    """The fee in đồng when the text states one amount; 0 when it says free or zero; None when
    it states several amounts, another currency, or none."""
    text = value(raw)
    folded = fold(text)
    if not folded:
        return None
    if _OTHER_CURRENCY.search(text):
        return None
    amounts = {dong(m.group(1)) for m in _AMOUNT.finditer(text)} - {None}
    if len(amounts) == 1:
        return amounts.pop()
    if amounts:
        return None
    bare = re.sub(r"^(?:le phi|phi)\s*:?\s*", "", folded)
    if bare.startswith(("mien phi", "khong")) and "(" not in text:
        return 0
    return None


# --- set (a): the channel table run together ---------------------------------------------------

CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
_ROW_START = re.compile(r"(Trực tiếp|Trực tuyến|Dịch vụ bưu chính)(?=\d|Không)")
_TIME_CELL = re.compile(r"(\d+(?:[.,]\d+)?)( ?(?:Ngày làm việc|Ngày|Giờ|Tháng))?")
_MONEY = re.compile(rf"(\d[\d,.]*)? ?(Việt Nam Đồng|VNĐ|Đồng|USD)(?![{LOWER}])")
_FEE_START = re.compile(rf"Miễn phí|Không có thông tin|{_MONEY.pattern}")
_ENUMERATOR = re.compile(r"^(?:\d{1,2}|[ivx]{1,4}|[a-zđ])$")
_NO_INFO = "Không có thông tin"


def _balanced(text: str, start: int) -> int:
    """End (exclusive) of the parenthesized group opening at `start`, or -1 when unclosed."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _note_end(text: str, start: int) -> int:
    """Where a fee cell ends: after the parenthesized note that follows the amount, unless the
    parenthesis numbers the description that follows ("(1) Trường hợp ...")."""
    if not text.startswith("(", start):
        return start
    end = _balanced(text, start)
    if end < 0 or _ENUMERATOR.match(text[start + 1 : end - 1].strip()):
        return start
    return end


def _split_glued(digits: str, note: str) -> tuple[str, str]:
    """A time cell without unit glued to an amount ("120,000 VNĐ"): prefer the split whose
    amount the fee note repeats, else the shortest time."""
    stated = {dong(m.group(1)) for m in _AMOUNT.finditer(note)}
    options = [
        (digits[:i], digits[i:])
        for i in range(1, len(digits))
        if digits[:i].isdigit() and digits[i] in "123456789" and dong(digits[i:]) is not None
    ]
    for time, money in options:
        if dong(money) in stated:
            return time, money
    return options[0] if options else ("", digits)


def _time_cell(row: str) -> tuple[str, str]:
    """The time cell at the start of a row and the rest of the row."""
    if row.startswith(_NO_INFO):
        return "", row[len(_NO_INFO) :]
    match = _TIME_CELL.match(row)
    if match and match.group(2):
        return match.group(0), row[match.end() :]
    if match:
        money = _MONEY.match(row)
        if money and money.group(1):
            note = row[money.end() : _note_end(row, money.end())]
            time, amount = _split_glued(money.group(1), note)
            return time, amount + row[len(money.group(1)) :]
        return match.group(0), row[match.end() :]
    fee = _FEE_START.search(row)
    cut = fee.start() if fee else len(row)
    return row[:cut], row[cut:]


def _fee_cell(rest: str) -> tuple[str, int | None, str]:
    """The fee cell at the start of `rest`: its text, the amount in đồng, and what follows."""
    if rest.startswith("Miễn phí"):
        end = _note_end(rest, len("Miễn phí"))
        note = fold(rest[len("Miễn phí") : end]).strip(" ()")
        return rest[:end], 0 if not note or note.startswith("khong") else None, rest[end:]
    if rest.startswith(_NO_INFO):
        end = _note_end(rest, len(_NO_INFO))
        return rest[len(_NO_INFO) : end], None, rest[end:]
    money = _MONEY.match(rest)
    if not money:
        return "", None, rest
    end = _note_end(rest, money.end())
    # "155 VNĐ(... 155 USD/thẻ)": a note in dollars means the amount is not in đồng.
    dollars = money.group(2) == "USD" or "USD" in rest[money.end() : end]
    amount = dong(money.group(1)) if money.group(1) and not dollars else None
    return rest[:end], amount, rest[end:]


def _channel_row(kind: str, row: str) -> Record:
    """One row of the channel table: time cell, fee cell (amount and note), description."""
    time_text, rest = _time_cell(row)
    fee_text, amount, rest = _fee_cell(rest)
    note = block(rest)
    number, unit = time_limit(time_text)
    if number is not None and unit is None:
        unit = unit_in(note, number)
    return {
        "kind": _KINDS[fold(kind)],
        "time_limit_value": number,
        "time_limit_unit": unit,
        "time_limit_text": value(time_text),
        "fee_text": value(re.sub(r"(?<=\S)\(", " (", fee_text, count=1)),
        "fee_amount": amount,
        "note": note,
    }


def portal_channels(raw: object) -> list[Record]:
    """The "Cách thức thực hiện" table of the portal's page, one channel per row."""
    text = prepare(raw)
    if text.startswith(CHANNEL_HEADER):
        text = text[len(CHANNEL_HEADER) :]
    if is_empty(text):
        return []
    starts = list(_ROW_START.finditer(text))
    # The first row may have a time cell in words ("Trực tiếpHệ thống ... phản hồi tự động").
    first = re.match(r"(Trực tiếp|Trực tuyến|Dịch vụ bưu chính)", text)
    if first and (not starts or starts[0].start() != 0):
        starts.insert(0, first)
    rows = []
    for i, start in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        rows.append(_channel_row(start.group(1), text[start.end() : end]))
    return rows


# --- dossier --------------------------------------------------------------------------------------

DOSSIER_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
# The count cell: one digit (a year or form number may be glued before it), "bản chính", and
# optionally the copies; not followed by a word (then it is part of a name: "nộp 02 bản chính tờ").
# A zero-padded count after a space ("nộp 02 bản chính.") is part of a name: the count cell is not.
_COUNT = re.compile(r"(?<![\s(]0)(\d) ?bản chính(?:\s*,\s*(\d) ?bản sao)?(?! [^\W\d_])")
_FILE = re.compile(rf"\.(?i:docx?|pdf|xlsx?|rtf|odt|zip|rar|jpe?g|png)(?![{LOWER}])")
_GLUE = ';.)”"'


def _is_boundary(text: str, i: int, *, strong: bool) -> bool:
    """Whether a file name may start at `i`: glued after punctuation ("...CP).Mẫu 01.docx") or,
    weaker, a capital glued after a small letter or digit ("theo mẫuMẫu TK01.docx")."""
    here, before = text[i], text[i - 1]
    if strong:
        return (
            (before in _GLUE and here.isalpha())
            or (before in ");" and here.isdigit())
            or (before == ":" and not here.isspace())
        )
    return (here.isupper() and (before.islower() or before.isdigit())) or (
        here.isdigit() and before.islower()
    )


def _template_start(text: str, end: int) -> int:
    """Where the form file name ending at `end` begins, or -1 when no boundary shows it."""
    for strong in (True, False):
        for i in range(end - 5, max(0, end - 120), -1):
            if _is_boundary(text, i, strong=strong):
                return i
    return -1


def split_template(text: str) -> tuple[str, str]:
    """Split "name + form file names" ("Tờ khai theo mẫuMẫu TK01.docx") into the name and the
    file names, joined by "; "."""
    matches = list(_FILE.finditer(text))
    if not matches or matches[-1].end() != len(text):
        return text, ""
    # File names may follow one another ("A.docxB.docx"): walk back over the chain.
    chain = [matches[-1]]
    for previous in reversed(matches[:-1]):
        between = text[previous.end() : chain[0].start()]
        if len(between) > 80 or any(
            _is_boundary(text, i, strong=True) for i in range(previous.end() + 1, chain[0].start())
        ):
            break
        chain.insert(0, previous)
    start = _template_start(text, chain[0].end())
    if start <= 0:
        return text, ""
    files, begin = [], start
    for match in chain:
        files.append(clean(text[begin : match.end()]))
        begin = match.end()
    return clean(text[:start]), "; ".join(f for f in files if f)


def _heading(text: str) -> str:
    """A dossier group heading without its bullets and trailing colon; "--" means none."""
    heading = clean(text).strip(" -*+:•")
    return "" if not heading or set(heading) <= {"-"} else heading


def portal_dossier(raw: object) -> list[Record]:
    """The "Thành phần hồ sơ" tables of the portal's page: each table's heading is the group
    of the items under it."""
    text = prepare(raw)
    if DOSSIER_HEADER not in text:
        return []
    sections = text.split(DOSSIER_HEADER)
    group = _heading(sections[0])
    items: list[Record] = []
    for i, section in enumerate(sections[1:], start=1):
        last = 0
        for count in _COUNT.finditer(section):
            name, template = split_template(clean(section[last : count.start()]))
            last = count.end()
            if not name:
                continue
            items.append(
                {
                    "group": group,
                    "name": name,
                    "originals": int(count.group(1)),
                    "copies": int(count.group(2) or 0),
                    "template_name": template,
                }
            )
        tail = section[last:]
        if i + 1 < len(sections):
            group = _heading(tail)
        elif clean(tail).strip(" -"):
            items.append({"group": group, "name": clean(tail), "originals": 0, "copies": 0})
    return items


def counts(raw: object) -> tuple[int, int]:
    """Originals and copies from "Bản chính: 1\\nBản sao: 0" or "Bản chính: 1 - Bản sao: 0"."""
    folded = fold(prepare(raw))
    originals = re.search(r"ban chinh\s*:?\s*(\d+)", folded)
    copies = re.search(r"ban sao\s*:?\s*(\d+)", folded)
    return (int(originals.group(1)) if originals else 0, int(copies.group(1)) if copies else 0)


# --- legal bases ---------------------------------------------------------------------------------

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
    return to_date(*match.groups()) if match else None


def to_date(day: str, month: str, year: str) -> str | None:
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
