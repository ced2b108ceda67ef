"""The real national-portal pages in shared/data/tthc-real, read in place by tests and benchmarks
(never copied into the project), and a minimal mapping of one page to a catalogue record.

The mapping is not the importer (that is services/importers/): it only keeps every piece of text
a procedure page shows, so that printing can be tried on real lengths and real Vietnamese.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PAGES = Path("shared/data/tthc-real/chatbot_tthc/data/raw")
_EMPTY = "Không có thông tin"
_CHANNELS = (("Trực tiếp", "direct"), ("Trực tuyến", "online"), ("Dịch vụ bưu chính", "postal"))


def pages_folder() -> Path | None:
    """The folder of scraped pages beside the checkout (CI) or beside any parent (worktrees)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / PAGES).is_dir():
            return folder / PAGES
    return None


def read_pages(folder: Path) -> Iterator[dict[str, Any]]:
    """Every scraped page in the folder, in file name order."""
    for path in sorted(folder.glob("*/*.json")):
        yield json.loads(path.read_text(encoding="utf-8"))


def _value(page: dict[str, Any], key: str) -> str:
    text = (page.get(key) or "").strip()
    return "" if text == _EMPTY else text


def portal_record(page: dict[str, Any], agency: str | None = None) -> dict[str, Any]:
    """A published procedure record from a scraped page; `agency` (a slug) is the implementing
    agency, otherwise the agency is kept by name."""
    dossier = _value(page, "thanh_phan_ho_so").split("Số lượng", 1)[-1]
    items = [item.strip(" ;\t-") for item in re.split(r"\s\+\s|\t\+\s", dossier)]
    channels = _value(page, "cach_thuc_thuc_hien")
    legal = _value(page, "can_cu_phap_ly").split("Mã văn bản", 1)[-1]
    result = _value(page, "ket_qua_xu_ly").split("Từ khóa")[0]
    return {
        "code": page["ma_thu_tuc"],
        "name": page["ten_thu_tuc"],
        "status": "published",
        "decision_number": _value(page, "so_quyet_dinh"),
        "levels": _value(page, "cap_thuc_hien").split(", "),
        "procedure_type": _value(page, "loai_thu_tuc"),
        "fields": [_value(page, "linh_vuc")],
        "subjects": [_value(page, "doi_tuong_thuc_hien")],
        "agencies": [
            {"role": "implementing", "agency": agency}
            if agency
            else {"role": "implementing", "name": _value(page, "co_quan_thuc_hien")}
        ],
        "receiving_address": _value(page, "dia_chi_tiep_nhan"),
        "steps": _value(page, "trinh_tu_thuc_hien").split("\n"),
        "requirements": _value(page, "yeu_cau_dieu_kien"),
        "channels": [{"kind": kind} for name, kind in _CHANNELS if name in channels],
        "dossier": [{"name": item, "originals": 1} for item in items if len(item) > 3],
        "results": [{"name": result}] if result else [],
        "legal_bases": [{"title": legal}] if legal else [],
        "source_url": page.get("detail_url") or "",
    }
