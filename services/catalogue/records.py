"""Records: the one shape in which procedures, agencies and lĩnh vực enter and leave.

A record is a dict in the catalogue file format (docs/catalogue-format.md). `normalize_*` turns
any input dict (a catalogue file, an importer's output, a staff form, a stored revision) into the
canonical record — every key present, in order, text NFC — or raises ValidationError naming the
bad key. `*_record` reads a model back into the same canonical shape, so two records compare
equal exactly when the stored data would not change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from ..errors import ValidationError
from ..models import (
    AgencyKind,
    ChannelKind,
    OnlineLevel,
    Role,
    Status,
    TimeUnit,
)
from ..text import clean, clean_block, level_sort_key, slugify, sort_key

Record = dict[str, Any]

FORMAT = "tthc-catalogue"
VERSION = 1

CODE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-_]{0,49}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The generated name of an uploaded form template (services.uploads).
FILE_PATTERN = re.compile(r"^[0-9a-f]{32}\.(?:pdf|doc|docx|xls|xlsx|odt)$")

SETTINGS_KEYS = (
    "portal_name",
    "locality",
    "base_url",
    "intro",
    "desk_name",
    "desk_address",
    "desk_hours",
    "desk_phone",
    "desk_email",
)
_BLOCK_SETTINGS = {"intro", "desk_address", "desk_hours"}


# --- value readers: each takes the raw value and the key path for error messages ----------------


def _text(value: Any, path: str, *, required: bool = False, block: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError({path: _("Phải là chuỗi ký tự.")})
        value = str(value)
    value = clean_block(value) if block else clean(value)
    if required and not value:
        raise ValidationError({path: _("Không được để trống.")})
    return value


def _date(value: Any, path: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValidationError({path: _("Ngày không hợp lệ (cần dạng YYYY-MM-DD).")}) from None


def parse_timestamp(value: Any) -> datetime:
    """Read an ISO 8601 timestamp (or datetime) as a naive UTC datetime to the second."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def format_timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: Any, path: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return format_timestamp(parse_timestamp(value))
    except (TypeError, ValueError):
        raise ValidationError({path: _("Thời điểm không hợp lệ (ISO 8601).")}) from None


def _int(value: Any, path: str, *, minimum: int = 0, allow_none: bool = False) -> int | None:
    if value in (None, ""):
        if allow_none:
            return None
        value = 0
    if isinstance(value, bool):
        raise ValidationError({path: _("Phải là số nguyên.")})
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError({path: _("Phải là số nguyên.")}) from None
    if number < minimum:
        raise ValidationError({path: _("Không được nhỏ hơn %(n)s.", n=minimum)})
    return number


def _number(value: Any, path: str) -> int | float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValidationError({path: _("Phải là một số.")})
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise ValidationError({path: _("Phải là một số.")}) from None
    if not math.isfinite(number) or number < 0:
        raise ValidationError({path: _("Phải là một số không âm.")})
    return int(number) if number.is_integer() else number


def _choice(value: Any, path: str, choices: type, *, allow_none: bool = False) -> str | None:
    if value in (None, ""):
        if allow_none:
            return None
        raise ValidationError({path: _("Không được để trống.")})
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise ValidationError(
            {path: _("Giá trị không hợp lệ; chọn một trong: %(v)s.", v=", ".join(allowed))}
        )
    return str(value)


def _list(value: Any, path: str) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({path: _("Phải là một danh sách.")})
    return value


def _names(value: Any, path: str) -> list[str]:
    """A list of distinct non-empty names, order kept."""
    out: list[str] = []
    for i, item in enumerate(_list(value, path)):
        name = _text(item, f"{path}.{i}")
        if name and name not in out:
            out.append(name)
    return out


def _dict(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError({path: _("Phải là một đối tượng.")})
    return value


def _code(value: Any, path: str) -> str:
    code = _text(value, path, required=True)
    if not CODE_PATTERN.match(code):
        raise ValidationError({path: _("Mã thủ tục không hợp lệ: %(c)s.", c=code)})
    return code


def _slug(value: Any, path: str) -> str:
    slug = _text(value, path, required=True)
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            {path: _("Tên đường dẫn chỉ gồm chữ thường không dấu, số và dấu '-'.")}
        )
    return slug


def _file(value: Any, path: str) -> str:
    name = _text(value, path)
    if not FILE_PATTERN.match(name):
        raise ValidationError({path: _("Tên tệp mẫu đã tải lên không hợp lệ.")})
    return name


def _web_address(value: Any, path: str) -> str:
    """An absolute http(s) address, or "" for none: a link people follow must open a page."""
    url = _text(value, path)
    parts = urlsplit(url)
    if url and (parts.scheme.lower() not in ("http", "https") or not parts.hostname):
        raise ValidationError(
            {path: _("Địa chỉ web không hợp lệ: cần dạng http://… hoặc https://….")}
        )
    return url


def _optional(reader: Callable, value: Any, path: str) -> Any:
    return None if value in (None, "") else reader(value, path)


# --- normalizers ------------------------------------------------------------------------------


def normalize_settings(raw: Any) -> Record:
    """Return the canonical site-settings record."""
    raw = _dict(raw or {}, "settings")
    return {
        key: _text(raw.get(key), f"settings.{key}", block=key in _BLOCK_SETTINGS)
        for key in SETTINGS_KEYS
    }


# The English a record may carry (procedures, agencies, lĩnh vực): staff's translation for
# foreign investors, "" when there is none. The national data has none, so an import keeps the
# stored English (services.importers).
ENGLISH_KEYS = ("name_en", "summary_en")


def english(raw: dict, path: str) -> Record:
    """The English name and summary of an input dict, normalized ("" when absent)."""
    return {
        "name_en": _text(raw.get("name_en"), f"{path}.name_en"),
        "summary_en": _text(raw.get("summary_en"), f"{path}.summary_en", block=True),
    }


def normalize_agency(raw: Any, path: str = "agency") -> Record:
    """Return the canonical agency record."""
    raw = _dict(raw, path)
    name = _text(raw.get("name"), f"{path}.name", required=True)
    return {
        "slug": _slug(raw.get("slug") or slugify(name), f"{path}.slug"),
        "name": name,
        "short_name": _text(raw.get("short_name"), f"{path}.short_name"),
        **english(raw, path),
        "kind": _choice(raw.get("kind") or AgencyKind.OTHER, f"{path}.kind", AgencyKind),
        "parent": _optional(_slug, raw.get("parent"), f"{path}.parent"),
        "position": _int(raw.get("position"), f"{path}.position"),
        "address": _text(raw.get("address"), f"{path}.address", block=True),
        "phone": _text(raw.get("phone"), f"{path}.phone"),
        "email": _text(raw.get("email"), f"{path}.email"),
        "website": _text(raw.get("website"), f"{path}.website"),
        "opening_hours": _text(raw.get("opening_hours"), f"{path}.opening_hours", block=True),
        "description": _text(raw.get("description"), f"{path}.description", block=True),
        "valid_from": _date(raw.get("valid_from"), f"{path}.valid_from"),
        "valid_to": _date(raw.get("valid_to"), f"{path}.valid_to"),
        "successor": _optional(_slug, raw.get("successor"), f"{path}.successor"),
    }


def normalize_field(raw: Any, path: str = "field") -> Record:
    """Return the canonical lĩnh vực record."""
    raw = _dict(raw, path)
    name = _text(raw.get("name"), f"{path}.name", required=True)
    return {
        "slug": _slug(raw.get("slug") or slugify(name), f"{path}.slug"),
        "code": _text(raw.get("code"), f"{path}.code") or None,
        "name": name,
        **english(raw, path),
    }


def _channel(raw: Any, path: str) -> Record:
    raw = _dict(raw, path)
    return {
        "kind": _choice(raw.get("kind"), f"{path}.kind", ChannelKind),
        "time_limit_value": _number(raw.get("time_limit_value"), f"{path}.time_limit_value"),
        "time_limit_unit": _choice(
            raw.get("time_limit_unit"), f"{path}.time_limit_unit", TimeUnit, allow_none=True
        ),
        "time_limit_text": _text(raw.get("time_limit_text"), f"{path}.time_limit_text", block=True),
        "fee_text": _text(raw.get("fee_text"), f"{path}.fee_text", block=True),
        "fee_amount": _int(raw.get("fee_amount"), f"{path}.fee_amount", allow_none=True),
        "note": _text(raw.get("note"), f"{path}.note", block=True),
    }


def _dossier_item(raw: Any, path: str) -> Record:
    raw = _dict(raw, path)
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise ValidationError({f"{path}.required": _("Phải là true hoặc false.")})
    return {
        "group": _text(raw.get("group"), f"{path}.group"),
        "name": _text(raw.get("name"), f"{path}.name", required=True, block=True),
        "originals": _int(raw.get("originals"), f"{path}.originals"),
        "copies": _int(raw.get("copies"), f"{path}.copies"),
        "required": required,
        "note": _text(raw.get("note"), f"{path}.note", block=True),
        "template_name": _text(raw.get("template_name"), f"{path}.template_name"),
        "template_url": _text(raw.get("template_url"), f"{path}.template_url"),
        "template_file": _optional(_file, raw.get("template_file"), f"{path}.template_file"),
    }


def _agency_link(raw: Any, path: str) -> Record:
    raw = _dict(raw, path)
    agency = _optional(_slug, raw.get("agency"), f"{path}.agency")
    name = _text(raw.get("name"), f"{path}.name")
    if not agency and not name:
        raise ValidationError({f"{path}.name": _("Cần tên cơ quan hoặc cơ quan trong danh mục.")})
    return {
        "role": _choice(raw.get("role") or Role.IMPLEMENTING, f"{path}.role", Role),
        "agency": agency,
        "name": name,
    }


def _result(raw: Any, path: str) -> Record:
    raw = _dict(raw, path)
    return {
        "name": _text(raw.get("name"), f"{path}.name", required=True, block=True),
        "code": _text(raw.get("code"), f"{path}.code") or None,
    }


def _legal_basis(raw: Any, path: str) -> Record:
    raw = _dict(raw, path)
    number = _text(raw.get("number"), f"{path}.number")
    title = _text(raw.get("title"), f"{path}.title", block=True)
    if not number and not title:
        raise ValidationError({f"{path}.title": _("Cần số hiệu hoặc trích yếu văn bản.")})
    return {
        "number": number,
        "title": title,
        "issued_date": _date(raw.get("issued_date"), f"{path}.issued_date"),
        "issuer": _text(raw.get("issuer"), f"{path}.issuer"),
    }


def _items(raw: Any, path: str, reader: Callable[[Any, str], Record]) -> list[Record]:
    return [reader(item, f"{path}.{i}") for i, item in enumerate(_list(raw, path))]


def normalize_procedure(raw: Any, path: str = "procedure") -> Record:
    """Return the canonical procedure record, or raise ValidationError naming the bad key."""
    raw = _dict(raw, path)
    steps = [
        step
        for i, item in enumerate(_list(raw.get("steps"), f"{path}.steps"))
        if (step := _text(item, f"{path}.steps.{i}", block=True))
    ]
    related = _names(raw.get("related"), f"{path}.related")
    for i, code in enumerate(related):
        _code(code, f"{path}.related.{i}")
    return {
        "code": _code(raw.get("code"), f"{path}.code"),
        "name": _text(raw.get("name"), f"{path}.name", required=True),
        **english(raw, path),
        "status": _choice(raw.get("status") or Status.DRAFT, f"{path}.status", Status),
        "decision_number": _text(raw.get("decision_number"), f"{path}.decision_number"),
        "decision_date": _date(raw.get("decision_date"), f"{path}.decision_date"),
        "levels": sorted(_names(raw.get("levels"), f"{path}.levels"), key=level_sort_key),
        "procedure_type": _text(raw.get("procedure_type"), f"{path}.procedure_type"),
        # Sets, kept in one canonical order so records compare equal on every database.
        "fields": sorted(_names(raw.get("fields"), f"{path}.fields"), key=sort_key),
        "subjects": sorted(_names(raw.get("subjects"), f"{path}.subjects"), key=sort_key),
        "agencies": _items(raw.get("agencies"), f"{path}.agencies", _agency_link),
        "receiving_address": _text(
            raw.get("receiving_address"), f"{path}.receiving_address", block=True
        ),
        "online_level": _choice(
            raw.get("online_level"), f"{path}.online_level", OnlineLevel, allow_none=True
        ),
        "keywords": _names(raw.get("keywords"), f"{path}.keywords"),
        "description": _text(raw.get("description"), f"{path}.description", block=True),
        "requirements": _text(raw.get("requirements"), f"{path}.requirements", block=True),
        "source_url": _text(raw.get("source_url"), f"{path}.source_url"),
        "online_url": _web_address(raw.get("online_url"), f"{path}.online_url"),
        "steps": steps,
        "channels": _items(raw.get("channels"), f"{path}.channels", _channel),
        "dossier": _items(raw.get("dossier"), f"{path}.dossier", _dossier_item),
        "results": _items(raw.get("results"), f"{path}.results", _result),
        "legal_bases": _items(raw.get("legal_bases"), f"{path}.legal_bases", _legal_basis),
        "related": related,
        "replaced_by": _optional(_code, raw.get("replaced_by"), f"{path}.replaced_by"),
        "abolished_reason": _text(
            raw.get("abolished_reason"), f"{path}.abolished_reason", block=True
        ),
        "created_at": _timestamp(raw.get("created_at"), f"{path}.created_at"),
        "updated_at": _timestamp(raw.get("updated_at"), f"{path}.updated_at"),
    }
