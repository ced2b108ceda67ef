"""Import procedures from every shape the national TTHC database and this portal publish.

`run_import` is the use case behind `flask import PATH...`: it walks files and folders, finds
out what each file is (this portal's catalogue file; the portal's scraped pages, set (a); its
.doc exports, set (b); the 2021 csdl export, set (c); its .xlsx lists, set (d)), reads each
with its reader into canonical records, and stores them in one transaction, so that an import
that fails or is killed half-way leaves the catalogue exactly as it was. One procedure that
cannot be read or stored is skipped and reported; the rest go on.

Readers (portal_json, doc_export, csdl2021, xlsx_list) never touch the database; the shared
heuristics for the portal's run-together text are in parsing, with the channels and fees in
channels, the dossier in dossier and the legal bases in legal; the agencies are in agencies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, search
from ..catalogue import convert, records, store, transfer
from ..catalogue.transfer import ImportReport, Skip
from ..db import db, transaction
from ..editorial import history
from ..errors import Conflict, ValidationError
from ..models import Agency, Field
from . import csdl2021, doc_export, portal_json, xlsx_list
from .agencies import Resolver, read_mapping
from .items import Item

# JSON shapes, tried in order on each parsed .json file.
JSON_FORMATS = (portal_json, doc_export, csdl2021)

# Items stored per batch: their stored versions are loaded together, in a few queries.
BATCH = 200

__all__ = ["ImportReport", "Skip", "files_in", "read_mapping", "run_import"]


def files_in(paths: Iterable[Path]) -> list[Path]:
    """The files to read: each file as given, each folder's files recursively in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


def run_import(
    paths: Iterable[Path],
    *,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    progress: Callable[[Path], None] | None = None,
) -> ImportReport:
    """Import every procedure found in `paths` (files or folders), in one transaction.

    `mapping` maps canonical agency slugs to the locality's own agency slugs (see
    agencies.read_mapping); `progress` is called after each file. With `dry_run` the report is
    computed and nothing is kept. Files that cannot be read (a catalogue file with a bad
    agency included) and procedures that cannot be stored are reported and skipped. Raises
    ValidationError when the mapping names an agency that does not exist; that or any other
    error (disk full, a bug) rolls back everything.
    """
    started = time.perf_counter()
    run = _Run(ImportReport(dry_run=dry_run), Resolver(mapping))
    fields_before = _count_fields()
    # The search index is brought up to date once, after the commit (rebuilt when much
    # changed), not procedure by procedure.
    with search.bulk(), transaction(commit=not dry_run):
        for path in files_in(paths):
            run.read(path)
            if progress:
                progress(path)
        run.flush()
        # Readers create lĩnh vực as records name them; count them all, catalogue files' too.
        run.report.fields["created"] = _count_fields() - fields_before
        audit.record("import.files", None, run.report.summary())
    run.report.seconds = time.perf_counter() - started
    return run.report


def _count_fields() -> int:
    return db.session.execute(select(func.count(Field.id))).scalar_one()


class _Run:
    """One import in progress: the report, the agencies known to exist, the batch of read
    items waiting to be stored."""

    def __init__(self, report: ImportReport, resolver: Resolver) -> None:
        self.report = report
        self.resolver = resolver
        self.lookups = store.Lookups()
        self.batch: list[tuple[str, Item]] = []
        self.agencies = set(db.session.execute(select(Agency.slug)).scalars())
        self.mapping_checked = False

    def read(self, path: Path) -> None:
        """Read one file, storing what it holds; an unreadable file is reported."""
        try:
            items = self._items(path)
        except ValidationError as error:
            self.report.unread.append((str(path), str(error)))
            return
        if items is None:
            self.report.unread.append((str(path), _("Không nhận ra định dạng tệp.")))
            return
        self.report.files += 1
        for item in items:
            self.batch.append((str(path), item))
            if len(self.batch) >= BATCH:
                self.flush()

    def _items(self, path: Path) -> Iterator[Item] | None:
        """The items of a file, None when no reader knows it. A catalogue file is stored at
        once, with its agencies and lĩnh vực, and yields nothing."""
        suffix = path.suffix.lower()
        if suffix == ".xlsx" and xlsx_list.matches(path):
            self._check_mapping()
            return xlsx_list.read(path, self.resolver)
        if suffix != ".json":
            return None
        document = transfer.read_json(path)
        if transfer.is_catalogue_document(document):
            transfer.check_version(document, path)
            self.flush()
            part = ImportReport()
            with db.session.begin_nested():
                transfer.load_document(document, part, str(path))
            self.report.add(part)
            self.lookups = store.Lookups()
            self.agencies = set(db.session.execute(select(Agency.slug)).scalars())
            return iter(())
        reader = next((f for f in JSON_FORMATS if f.matches(document)), None)
        if reader is None:
            return None
        self._check_mapping()
        return reader.read(document, path, self.resolver)

    def _check_mapping(self) -> None:
        """The agencies the mapping points to must exist (checked once, before the first
        record that may use them; catalogue files read earlier may have created them)."""
        if self.mapping_checked:
            return
        missing = sorted(set(self.resolver.mapping.values()) - self.agencies)
        if missing:
            raise ValidationError(
                _(
                    "Tệp ánh xạ trỏ tới cơ quan không có trong danh mục: %(s)s.",
                    s=", ".join(missing),
                )
            )
        self.mapping_checked = True

    def flush(self) -> None:
        """Store the waiting items, their stored versions loaded together first."""
        self.lookups.preload([item.record["code"] for _, item in self.batch if item.record])
        for source, item in self.batch:
            self._store(source, item)
        self.batch = []

    def _store(self, source: str, item: Item) -> None:
        if item.record is None:
            self.report.skipped.append(Skip(source, item.label, item.error or ""))
            return
        created: list[str] = []
        try:
            with db.session.begin_nested():
                for agency in item.agencies:
                    if agency["slug"] not in self.agencies:
                        store.store_agency(agency)
                        self.agencies.add(agency["slug"])
                        created.append(agency["slug"])
                _, outcome = store.store_procedure(
                    self._merged(item), self.lookups, before_update=history.record_outside_state
                )
        except (ValidationError, Conflict) as error:
            self.agencies.difference_update(created)
            self.lookups = store.Lookups()
            self.report.skipped.append(Skip(source, item.label, str(error)))
            return
        self.report.agencies["created"] += len(created)
        self.report.procedures[outcome] += 1
        if outcome != "unchanged":
            self.report.changed.append(item.record["code"])

    def _merged(self, item: Item) -> records.Record:
        """A catalogue-only record laid over the stored procedure: only its fields change. The
        national data has no English: the English staff wrote is always kept."""
        stored = self.lookups.existing(item.record["code"])
        if stored is None:
            return item.record
        current = convert.procedure_record(stored)
        english = {key: current[key] for key in records.ENGLISH_KEYS}
        if not item.keys:
            return {**item.record, **english}
        merged = {**current, **{key: item.record[key] for key in item.keys}}
        if "agencies" in item.keys:
            # The source names agencies of some roles only: keep the stored ones of the others.
            roles = {link["role"] for link in item.record["agencies"]}
            merged["agencies"] = item.record["agencies"] + [
                link for link in current["agencies"] if link["role"] not in roles
            ]
        merged["updated_at"] = item.record["updated_at"]
        return merged
