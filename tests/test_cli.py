"""The flask commands, through the CLI runner."""

import json

from services.db import db
from services.models import Procedure
from tests.helpers import procedure_raw


def test_init_db_with_demo_loads_only_when_empty(runner, app):
    result = runner.invoke(args=["init-db", "--demo-if-empty"])
    assert result.exit_code == 0, result.output
    assert "Đã nạp danh mục mẫu" in result.output
    again = runner.invoke(args=["init-db", "--demo-if-empty"])
    assert "Danh mục đã có dữ liệu" in again.output
    with app.app_context():
        assert db.session.query(Procedure).count() >= 60


def test_seed_demo_is_repeatable(runner):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == second.exit_code == 0
    assert "tạo mới 0, cập nhật 0" in second.output


def test_export_then_import_round_trip(runner, tmp_path, app):
    runner.invoke(args=["seed-demo"])
    out = tmp_path / "catalogue.json"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["format"] == "tthc-catalogue"
    result = runner.invoke(args=["import", str(out)])
    assert result.exit_code == 0
    assert f"không đổi {len(document['procedures'])}" in result.output


def test_import_dry_run_and_bad_files(runner, tmp_path, app):
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"format": "tthc-catalogue", "version": 1, "procedures": [procedure_raw()]}),
        encoding="utf-8",
    )
    result = runner.invoke(args=["import", "--dry-run", str(good)])
    assert result.exit_code == 0
    assert "Chạy thử, không thay đổi gì" in result.output
    with app.app_context():
        assert db.session.query(Procedure).count() == 0
    bad = tmp_path / "bad.json"
    bad.write_text("not json", encoding="utf-8")
    result = runner.invoke(args=["import", str(bad)])
    assert result.exit_code != 0
    assert "Không đọc được" in result.output
    missing = runner.invoke(args=["import", str(tmp_path / "nope.json")])
    assert missing.exit_code != 0


def test_export_csv(runner, tmp_path):
    runner.invoke(args=["seed-demo"])
    out = tmp_path / "list.csv"
    result = runner.invoke(args=["export-csv", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").count("\n") > 60
