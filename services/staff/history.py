"""Revisions, readable diffs between two records, and the activity stream.

A revision is a numbered snapshot of a whole canonical record (services.records) with who,
when, what action and a note. Diffs compare two records key by key; lists are compared item by
item (added, removed, changed), so a diff reads like "bước 3 đã sửa", not like a text patch.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..catalogue.records import Record
from ..db import db, utcnow
from ..labels import label
from ..models import (
    Agency,
    AgencyRevision,
    Procedure,
    ProcedureAgency,
    ProcedureRevision,
    Role,
    User,
)

# Words for the keys of procedure, agency, and list-item records, in the order pages show them.
KEY_LABELS = {
    "code": _l("Mã thủ tục"),
    "name": _l("Tên"),
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

ACTIONS = {
    "created": _l("Tạo mới"),
    "saved": _l("Lưu"),
    "submitted": _l("Gửi duyệt"),
    "returned": _l("Trả lại để sửa"),
    "published": _l("Công bố"),
    "abolished": _l("Bãi bỏ"),
    "restored": _l("Khôi phục phiên bản cũ"),
    "discarded": _l("Hủy bản nháp"),
    "updated": _l("Cập nhật"),
}

# Keys that change on every save and say nothing a reader needs in a diff.
IGNORED = frozenset({"created_at", "updated_at"})


def key_label(key: str) -> str:
    """The words for a record key; the key itself when it has none."""
    return str(KEY_LABELS.get(key, key))


def fingerprint(record: Record) -> str:
    """A short digest of a record, for forms to detect that it changed since they were loaded."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# --- diffs -------------------------------------------------------------------------------------


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
    """The keys that differ between two records of the same kind, in the newer record's order."""
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


# --- revisions ---------------------------------------------------------------------------------


def _next_number(model: type, column, owner_id: int) -> int:
    last = db.session.execute(
        select(func.max(model.number)).where(column == owner_id)
    ).scalar_one_or_none()
    return (last or 0) + 1


def _add(model: type, owner: str, owner_id: int, record: Record, action: str,
         user: User | None, note: str):  # fmt: skip
    revision = model(
        **{owner: owner_id},
        number=_next_number(model, getattr(model, owner), owner_id),
        action=action,
        note=note,
        record=record,
        user_id=user.id if user is not None else None,
        created_at=utcnow(),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def add_procedure_revision(
    procedure: Procedure, record: Record, action: str, user: User | None, note: str = ""
) -> ProcedureRevision:
    """Record a snapshot of a procedure's record (flush only)."""
    return _add(ProcedureRevision, "procedure_id", procedure.id, record, action, user, note)


def add_agency_revision(
    agency: Agency, record: Record, action: str, user: User | None, note: str = ""
) -> AgencyRevision:
    """Record a snapshot of an agency's record (flush only)."""
    return _add(AgencyRevision, "agency_id", agency.id, record, action, user, note)


def _revisions(model: type, owner: str, owner_id: int) -> list:
    return list(
        db.session.execute(
            select(model)
            .where(getattr(model, owner) == owner_id)
            .order_by(model.number.desc())
            .options(selectinload(model.user))
        ).scalars()
    )


def procedure_revisions(procedure: Procedure) -> list[ProcedureRevision]:
    """A procedure's revisions, newest first."""
    return _revisions(ProcedureRevision, "procedure_id", procedure.id)


def agency_revisions(agency: Agency) -> list[AgencyRevision]:
    """An agency's revisions, newest first."""
    return _revisions(AgencyRevision, "agency_id", agency.id)


# --- activity ----------------------------------------------------------------------------------


@dataclass
class Activity:
    """One change in the activity stream: a procedure or agency revision."""

    at: datetime
    kind: str  # "procedure" or "agency"
    key: str  # the procedure's code or the agency's slug
    name: str
    number: int
    action: str
    note: str
    user: User | None

    @property
    def action_label(self) -> str:
        return str(ACTIONS.get(self.action, self.action))


def activity(agency_ids: set[int] | None, *, limit: int = 50, offset: int = 0) -> list[Activity]:
    """Changes newest first: procedure revisions of procedures carried out by `agency_ids`
    (every procedure when None) and revisions of those agencies."""
    procedures = (
        select(ProcedureRevision)
        .order_by(ProcedureRevision.created_at.desc(), ProcedureRevision.id.desc())
        .limit(limit + offset)
        .options(selectinload(ProcedureRevision.procedure), selectinload(ProcedureRevision.user))
    )
    agencies = (
        select(AgencyRevision)
        .order_by(AgencyRevision.created_at.desc(), AgencyRevision.id.desc())
        .limit(limit + offset)
        .options(selectinload(AgencyRevision.agency), selectinload(AgencyRevision.user))
    )
    if agency_ids is not None:
        procedures = procedures.where(
            ProcedureRevision.procedure.has(
                Procedure.agency_links.any(
                    (ProcedureAgency.role == Role.IMPLEMENTING)
                    & ProcedureAgency.agency_id.in_(agency_ids)
                )
            )
        )
        agencies = agencies.where(AgencyRevision.agency_id.in_(agency_ids))
    items = [
        Activity(r.created_at, "procedure", r.procedure.code, r.procedure.name, r.number,
                 r.action, r.note, r.user)
        for r in db.session.execute(procedures).scalars()
    ] + [
        Activity(r.created_at, "agency", r.agency.slug, r.agency.name, r.number, r.action,
                 r.note, r.user)
        for r in db.session.execute(agencies).scalars()
    ]  # fmt: skip
    items.sort(key=lambda a: a.at, reverse=True)
    return items[offset : offset + limit]
