"""How much structure the import recovered from set (a): the share of procedures that came out
with each structured field, over those whose page has the field at all. bench/import.py prints
these figures; the tests hold them to the targets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from services.catalogue.records import Record
from services.importers import channels, dossier, legal, parsing, portal_json


def _has_channels(raw: dict) -> bool:
    return not parsing.is_empty(
        parsing.prepare(raw.get("cach_thuc_thuc_hien")).replace(channels.CHANNEL_HEADER, "")
    )


def _has_dossier(raw: dict) -> bool:
    # Some pages hold misplaced step text here, without the dossier table.
    return dossier.DOSSIER_HEADER in parsing.prepare(raw.get("thanh_phan_ho_so"))


def _has_legal_bases(raw: dict) -> bool:
    return not parsing.is_empty(legal.legal_table(raw.get("can_cu_phap_ly")))


def _has_results(raw: dict) -> bool:
    return bool(parsing.value(parsing.prepare(raw.get("ket_qua_xu_ly")).split("Từ khóa")[0]))


def _has_agency(raw: dict) -> bool:
    return any(parsing.value(raw.get(key)) for key, _ in portal_json.ROLES)


def _every_time_limit(record: Record) -> bool:
    channels = record["channels"]
    return bool(channels) and all(c["time_limit_value"] is not None for c in channels)


# Rate name → (does the page have the field?, did the record get it?).
FIELDS: dict[str, tuple[Callable[[dict], bool], Callable[[Record], bool]]] = {
    "channels": (_has_channels, lambda r: bool(r["channels"])),
    "numeric time limit on every channel": (_has_channels, _every_time_limit),
    "dossier items": (_has_dossier, lambda r: bool(r["dossier"])),
    "legal bases": (_has_legal_bases, lambda r: bool(r["legal_bases"])),
    "results": (_has_results, lambda r: bool(r["results"])),
    "canonical agency": (_has_agency, lambda r: any(link["agency"] for link in r["agencies"])),
}


@dataclass
class Rate:
    """Procedures that came out with a field, of those expected to have it."""

    got: int = 0
    expected: int = 0

    @property
    def share(self) -> float:
        return self.got / self.expected if self.expected else 1.0


@dataclass
class Rates:
    """Parse rates per field, and the procedures with an empty name or code."""

    procedures: int = 0
    fields: dict[str, Rate] = field(default_factory=lambda: {name: Rate() for name in FIELDS})
    empty_name_or_code: int = 0


def rates(pairs: Iterable[tuple[dict, Record]]) -> Rates:
    """Parse rates over (raw page JSON, canonical record) pairs of set (a)."""
    out = Rates()
    for raw, record in pairs:
        out.procedures += 1
        if not record["name"] or not record["code"]:
            out.empty_name_or_code += 1
        for name, (has, got) in FIELDS.items():
            if has(raw):
                out.fields[name].expected += 1
                out.fields[name].got += got(record)
    return out
