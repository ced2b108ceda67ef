"""Set (c): the 2021 MongoDB export of the old csdl.dichvucong.gov.vn portal, a JSON array of
procedures with `_id`, `title`, "Trình tự thực hiện", "Cách thức thực hiện" (rows),
"Thành phần hồ sơ" (rows) and "Cơ quan thực hiện".

The export carries no procedure code, level or lĩnh vực. Each procedure gets a stable local
code from its MongoDB id ("CSDL-612362818d18c024c839e7ce"), is imported as a draft for staff to
check, and takes as its version time the moment the id was made (when it was scraped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalogue.records import Record
from ..models import Role, Status
from ..text import fold
from . import channels, dossier, parsing
from .agencies import Resolver
from .items import Item, build

_KEYS = {"_id", "title", "Cách thức thực hiện", "Thành phần hồ sơ"}
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def matches(document: Any) -> bool:
    """True for the csdl 2021 export: a list of procedures with MongoDB ids."""
    return (
        isinstance(document, list)
        and bool(document)
        and all(isinstance(entry, dict) and entry.keys() >= _KEYS for entry in document)
    )


def read(document: list, path: Path, resolver: Resolver) -> Iterator[Item]:
    """Every procedure of the export, in order."""
    for i, entry in enumerate(document):
        yield build(
            _object_id(entry) or f"#{i + 1}", lambda entry=entry: procedure(entry, resolver)
        )


def _object_id(entry: dict) -> str:
    oid = entry.get("_id")
    oid = oid.get("$oid") if isinstance(oid, dict) else oid
    return oid if isinstance(oid, str) and _OBJECT_ID.match(oid) else ""


def _fee_text(raw: object) -> str:
    """Fee text without the page's link label ("Phí: 200000 ĐồngXem chi tiết")."""
    text = re.sub(r"\s*Xem chi tiết\s*", "\n", parsing.prepare(raw)).strip()
    lines = [
        line
        for line in parsing.block(text).split("\n")
        if not re.fullmatch(r"(?:le phi|phi)\s*:?\s*(?:dong)?", fold(line))
    ]
    return "\n".join(lines)


def _channel(row: dict) -> Record | None:
    kind = channels.channel_kind(row.get("Hình thức nộp"))
    if kind is None:
        return None
    number, unit = channels.time_limit(row.get("Thời hạn giải quyết"))
    fee = _fee_text(row.get("Phí, lệ phí"))
    return {
        "kind": kind,
        "time_limit_value": number,
        "time_limit_unit": unit,
        "time_limit_text": parsing.value(row.get("Thời hạn giải quyết")),
        "fee_text": fee,
        "fee_amount": channels.fee_amount(fee),
        "note": parsing.block(row.get("Mô tả")),
    }


def _dossier_item(row: dict) -> Record:
    originals, copies = dossier.counts(row.get("Số lượng - bản chính"))
    url = parsing.value(row.get("Mẫu đơn, tờ khai"))
    return {
        "name": parsing.block(row.get("Tên giấy tờ")),
        "originals": originals,
        "copies": copies,
        # An empty download link ends in "ma=": there is no form.
        "template_url": "" if url.endswith("=") else url,
    }


def procedure(entry: dict, resolver: Resolver) -> tuple[dict, list[Record]]:
    """The procedure dict (for records.normalize_procedure) and the agencies it needs."""
    oid = _object_id(entry)
    links = resolver.links(entry.get("Cơ quan thực hiện"), Role.IMPLEMENTING)
    channel_rows = [c for c in map(_channel, entry.get("Cách thức thực hiện") or []) if c]
    return {
        "code": f"CSDL-{oid}" if oid else "",
        "name": parsing.value(entry.get("title")),
        "status": Status.DRAFT,
        "agencies": links,
        "steps": parsing.steps(entry.get("Trình tự thực hiện")),
        "channels": channel_rows,
        "online_url": channels.online_url(channel_rows),
        "dossier": [
            item for item in map(_dossier_item, entry.get("Thành phần hồ sơ") or []) if item["name"]
        ],
        "updated_at": datetime.fromtimestamp(int(oid[:8], 16), UTC) if oid else None,
    }, resolver.needed(links)
