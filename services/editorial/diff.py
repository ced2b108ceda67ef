"""Readable diffs between two records of the same kind, and the words for their keys.

Diffs compare two records key by key; lists are compared item by item (added, removed,
changed), so a diff reads like "bước 3 đã sửa", not like a text patch.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from ..catalogue import records
from ..catalogue.records import Record
from ..errors import ValidationError
from ..labels import label

# Words for the keys of procedure, agency, and list-item records, in the order pages show them.
KEY_LABELS = {
    "code": _l("Mã thủ tục"),
    "name": _l("Tên"),
    "name_en": _l("Tên tiếng Anh"),
    "summary_en": _l("Tóm tắt tiếng Anh"),
    "status": _l("Trạng thái"),
    "decision_number": _l("Số quyết định công bố"),
    "decision_date": _l("Ngày quyết định"),
    "levels": _l("Cấp thực hiện"),
    "procedure_type": _l("Loại thủ tục"),
    "fields": _l("Lĩnh vực"),
    "subjects": _l("Đối tượng thực hiện"),
    "agencies": _l("Cơ quan"),
    "receiving_address": _l("Địa chỉ tiếp nhận hồ sơ"),
    "online_level": _l("Dịch vụ công trực tuyến"),
    "keywords": _l("Từ khóa"),
    "description": _l("Mô tả"),
    "requirements": _l("Yêu cầu, điều kiện"),
    "source_url": _l("Nguồn công bố"),
    "online_url": _l("Địa chỉ nộp trực tuyến"),
    "steps": _l("Trình tự thực hiện"),
    "channels": _l("Cách thức thực hiện"),
    "dossier": _l("Thành phần hồ sơ"),
    "results": _l("Kết quả"),
    "legal_bases": _l("Căn cứ pháp lý"),
    "related": _l("Thủ tục liên quan"),
    "replaced_by": _l("Thay thế bằng"),
    "abolished_reason": _l("Lý do bãi bỏ"),
    "role": _l("Vai trò"),
    "agency": _l("Cơ quan trong danh mục"),
    "kind": _l("Loại"),
    "time_limit_value": _l("Thời hạn"),
    "time_limit_unit": _l("Đơn vị thời hạn"),
    "time_limit_text": _l("Thời hạn (nguyên văn)"),
    "fee_text": _l("Phí, lệ phí"),
    "fee_amount": _l("Số tiền"),
    "note": _l("Ghi chú"),
    "group": _l("Trường hợp"),
    "originals": _l("Bản chính"),
    "copies": _l("Bản sao"),
    "required": _l("Bắt buộc"),
    "template_name": _l("Tên mẫu"),
    "template_url": _l("Đường dẫn mẫu"),
    "template_file": _l("Tệp mẫu"),
    "number": _l("Số hiệu"),
    "title": _l("Trích yếu"),
    "issued_date": _l("Ngày ban hành"),
    "issuer": _l("Cơ quan ban hành"),
    "slug": _l("Tên đường dẫn"),
    "short_name": _l("Tên ngắn"),
    "parent": _l("Trực thuộc"),
    "position": _l("Thứ tự"),
    "address": _l("Địa chỉ"),
    "phone": _l("Điện thoại"),
    "email": _l("Thư điện tử"),
    "website": _l("Trang thông tin"),
    "opening_hours": _l("Giờ làm việc"),
    "valid_from": _l("Hiệu lực từ"),
    "valid_to": _l("Hiệu lực đến"),
    "successor": _l("Cơ quan kế thừa"),
}

# Keys that change on every save and say nothing a reader needs in a diff.
IGNORED = frozenset({"created_at", "updated_at"})


def key_label(key: str) -> str:
    """The words for a record key; the key itself when it has none."""
    return str(KEY_LABELS.get(key, key))


@dataclass
class ItemChange:
    """One list item added, removed or changed; `position` counts from 1 in the newer list
    (in the older one for removals); `keys` are the changed keys of a changed object."""

    kind: str
    position: int
    old: Any = None
    new: Any = None
    keys: list[str] = field(default_factory=list)


@dataclass
class Change:
    """One key whose value differs; lists carry their item changes in `items`."""

    key: str
    old: Any
    new: Any
    items: list[ItemChange] | None = None

    @property
    def label(self) -> str:
        return key_label(self.key)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def plain(value: Any) -> Any:
    """`value` as JSON carries it, as records store it: dates and times as ISO text, decimals
    as numbers, sets as lists, anything else unknown as its text. A record read from a form
    (dates, Decimals) then compares equal to the same record read from the database."""
    return json.loads(json.dumps(value, default=_jsonable, ensure_ascii=False))


def _list_changes(old: list, new: list) -> list[ItemChange]:
    encode = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in old]
    encode_new = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in new]
    out: list[ItemChange] = []
    matcher = difflib.SequenceMatcher(a=encode, b=encode_new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            a, b = old[i1 + k], new[j1 + k]
            keys = (
                [key for key in b if a.get(key) != b.get(key)]
                if isinstance(a, dict) and isinstance(b, dict)
                else []
            )
            out.append(ItemChange("changed", j1 + k + 1, a, b, keys))
        for k in range(i1 + paired, i2):
            out.append(ItemChange("removed", k + 1, old=old[k]))
        for k in range(j1 + paired, j2):
            out.append(ItemChange("added", k + 1, new=new[k]))
    return out


def diff_records(old: Record, new: Record) -> list[Change]:
    """The keys that differ between two records of the same kind, in the newer record's order;
    values are compared as records store them (see `plain`), whatever types they came in."""
    old, new = plain(old), plain(new)
    changes: list[Change] = []
    for key in dict.fromkeys([*new, *old]):
        if key in IGNORED:
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            changes.append(Change(key, a, b, _list_changes(a or [], b or [])))
        else:
            changes.append(Change(key, a, b))
    return changes


def typed_changes(
    stored: Record, typed: dict, normalize: Callable[[Any], Record] = records.normalize_procedure
) -> list[Change]:
    """What an editor's input changes in a stored record, for the merge view of an edit
    conflict. The input is read the way a save reads it (`normalize`, procedures by default),
    so "1" against 1 or "" against None is no change; input that does not read (a bad date)
    is compared as typed."""
    merged = {**stored, **typed}
    with contextlib.suppress(ValidationError):
        merged = normalize(merged)
    return diff_records(stored, merged)


def as_text(value: Any) -> str:
    """A record value as a line a person reads (lists and objects spelled out)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("có")) if value else str(_l("không"))
    if isinstance(value, dict):
        parts = [f"{key_label(k)}: {as_text(v)}" for k, v in value.items() if v not in (None, "")]
        return "; ".join(parts) or "—"
    if isinstance(value, list):
        return "; ".join(as_text(v) for v in value) or "—"
    return label(value) if isinstance(value, str) else str(value)
