"""The full set (a) (2,642 pages of the national portal) imported once per session through
`flask import`: the report, a re-import, the parse rates, the agencies, and an import killed
half-way. SQLite: the session's instance is copied as a file."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from services.catalogue import convert, queries, transfer
from services.db import db
from services.models import Agency, Procedure, ProcedureAgency
from tests import quality
from tests.helpers import sqlite_app

TOTAL = 2642
ROOT = Path(__file__).resolve().parent.parent


def _export(app):
    with app.app_context():
        return transfer.dumps(transfer.export_catalogue())


def test_full_import_of_set_a_reports_every_procedure(portal_import):
    _, output = portal_import
    assert f"Số tệp đã đọc: {TOTAL}/{TOTAL}" in output
    assert f"Thủ tục: tạo mới {TOTAL}, cập nhật 0, không đổi 0, bỏ qua 0" in output
    assert "Cơ quan: tạo mới " in output
    assert "Thời gian: " in output


def test_reimport_of_set_a_changes_nothing(portal_app, portal_pages):
    result = portal_app.test_cli_runner().invoke(args=["import", str(portal_pages)])
    assert result.exit_code == 0, result.output
    assert f"tạo mới 0, cập nhật 0, không đổi {TOTAL}, bỏ qua 0" in result.output
    assert "Cơ quan: tạo mới 0" in result.output


def test_parse_rates_over_set_a_meet_the_targets(portal_app, portal_pages):
    with portal_app.app_context():
        stored = {p.code: convert.procedure_record(p) for p in queries.all_procedures()}
    pairs = []
    for path in sorted(portal_pages.rglob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        pairs.append((raw, stored[raw["ma_thu_tuc"]]))
    rates = quality.rates(pairs)
    assert rates.procedures == TOTAL
    assert rates.empty_name_or_code == 0
    for name in ("channels", "dossier items", "legal bases", "results", "canonical agency"):
        assert rates.fields[name].share >= 0.98, (name, rates.fields[name])
    assert rates.fields["numeric time limit on every channel"].share >= 0.9


def test_agencies_are_canonical_with_a_hierarchy_and_raw_names_kept(portal_app):
    with portal_app.app_context():
        parents = {
            a.slug: a.parent.slug if a.parent else None
            for a in db.session.execute(select(Agency)).scalars()
        }
        links = db.session.execute(select(ProcedureAgency.name, ProcedureAgency.agency_id)).all()
        spellings = {name for name, _ in links}
        canonical = {agency for _, agency in links if agency}
    assert parents["bo-tai-chinh"] is None
    assert parents["cuc-thue"] == "bo-tai-chinh"
    assert parents["thue-co-so"] == "thue-tinh-thanh-pho"
    assert parents["so-tu-phap"] == "uy-ban-nhan-dan-cap-tinh"
    assert parents["cong-an-cap-xa"] == "cong-an-cap-tinh"
    assert parents["so-tu-phap-thanh-pho-ha-noi"] == "uy-ban-nhan-dan-thanh-pho-ha-noi"
    assert parents["uy-ban-nhan-dan-cap-xa"] is None
    # Many spellings, fewer agencies: "Ủy ban Nhân dân xã, phường, thị trấn." and others are one.
    assert {"Ủy ban Nhân dân xã, phường, thị trấn", "Công an cấp Xã"} <= spellings
    assert len(canonical) < len(spellings)
    with portal_app.app_context():
        record = convert.procedure_record(queries.get_procedure("1.000080"))
    assert record["agencies"][0] == {
        "role": "implementing",
        "agency": "uy-ban-nhan-dan-cap-xa",
        "name": "Ủy ban Nhân dân xã, phường, thị trấn",
    }


def test_import_killed_half_way_leaves_the_catalogue_as_it_was(
    demo_instance, tmp_path, portal_pages
):
    instance = tmp_path / "instance"
    shutil.copytree(demo_instance, instance)
    app = sqlite_app(instance)
    before = _export(app)
    with app.app_context():
        db.engine.dispose()
    env = {**os.environ, "TTHC_INSTANCE": str(instance), "TTHC_SECRET_KEY": "test"}
    command = [sys.executable, "-m", "flask", "--app", "app", "import", str(portal_pages)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    # The database is in WAL mode: the uncommitted import spills into the -wal file as it grows.
    wal = instance / "tthc.sqlite3-wal"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if wal.exists() and wal.stat().st_size > 4_000_000:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the import ended before it could be killed"
    assert wal.stat().st_size > 4_000_000, "the import wrote nothing in 60 s"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _export(app) == before
    with app.app_context():
        assert (
            db.session.execute(select(Procedure.id).where(Procedure.code == "1.000080")).first()
            is None
        )
