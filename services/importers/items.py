"""What a reader yields for each procedure: the canonical record and the agencies it needs, or
why the procedure could not be read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..catalogue import records
from ..catalogue.records import Record
from ..errors import ValidationError


@dataclass
class Item:
    """One procedure read from a file.

    `record` is canonical (records.normalize_procedure); `agencies` are the canonical agency
    records its links need, parents first; `keys` names the fields a catalogue-only source
    carries (the rest of a stored procedure is kept), or is None when the record is whole.
    """

    label: str
    record: Record | None = None
    agencies: list[Record] = field(default_factory=list)
    keys: tuple[str, ...] | None = None
    error: str | None = None


def build(label: str, make: Callable[[], tuple[dict, list[Record]]], **options) -> Item:
    """Run a reader's `make()` (raw procedure dict, agency records) and normalize the result;
    a record that cannot be read becomes an Item with the reason, so the rest go on."""
    try:
        raw, agencies = make()
        return Item(label, records.normalize_procedure(raw), agencies, **options)
    except ValidationError as error:
        return Item(label, error=str(error))
    except Exception as error:  # a parser bug on one record must not stop the others
        return Item(label, error=_("Lỗi khi đọc: %(e)s", e=f"{type(error).__name__}: {error}"))
