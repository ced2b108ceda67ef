"""Converting between records and models: `*_record` reads a model back into its canonical
record, `fill_procedure` writes a record onto a procedure row (no flush, no commit).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..models import (
    Agency,
    Channel,
    DossierItem,
    Field,
    LegalBasis,
    Procedure,
    ProcedureAgency,
    RelatedProcedure,
    Result,
    SiteSettings,
    Step,
)
from ..text import sort_key
from .records import SETTINGS_KEYS, Record, format_timestamp, parse_timestamp


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def settings_record(settings: SiteSettings) -> Record:
    """The canonical record of the site settings."""
    return {key: getattr(settings, key) or "" for key in SETTINGS_KEYS}


def agency_record(agency: Agency) -> Record:
    """The canonical record of an agency."""
    return {
        "slug": agency.slug,
        "name": agency.name,
        "short_name": agency.short_name,
        "name_en": agency.name_en,
        "summary_en": agency.summary_en,
        "kind": agency.kind,
        "parent": agency.parent.slug if agency.parent else None,
        "position": agency.position,
        "address": agency.address,
        "phone": agency.phone,
        "email": agency.email,
        "website": agency.website,
        "opening_hours": agency.opening_hours,
        "description": agency.description,
        "valid_from": _iso(agency.valid_from),
        "valid_to": _iso(agency.valid_to),
        "successor": agency.successor.slug if agency.successor else None,
    }


def field_record(field: Field) -> Record:
    """The canonical record of a lĩnh vực."""
    return {
        "slug": field.slug,
        "code": field.code,
        "name": field.name,
        "name_en": field.name_en,
        "summary_en": field.summary_en,
    }


def _number_out(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _agency_link_record(link: ProcedureAgency) -> Record:
    return {
        "role": link.role,
        "agency": link.agency.slug if link.agency else None,
        "name": link.name,
    }


_CHANNEL_KEYS = ("time_limit_unit", "time_limit_text", "fee_text", "fee_amount", "note")
_DOSSIER_KEYS = (
    "group", "name", "originals", "copies", "required", "note", "template_name", "template_url",
    "template_file",
)  # fmt: skip


def _columns(row: object, keys: tuple[str, ...]) -> Record:
    return {key: getattr(row, key) for key in keys}


def _channel_record(channel: Channel) -> Record:
    return {
        "kind": channel.kind,
        "time_limit_value": _number_out(channel.time_limit_value),
        **_columns(channel, _CHANNEL_KEYS),
    }


def _legal_basis_record(basis: LegalBasis) -> Record:
    return {
        "number": basis.number,
        "title": basis.title,
        "issued_date": _iso(basis.issued_date),
        "issuer": basis.issuer,
    }


def procedure_record(procedure: Procedure) -> Record:
    """The canonical record of a procedure, with everything it holds."""
    return {
        "code": procedure.code,
        "name": procedure.name,
        "name_en": procedure.name_en,
        "summary_en": procedure.summary_en,
        "status": procedure.status,
        "decision_number": procedure.decision_number,
        "decision_date": _iso(procedure.decision_date),
        "levels": [level.name for level in procedure.levels],
        "procedure_type": procedure.procedure_type,
        "fields": [field.name for field in procedure.fields],
        "subjects": [subject.name for subject in procedure.subjects],
        "agencies": [_agency_link_record(link) for link in procedure.agency_links],
        "receiving_address": procedure.receiving_address,
        "online_level": procedure.online_level,
        "keywords": list(procedure.keywords or []),
        "description": procedure.description,
        "requirements": procedure.requirements,
        "source_url": procedure.source_url,
        "online_url": procedure.online_url,
        "steps": [step.text for step in procedure.steps],
        "channels": [_channel_record(channel) for channel in procedure.channels],
        "dossier": [_columns(item, _DOSSIER_KEYS) for item in procedure.dossier],
        "results": [{"name": r.name, "code": r.code} for r in procedure.results],
        "legal_bases": [_legal_basis_record(basis) for basis in procedure.legal_bases],
        "related": [r.code for r in procedure.related],
        "replaced_by": procedure.replaced_by.code if procedure.replaced_by else None,
        "abolished_reason": procedure.abolished_reason,
        "created_at": format_timestamp(procedure.created_at),
        "updated_at": format_timestamp(procedure.updated_at),
    }


# --- records → models (no commit; the calling use case commits) ---------------------------------


def to_date(value: str | None) -> date | None:
    """A record's ISO date as a date (None for none)."""
    return date.fromisoformat(value) if value else None


def _to_datetime(value: str | None) -> datetime | None:
    return parse_timestamp(value) if value else None


def fill_procedure(procedure: Procedure, record: Record, lookups: Any) -> None:
    """Copy a canonical procedure record onto `procedure`, replacing every child list.

    `lookups` resolves names and slugs to rows: `agency(slug)`, `field(name)`, `level(name)`,
    `subject(name)` and `procedure(code)`; it raises ValidationError for what cannot exist.
    Timestamps are left to the caller.
    """
    procedure.code = record["code"]
    procedure.name = record["name"]
    procedure.name_en = record["name_en"]
    procedure.summary_en = record["summary_en"]
    procedure.sort_name = sort_key(record["name"])
    procedure.status = record["status"]
    procedure.decision_number = record["decision_number"]
    procedure.decision_date = to_date(record["decision_date"])
    procedure.levels = [lookups.level(name) for name in record["levels"]]
    procedure.procedure_type = record["procedure_type"]
    procedure.fields = [lookups.field(name) for name in record["fields"]]
    procedure.subjects = [lookups.subject(name) for name in record["subjects"]]
    procedure.agency_links = [
        _agency_link_row(link, i, lookups) for i, link in enumerate(record["agencies"])
    ]
    procedure.receiving_address = record["receiving_address"]
    procedure.online_level = record["online_level"]
    procedure.keywords = list(record["keywords"])
    procedure.description = record["description"]
    procedure.requirements = record["requirements"]
    procedure.source_url = record["source_url"]
    procedure.online_url = record["online_url"]
    procedure.steps = [Step(position=i, text=text) for i, text in enumerate(record["steps"])]
    procedure.channels = [
        Channel(position=i, **channel) for i, channel in enumerate(record["channels"])
    ]
    procedure.dossier = [
        DossierItem(position=i, **item) for i, item in enumerate(record["dossier"])
    ]
    procedure.results = [Result(position=i, **result) for i, result in enumerate(record["results"])]
    procedure.legal_bases = [
        LegalBasis(position=i, **{**basis, "issued_date": to_date(basis["issued_date"])})
        for i, basis in enumerate(record["legal_bases"])
    ]
    procedure.related = [
        RelatedProcedure(position=i, code=code) for i, code in enumerate(record["related"])
    ]
    procedure.replaced_by = (
        lookups.procedure(record["replaced_by"]) if record["replaced_by"] else None
    )
    procedure.abolished_reason = record["abolished_reason"]


def _agency_link_row(link: Record, position: int, lookups: Any) -> ProcedureAgency:
    agency = lookups.agency(link["agency"]) if link["agency"] else None
    return ProcedureAgency(role=link["role"], agency=agency, name=link["name"], position=position)


def record_timestamps(record: Record) -> tuple[datetime | None, datetime | None]:
    """The record's created_at and updated_at as naive UTC datetimes (or None)."""
    return _to_datetime(record["created_at"]), _to_datetime(record["updated_at"])


def agency_dates(record: Record) -> tuple[date | None, date | None]:
    """The agency record's validity dates as dates."""
    return to_date(record["valid_from"]), to_date(record["valid_to"])
