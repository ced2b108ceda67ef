"""Set (b): JSON extracted from the portal's "ChiTietTTHC_<mã>.doc" exports, with `metadata`,
`content` and the tables kept as rows (`tables.hinh_thuc_nop`, `thanh_phan_ho_so`,
`can_cu_phap_ly`). In the dossier rows the columns are shifted: the form's file name sits in
`so_luong` and the counts ("Bản chính: 1\\nBản sao: 0") in `ghi_chu`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..catalogue.records import Record
from ..models import Role, Status
from . import channels, dossier, legal, parsing
from .agencies import Resolver, ministry_of
from .items import Item, build

ROLES = (
    ("cơ_quan_thực_hiện", Role.IMPLEMENTING),
    ("cơ_quan_có_thẩm_quyền", Role.COMPETENT),
    ("cơ_quan_được_ủy_quyền", Role.AUTHORIZED),
    ("cơ_quan_phối_hợp", Role.COORDINATING),
)
_DECISION = re.compile(r"\d+[a-z]?\s*/\s*QĐ-[A-Za-zĐ0-9\-]+")


def matches(document: Any) -> bool:
    """True for one procedure extracted from a ChiTietTTHC .doc export."""
    return isinstance(document, dict) and {"metadata", "content", "tables"} <= document.keys()


def read(document: dict, path: Path, resolver: Resolver) -> Iterator[Item]:
    """The one procedure of the file."""
    metadata = document.get("metadata") or {}
    label = parsing.value(metadata.get("mã_thủ_tục")) or path.name
    yield build(label, lambda: procedure(document, resolver))


def _channel(row: dict) -> Record | None:
    kind = channels.channel_kind(row.get("hinh_thuc"))
    if kind is None:
        return None
    number, unit = channels.time_limit(row.get("thoi_han_giai_quyet"))
    return {
        "kind": kind,
        "time_limit_value": number,
        "time_limit_unit": unit,
        "time_limit_text": parsing.value(row.get("thoi_han_giai_quyet")),
        "fee_text": parsing.block(row.get("phi_le_phi")),
        "fee_amount": channels.fee_amount(row.get("phi_le_phi")),
        "note": parsing.block(row.get("mo_ta")),
    }


def _dossier_item(row: dict) -> Record:
    cells = [parsing.block(row.get(key)) for key in ("so_luong", "ghi_chu")]
    counts = next((cell for cell in cells if "bản chính" in cell.lower()), "")
    template = next((cell for cell in cells if cell and cell != counts), "")
    originals, copies = dossier.counts(counts)
    return {
        "name": parsing.block(row.get("ten_giay_to")),
        "originals": originals,
        "copies": copies,
        "template_name": parsing.value(template),
    }


def _legal_basis(row: dict) -> Record:
    title = parsing.block(row.get("trich_yeu"))
    number = parsing.value(row.get("so_ky_hieu"))
    # The number column is sometimes cut short ("12") or holds a phrase ("Thông tư số ...").
    found = legal.legal_number(number)
    if not found:
        in_title = legal.legal_number(title)
        found = in_title if in_title.split("/")[0] == number else ""
    day = re.match(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", parsing.value(row.get("ngay_ban_hanh")))
    return {
        "number": found or number,
        "title": title,
        "issued_date": legal.iso_date(*day.groups()) if day else None,
        "issuer": parsing.value(row.get("co_quan_ban_hanh")),
    }


def procedure(raw: dict, resolver: Resolver) -> tuple[dict, list[Record]]:
    """The procedure dict (for records.normalize_procedure) and the agencies it needs."""
    metadata, content, tables = raw["metadata"], raw["content"], raw["tables"]
    decision = parsing.value(metadata.get("số_quyết_định"))
    found = _DECISION.search(decision)
    decision = re.sub(r"\s+", "", found.group(0)) if found else decision
    ministry = ministry_of(decision)
    links = [
        link for field, role in ROLES for link in resolver.links(content.get(field), role, ministry)
    ]
    field = parsing.value(metadata.get("lĩnh_vực"))
    results = parsing.block(content.get("kết_quả_thực_hiện"))
    keywords = content.get("từ_khóa")
    channel_rows = [c for c in map(_channel, tables.get("hinh_thuc_nop") or []) if c]
    return {
        "code": parsing.value(metadata.get("mã_thủ_tục")),
        "name": parsing.value(metadata.get("tên_thủ_tục")),
        "status": Status.PUBLISHED,
        "decision_number": decision,
        "levels": parsing.levels(metadata.get("cấp_thực_hiện")),
        "procedure_type": parsing.value(metadata.get("loại_thủ_tục")),
        "fields": [field] if field else [],
        "subjects": parsing.split_names(content.get("đối_tượng_thực_hiện")),
        "agencies": links,
        "receiving_address": parsing.block(content.get("địa_chỉ_tiếp_nhận_hs")),
        "keywords": (
            [] if parsing.is_empty(keywords) else parsing.split_names(keywords, continued=False)
        ),
        "description": parsing.block(content.get("mô_tả")),
        "requirements": parsing.optional_block(content.get("yêu_cầu_điều_kiện_thực_hiện")),
        "steps": parsing.steps(content.get("trình_tự_thực_hiện")),
        "channels": channel_rows,
        "online_url": channels.online_url(channel_rows),
        "dossier": [
            item
            for item in map(_dossier_item, tables.get("thanh_phan_ho_so") or [])
            if item["name"]
        ],
        "results": [{"name": line} for line in results.split("\n") if line],
        "legal_bases": [
            basis
            for basis in map(_legal_basis, tables.get("can_cu_phap_ly") or [])
            if basis["number"] or basis["title"]
        ],
    }, resolver.needed(links)
