"""Set (d): the portal's "DANH SÁCH THỦ TỤC HÀNH CHÍNH" spreadsheets, one row per procedure
with the columns Mã số, Tên, Cơ quan ban hành, Cơ quan thực hiện (one agency per line),
Lĩnh vực.

A row is a catalogue-only entry: it sets the code, name, implementing agencies and lĩnh vực,
and keeps everything else a stored procedure already has (steps, channels, dossier ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from openpyxl import load_workbook

from ..catalogue.records import Record
from ..models import Role, Status
from ..text import fold
from . import parsing
from .agencies import Resolver
from .items import Item, build

KEYS = ("code", "name", "agencies", "fields")
_HEADER = ("ma so", "ten", "co quan ban hanh", "co quan thuc hien", "linh vuc")


def _rows(path: Path) -> Iterator[tuple]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _columns(row: tuple) -> dict[str, int] | None:
    """Positions of the known columns when `row` is the header row."""
    names = [fold(parsing.value(cell)) for cell in row]
    if not {"ma so", "ten"} <= set(names):
        return None
    return {name: names.index(name) for name in _HEADER if name in names}


def matches(path: Path) -> bool:
    """True for a spreadsheet whose first rows hold the list's header (Mã số, Tên, ...)."""
    try:
        return any(_columns(row) for _, row in zip(range(10), _rows(path), strict=False))
    except Exception:  # any file openpyxl cannot open is simply not a list
        return False


def read(path: Path, resolver: Resolver) -> Iterator[Item]:
    """One catalogue-only item per row under the header."""
    columns = None
    for number, row in enumerate(_rows(path), start=1):
        if columns is None:
            columns = _columns(row)
            continue
        cells = {name: row[i] if i < len(row) else None for name, i in columns.items()}
        if not any(parsing.value(cell) for cell in cells.values()):
            continue
        label = parsing.value(cells.get("ma so")) or f"dòng {number}"
        yield build(label, lambda cells=cells: procedure(cells, resolver), keys=KEYS)


def procedure(cells: dict, resolver: Resolver) -> tuple[dict, list[Record]]:
    """The procedure dict (for records.normalize_procedure) and the agencies it needs."""
    issuer = resolver.resolve(parsing.value(cells.get("co quan ban hanh")))
    links = resolver.links(cells.get("co quan thuc hien"), Role.IMPLEMENTING, issuer)
    field = parsing.value(cells.get("linh vuc"))
    return {
        "code": parsing.value(cells.get("ma so")),
        "name": parsing.value(cells.get("ten")),
        "status": Status.PUBLISHED,
        "agencies": links,
        "fields": [field] if field else [],
    }, resolver.needed(links)
