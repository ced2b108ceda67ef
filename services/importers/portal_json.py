"""Set (a): one JSON per procedure scraped from the national portal's detail pages
(dichvucong.gov.vn/thu-tuc-hanh-chinh/...), keys `ma_thu_tuc`, `ten_thu_tuc`, ... with the
tables (channels, dossier, legal bases, results) as cell text run together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..catalogue.records import Record
from ..models import Role, Status
from . import channels, dossier, legal, parsing
from .agencies import Resolver, ministry_of
from .items import Item, build

_KEYS = {"ma_thu_tuc", "ten_thu_tuc", "cach_thuc_thuc_hien", "thanh_phan_ho_so"}
ROLES = (
    ("co_quan_thuc_hien", Role.IMPLEMENTING),
    ("co_quan_co_tham_quyen", Role.COMPETENT),
    ("co_quan_duoc_uy_quyen", Role.AUTHORIZED),
    ("co_quan_phoi_hop", Role.COORDINATING),
)


def matches(document: Any) -> bool:
    """True for one procedure scraped from the portal's page."""
    return isinstance(document, dict) and document.keys() >= _KEYS


def read(document: dict, path: Path, resolver: Resolver) -> Iterator[Item]:
    """The one procedure of the file."""
    label = parsing.value(document.get("ma_thu_tuc")) or path.name
    yield build(label, lambda: procedure(document, resolver))


def procedure(raw: dict, resolver: Resolver) -> tuple[dict, list[Record]]:
    """The procedure dict (for records.normalize_procedure) and the agencies it needs."""
    ministry = ministry_of(parsing.value(raw.get("so_quyet_dinh")))
    links = [
        link for field, role in ROLES for link in resolver.links(raw.get(field), role, ministry)
    ]
    steps = parsing.steps(raw.get("trinh_tu_thuc_hien"))
    channel_rows = channels.portal_channels(raw.get("cach_thuc_thuc_hien"))
    for channel in channel_rows:
        # A time cell without its unit ("7"): the steps usually say "07 ngày làm việc".
        if channel["time_limit_value"] is not None and channel["time_limit_unit"] is None:
            channel["time_limit_unit"] = channels.unit_in(
                "\n".join(steps), channel["time_limit_value"]
            )
    results, keywords, description = parsing.portal_results(raw.get("ket_qua_xu_ly"))
    field = parsing.value(raw.get("linh_vuc"))
    return {
        "code": parsing.value(raw.get("ma_thu_tuc")),
        "name": parsing.value(raw.get("ten_thu_tuc")),
        "status": Status.PUBLISHED,
        "decision_number": parsing.value(raw.get("so_quyet_dinh")),
        "levels": parsing.levels(raw.get("cap_thuc_hien")),
        "procedure_type": parsing.value(raw.get("loai_thu_tuc")),
        "fields": [field] if field else [],
        "subjects": parsing.split_names(raw.get("doi_tuong_thuc_hien")),
        "agencies": links,
        "receiving_address": parsing.block(raw.get("dia_chi_tiep_nhan")),
        "keywords": keywords,
        "description": description,
        "requirements": parsing.optional_block(raw.get("yeu_cau_dieu_kien")),
        "source_url": parsing.value(raw.get("detail_url")),
        "steps": steps,
        "channels": channel_rows,
        "online_url": channels.online_url(channel_rows),
        "dossier": dossier.portal_dossier(raw.get("thanh_phan_ho_so")),
        "results": results,
        "legal_bases": legal.portal_legal_bases(raw.get("can_cu_phap_ly")),
    }, resolver.needed(links)
