"""Channels, time limits and fees: "Cách thức thực hiện" as the readers find it.

The readers of sets (b) and (c) get one cell per value and use `channel_kind`, `time_limit` and
`fee_amount`; the portal's pages (set (a)) run the whole table together ("Trực tiếp15 Ngày làm
việcMiễn phí") and `portal_channels` recovers its rows. `unit_in` finds the unit a time cell
lost in the text around it; `durations` lists every time limit a text states.
"""

from __future__ import annotations

import re

from ..catalogue.records import Record
from ..models import ChannelKind, TimeUnit
from ..text import fold
from .parsing import LOWER, block, is_empty, prepare, value

# --- one value per cell: the kind, the time limit, the fee ----------------------------------------

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


# A number the text gives a unit to, not part of a document's number or a date ("123/2015").
_DURATION = re.compile(
    rf"(?<![\d.,/])(\d+(?:[.,]\d+)?)(?![\d/])\s*(?:\([^)]{{0,20}}\)\s*)?({_UNIT_WORDS})\b"
)
# "trước 15 giờ", "sau 15 giờ", "lúc 15 giờ": an hour of the day, not a time limit.
_HOUR_OF_DAY = re.compile(r"\b(?:truoc|sau|luc|tu|den|vao)\s+$")
# "Trong ngày", "ngay trong ngày làm việc": within the day, one day.
_WITHIN_THE_DAY = re.compile(r"\btrong (?:cung |mot )?ngay\b")


def durations(text: str) -> list[tuple[int | float, TimeUnit]]:
    """Every time limit a text states, in order ("05 ngày đối với ...; 10 ngày đối với ..." →
    [(5, days), (10, days)]; "03 ngày làm việc" → [(3, working days)]; "trong ngày" → one day;
    the hour of "nhận trước 15 giờ" is none); [] when it states none."""
    folded = fold(text)
    found: list[tuple[int | float, TimeUnit]] = []
    if _WITHIN_THE_DAY.search(folded):
        found.append((1, TimeUnit.DAYS))
    for match in _DURATION.finditer(folded):
        unit = _UNIT_BY_WORD[match.group(2)]
        if unit == TimeUnit.HOURS and _HOUR_OF_DAY.search(folded, 0, match.start()):
            continue
        found.append((_number(match.group(1)), unit))
    return found


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


# --- where to submit online ---------------------------------------------------------------------

# A web address as the descriptions write it: ASCII up to a space, a quote or a bracket.
_WEB_ADDRESS = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&*+=%\[\]]+", re.IGNORECASE)


def online_url(rows: list[Record]) -> str:
    """The first web address in the description of an online channel ("... qua Cổng Dịch vụ
    công quốc gia (địa chỉ http://dichvucong.gov.vn)."): the national data has no field of its
    own for where a procedure is submitted online. "" when no online channel names one."""
    for row in rows:
        if row["kind"] != ChannelKind.ONLINE:
            continue
        for match in _WEB_ADDRESS.finditer(row["note"] or ""):
            url = match.group(0)
            following = row["note"][match.end() : match.end() + 1]
            if following.isalpha():  # run into the next word ("...gov.vn.Cơ quan"): cut it off
                url = url[: max(url.rfind("."), url.rfind("/"))]
            url = url.rstrip(".:,;!?")
            if "." in url.split("://", 1)[1]:
                return url
    return ""
