"""Catalogue files (docs/catalogue-format.md): export, import, the CSV list, and the demo
catalogue an installation starts with.

Import is one use case with one commit: a file that fails anywhere leaves the catalogue as it
was. Procedures are upserted by code, agencies by slug, lĩnh vực by slug or name.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, printing
from ..db import db, transaction
from ..editorial import history
from ..errors import Conflict, ValidationError
from ..journeys import store as journeys
from ..models import Agency, Field, Procedure, Role
from . import convert, queries, records, store


def export_catalogue() -> dict[str, Any]:
    """The whole catalogue as one document in the catalogue file format."""
    agencies = db.session.execute(select(Agency)).scalars().all()
    fields = db.session.execute(select(Field).order_by(Field.slug)).scalars().all()
    return {
        "format": records.FORMAT,
        "version": records.VERSION,
        "settings": convert.settings_record(queries.get_settings()),
        "agencies": [convert.agency_record(a) for a in _parents_first(agencies)],
        "fields": [convert.field_record(f) for f in fields],
        "procedures": [convert.procedure_record(p) for p in queries.all_procedures()],
        "journeys": journeys.export_journeys(),
    }


def _parents_first(agencies: list[Agency]) -> list[Agency]:
    """Agencies ordered so each comes after its parent: depth first over the hierarchy."""
    ordered: list[Agency] = []
    for node in queries.agency_tree():
        stack = [node]
        while stack:
            current = stack.pop()
            ordered.append(current.agency)
            stack.extend(reversed(current.children))
    placed = {a.id for a in ordered}
    return ordered + sorted((a for a in agencies if a.id not in placed), key=lambda a: a.slug)


def dumps(document: dict[str, Any]) -> str:
    """Serialize a catalogue document the one way export always writes it."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_export(path: Path) -> int:
    """Write the catalogue file to `path`; returns the number of procedures written."""
    document = export_catalogue()
    path.write_text(dumps(document), encoding="utf-8")
    return len(document["procedures"])


class Skip(NamedTuple):
    """A procedure an import left out: the file it came from, its code (or position), why."""

    file: str
    label: str
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do).

    `procedures`, `agencies`, `fields` and `journeys` count "created", "updated" and
    "unchanged";
    `skipped` lists the procedures left out; `files` counts the files read and `unread` lists
    the files that were not (path, reason); `changed` holds the codes created or updated.
    """

    procedures: Counter[str] = field(default_factory=Counter)
    agencies: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    journeys: Counter[str] = field(default_factory=Counter)
    skipped: list[Skip] = field(default_factory=list)
    files: int = 0
    unread: list[tuple[str, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False

    def add(self, other: ImportReport) -> None:
        """Count what another (partial) report holds into this one."""
        self.procedures.update(other.procedures)
        self.agencies.update(other.agencies)
        self.fields.update(other.fields)
        self.journeys.update(other.journeys)
        self.skipped.extend(other.skipped)
        self.unread.extend(other.unread)
        self.changed.extend(other.changed)
        self.files += other.files

    def summary(self) -> str:
        """What the import did to procedures, in words (for the audit trail)."""
        return _(
            "Thủ tục: tạo mới %(c)s, cập nhật %(u)s, bỏ qua %(s)s",
            c=self.procedures["created"],
            u=self.procedures["updated"],
            s=len(self.skipped),
        )


def is_catalogue_document(document: Any) -> bool:
    """True when a parsed JSON value is a catalogue file of this project."""
    return isinstance(document, dict) and document.get("format") == records.FORMAT


def read_json(path: Path) -> Any:
    """Parse a JSON file. Raises ValidationError naming the file when it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError(_("Không đọc được tệp %(p)s: %(e)s", p=path, e=error)) from None


def read_document(path: Path) -> dict[str, Any]:
    """Parse a catalogue file. Raises ValidationError when it is not one this version reads."""
    document = read_json(path)
    if not is_catalogue_document(document):
        raise ValidationError(_("%(p)s không phải tệp danh mục thủ tục.", p=path))
    check_version(document, path)
    return document


def check_version(document: dict[str, Any], path: Path) -> None:
    """Raise ValidationError when a catalogue document has a format version this one cannot
    read."""
    if document.get("version") != records.VERSION:
        raise ValidationError(
            _(
                "Tệp %(p)s có phiên bản định dạng %(v)s; phiên bản đọc được: %(w)s.",
                p=path,
                v=document.get("version"),
                w=records.VERSION,
            )
        )


def import_catalogue(document: dict[str, Any], *, dry_run: bool = False) -> ImportReport:
    """Upsert everything in a catalogue document, in one transaction.

    Settings are written only when the document has some. A procedure whose record is invalid
    is skipped and reported; any other error rolls the whole import back and is raised.
    With `dry_run`, the report is computed and nothing is kept.
    """
    report = ImportReport(dry_run=dry_run)
    with transaction(commit=not dry_run):
        load_document(document, report)
        audit.record("import.catalogue", None, report.summary())
    return report


def load_document(document: dict[str, Any], report: ImportReport, source: str = "") -> None:
    """Store everything in a catalogue document (flush only; the caller commits), counting in
    `report`; skipped procedures are reported with `source` as their file. Raises
    ValidationError for a bad agency, lĩnh vực or journey, which must abort the whole import."""
    settings = records.normalize_settings(document.get("settings"))
    if any(settings.values()):
        store.store_settings(settings)
    agencies = [
        records.normalize_agency(raw, f"agencies.{i}")
        for i, raw in enumerate(document.get("agencies") or [])
    ]
    _store_agencies(agencies, report)
    for i, raw in enumerate(document.get("fields") or []):
        _, outcome = store.store_field(records.normalize_field(raw, f"fields.{i}"))
        report.fields[outcome] += 1
    _store_procedures(document.get("procedures") or [], report, source)
    journeys.load_journeys(document.get("journeys"), report.journeys)


def _store_agencies(agencies: list[records.Record], report: ImportReport) -> None:
    # Parents and successors may come later in the file: create every missing agency bare
    # first, then store each whole.
    existing = set(db.session.execute(select(Agency.slug)).scalars())
    for record in agencies:
        if record["slug"] not in existing:
            store.store_agency({**record, "parent": None, "successor": None})
    for record in agencies:
        _, outcome = store.store_agency(record)
        report.agencies["created" if record["slug"] not in existing else outcome] += 1


def _store_procedures(raws: list[Any], report: ImportReport, source: str) -> None:
    lookups = store.Lookups()
    # The stored procedures these records update, in a few queries rather than one per record.
    codes = [
        r["code"].strip() for r in raws if isinstance(r, dict) and isinstance(r.get("code"), str)
    ]
    lookups.preload(codes)
    known = set(db.session.execute(select(Procedure.code)).scalars())
    deferred: list[records.Record] = []
    for i, raw in enumerate(raws):
        label = raw.get("code", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        try:
            record = records.normalize_procedure(raw, f"procedures.{i}")
            # A replacement may come later in the file: store without it, link it afterwards.
            forward = record["replaced_by"] and record["replaced_by"] not in known
            with db.session.begin_nested():
                _, outcome = store.store_procedure(
                    {**record, "replaced_by": None} if forward else record,
                    lookups,
                    before_update=history.record_outside_state,
                )
        except (ValidationError, Conflict) as error:
            report.skipped.append(Skip(source, str(label), str(error)))
            lookups = store.Lookups()
            continue
        known.add(record["code"])
        report.procedures[outcome] += 1
        if outcome != "unchanged":
            report.changed.append(record["code"])
        if forward:
            deferred.append(record)
    for record in deferred:
        store.store_procedure(record, lookups)


# A cell starting with one of these is a formula to a spreadsheet program (=HYPERLINK(...) opens
# a link, DDE can run a command): OWASP's "CSV injection" list.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """`value` as CSV cell text that a spreadsheet shows as text and never evaluates: a cell
    that could start a formula gets a leading single quote, as OWASP recommends."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class SpreadsheetWriter:
    """csv.writer whose every cell goes through spreadsheet_cell: use it for any CSV the portal
    writes, so no published text reaches a spreadsheet as a live formula."""

    def __init__(self, out: io.TextIOBase) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: list[object]) -> None:
        self._writer.writerow([spreadsheet_cell(value) for value in row])


def procedures_csv(*, public: bool = True) -> str:
    """The list of procedures as CSV text (UTF-8 with BOM so spreadsheet programs read it)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = SpreadsheetWriter(out)
    writer.writerow(
        [
            _("Mã"),
            _("Tên thủ tục"),
            _("Cơ quan thực hiện"),
            _("Lĩnh vực"),
            _("Cấp thực hiện"),
            _("Trạng thái"),
            _("Cập nhật"),
        ]
    )
    for p in queries.all_procedures(public=public, options=queries.LIST_PROCEDURE):
        writer.writerow(
            [
                p.code,
                p.name,
                "; ".join(link.display_name for link in p.agencies(Role.IMPLEMENTING)),
                "; ".join(f.name for f in p.fields),
                "; ".join(level.name for level in p.levels),
                p.status,
                p.updated_at.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return out.getvalue()


DEMO_CATALOGUE = Path(__file__).resolve().parents[2] / "data" / "demo-catalogue.json"


def is_empty() -> bool:
    """True when the catalogue holds no procedure at all."""
    return db.session.execute(select(Procedure.id).limit(1)).first() is None


def load_demo(path: Path = DEMO_CATALOGUE) -> ImportReport:
    """Import the project's demo catalogue (one transaction)."""
    return import_catalogue(read_document(path))


def adopt_base_url(url: str) -> bool:
    """Make `url`, where the portal is being served (`make run`), the site's base URL for QR
    codes and shared links, unless the settings already name another one: an empty base URL,
    or the demo catalogue's default, is replaced; one an admin has set is kept.

    Returns True when the base URL changed. Raises ValidationError for a URL that is not an
    absolute http(s) address.
    """
    served = printing.absolute_base(url).rstrip("/")
    demo = read_document(DEMO_CATALOGUE).get("settings", {}).get("base_url", "")
    with transaction():
        record = convert.settings_record(queries.get_settings())
        current = record["base_url"].strip().rstrip("/")
        if current == served or current not in ("", demo.rstrip("/")):
            return False
        store.store_settings(records.normalize_settings({**record, "base_url": served}))
    return True
