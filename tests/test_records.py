"""Canonical records: every input shape becomes one normalized record, or a clear error."""

import unicodedata

import pytest

from services.catalogue import records
from services.errors import ValidationError
from tests.helpers import procedure_raw


def test_normalize_procedure_fills_every_key_in_order(app):
    with app.app_context():
        record = records.normalize_procedure({"code": "1.000001", "name": "Tên"})
    assert list(record) == [
        "code", "name", "name_en", "summary_en", "status", "decision_number", "decision_date",
        "levels", "procedure_type", "fields", "subjects", "agencies", "receiving_address",
        "online_level", "keywords", "description", "requirements", "source_url", "online_url",
        "steps", "channels", "dossier", "results", "legal_bases", "related", "replaced_by",
        "abolished_reason", "created_at", "updated_at",
    ]  # fmt: skip
    assert record["status"] == "draft"
    assert record["steps"] == []
    assert record["online_level"] is None


def test_normalize_procedure_cleans_text_and_types(app):
    raw = procedure_raw(
        name=unicodedata.normalize("NFD", "  Đăng\u00a0ký   khai sinh "),
        levels=["Cấp xã", "Cấp xã", ""],
        steps=["Bước 1", "  ", "Bước 2"],
        channels=[{"kind": "online", "time_limit_value": "3,5", "fee_amount": "0"}],
        created_at="2025-01-02T10:00:00+07:00",
    )
    with app.app_context():
        record = records.normalize_procedure(raw)
    assert record["name"] == "Đăng ký khai sinh"
    assert unicodedata.is_normalized("NFC", record["name"])
    assert record["levels"] == ["Cấp xã"]
    assert record["steps"] == ["Bước 1", "Bước 2"]
    assert record["channels"][0]["time_limit_value"] == 3.5
    assert record["channels"][0]["fee_amount"] == 0
    assert record["created_at"] == "2025-01-02T03:00:00Z"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"code": ""}, "procedure.code"),
        ({"code": "1.0 01"}, "procedure.code"),
        ({"name": "   "}, "procedure.name"),
        ({"status": "gone"}, "procedure.status"),
        ({"decision_date": "31/12/2024"}, "procedure.decision_date"),
        ({"levels": "Cấp xã"}, "procedure.levels"),
        ({"channels": [{"kind": "fax"}]}, "procedure.channels.0.kind"),
        (
            {"channels": [{"kind": "direct", "time_limit_value": "nhanh"}]},
            "procedure.channels.0.time_limit_value",
        ),
        (
            {"channels": [{"kind": "direct", "time_limit_unit": "weeks"}]},
            "procedure.channels.0.time_limit_unit",
        ),
        ({"dossier": [{"name": "Tờ khai", "copies": -1}]}, "procedure.dossier.0.copies"),
        ({"dossier": [{"name": "Tờ khai", "required": "yes"}]}, "procedure.dossier.0.required"),
        ({"dossier": [{"name": ""}]}, "procedure.dossier.0.name"),
        ({"agencies": [{"role": "boss", "name": "X"}]}, "procedure.agencies.0.role"),
        ({"agencies": [{"role": "implementing"}]}, "procedure.agencies.0.name"),
        ({"legal_bases": [{}]}, "procedure.legal_bases.0.title"),
        ({"updated_at": "yesterday"}, "procedure.updated_at"),
        ({"online_level": "maybe"}, "procedure.online_level"),
    ],
)
def test_normalize_procedure_names_the_bad_key(app, change, key):
    with app.app_context(), pytest.raises(ValidationError) as caught:
        records.normalize_procedure(procedure_raw(**change))
    assert key in caught.value.errors
    assert caught.value.errors[key]  # a message, in Vietnamese


def test_normalize_rejects_non_objects(app):
    with app.app_context(), pytest.raises(ValidationError):
        records.normalize_procedure(["not", "a", "dict"])


def test_normalize_agency_defaults_slug_and_checks_dates(app):
    with app.app_context():
        record = records.normalize_agency({"name": "Phòng Tư pháp", "valid_to": "2025-02-28"})
        assert record["slug"] == "phong-tu-phap"
        assert record["kind"] == "other"
        with pytest.raises(ValidationError) as caught:
            records.normalize_agency({"name": "X", "slug": "Bad Slug"})
        assert "agency.slug" in caught.value.errors
