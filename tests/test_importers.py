"""`flask import` on the national database's exports, a few files at a time: the locality's
agency map, staff edits, failures half-way, dry runs, unknown and corrupt files, bad records, the
.xlsx lists, sets (b) and (c), the search index brought up to date once after the commit. Runs on
SQLite and on PostgreSQL."""

import json
import shutil
from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from services import cli, importers
from services.catalogue import convert, queries, records, store, transfer
from services.db import db, utcnow
from services.importers import portal_json
from services.models import Agency, Procedure, SearchChange
from services.search import index, sync


def _copy_pages(portal_pages, target, *codes):
    target.mkdir(parents=True, exist_ok=True)
    for code in codes:
        (source,) = portal_pages.glob(f"*/{code}.json")
        shutil.copy(source, target / source.name)
    return target


def _export(app):
    with app.app_context():
        return transfer.dumps(transfer.export_catalogue())


def _procedure(app, code):
    with app.app_context():
        return convert.procedure_record(queries.get_procedure(code, public=False))


def test_failure_half_way_rolls_everything_back(demo_app, portal_pages, tmp_path, monkeypatch):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080", "1.011325", "2.000690")
    before = _export(demo_app)
    real_store = store.store_procedure
    calls = []

    def failing(record, lookups=None, **options):
        calls.append(record["code"])
        if len(calls) == 3:
            raise OSError("disk full")
        return real_store(record, lookups, **options)

    monkeypatch.setattr(store, "store_procedure", failing)
    result = demo_app.test_cli_runner().invoke(args=["import", str(folder)])
    assert result.exit_code != 0
    assert isinstance(result.exception, OSError)
    assert _export(demo_app) == before


def test_progress_bar_on_a_terminal(app, portal_pages, tmp_path, monkeypatch):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080", "1.011325")
    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    result = app.test_cli_runner().invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Đang nhập" in result.output
    assert "Thủ tục: tạo mới 2" in result.output


def test_dry_run_changes_nothing(demo_app, portal_pages, tmp_path):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080", "1.011325")
    before = _export(demo_app)
    result = demo_app.test_cli_runner().invoke(args=["import", "--dry-run", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Chạy thử, không thay đổi gì. Thủ tục: tạo mới 2" in result.output
    assert _export(demo_app) == before


def test_unknown_and_corrupt_files_are_reported_and_skipped(app, portal_pages, tmp_path):
    folder = _copy_pages(portal_pages, tmp_path / "pages" / "sub", "1.000080", "1.011325")
    (folder / "notes.txt").write_text("ghi chú", encoding="utf-8")
    (folder / "broken.json").write_text('{"ma_thu_tuc": ', encoding="utf-8")
    (folder / "other.json").write_text('{"hello": 1}', encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", str(tmp_path / "pages")])
    assert result.exit_code == 0, result.output
    assert "Số tệp đã đọc: 2/5" in result.output
    assert "notes.txt: Không nhận ra định dạng tệp." in result.output
    assert "other.json: Không nhận ra định dạng tệp." in result.output
    assert "broken.json: Không đọc được tệp" in result.output
    assert "Thủ tục: tạo mới 2" in result.output


def test_bad_record_is_skipped_and_the_rest_imported(app, portal_pages, tmp_path):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080", "1.011325")
    page = json.loads((folder / "1.011325.json").read_text(encoding="utf-8"))
    page["ten_thu_tuc"] = "Không có thông tin"
    (folder / "1.011325.json").write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    with app.app_context():
        report = importers.run_import([folder])
    assert report.procedures["created"] == 1
    (skip,) = report.skipped
    assert (skip.file.endswith("1.011325.json"), skip.label) == (True, "1.011325")
    assert "name" in skip.reason


def test_staff_edit_is_not_overwritten_by_an_older_import(app, portal_pages, tmp_path):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080")
    with app.app_context():
        importers.run_import([folder])
        procedure = queries.get_procedure("1.000080", public=False)
        procedure.name = "Tên do cán bộ sửa"
        procedure.local_edit_at = utcnow()
        db.session.commit()
        # The same page again: it differs from the staff's version and carries no newer date.
        report = importers.run_import([folder])
    assert report.procedures["updated"] == 0
    (skip,) = report.skipped
    assert "đã được sửa trên cổng" in skip.reason
    assert _procedure(app, "1.000080")["name"] == "Tên do cán bộ sửa"


def test_newer_version_updates_in_place_and_keeps_staff_edit_when_older(app):
    edited = datetime(2025, 6, 1, 8, 0, 0)
    raw = {"code": "1.000001", "name": "Thủ tục A", "status": "published"}
    with app.app_context():
        procedure, _ = store.store_procedure(
            records.normalize_procedure({**raw, "updated_at": "2025-01-01T00:00:00Z"})
        )
        procedure.local_edit_at = edited
        db.session.commit()

    def document(name, updated_at):
        return {
            "format": "tthc-catalogue",
            "version": 1,
            "procedures": [{**raw, "name": name, "updated_at": updated_at}],
        }

    with app.app_context():
        older = transfer.import_catalogue(document("Bản cũ", "2025-03-01T00:00:00Z"))
        same = transfer.import_catalogue(document("Thủ tục A", "2025-01-01T00:00:00Z"))
        newer = transfer.import_catalogue(document("Bản mới", "2025-07-01T00:00:00Z"))
    assert len(older.skipped) == 1
    assert "không ghi đè" in older.skipped[0].reason
    assert same.procedures["unchanged"] == 1
    assert newer.procedures["updated"] == 1
    record = _procedure(app, "1.000001")
    assert (record["name"], record["updated_at"]) == ("Bản mới", "2025-07-01T00:00:00Z")


def test_agency_map_puts_imported_procedures_under_the_locality_agencies(
    app, make_agency, portal_pages, tmp_path
):
    make_agency(slug="ubnd-xa-a", name="UBND xã A", kind="commune")
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080")
    (tmp_path / "instance" / "agency-map.toml").write_text(
        '[agencies]\n"Ủy ban nhân dân cấp xã" = "ubnd-xa-a"\n', encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    links = _procedure(app, "1.000080")["agencies"]
    assert {link["agency"] for link in links} == {"ubnd-xa-a"}
    with app.app_context():
        assert (
            db.session.execute(
                select(Agency).where(Agency.slug == "uy-ban-nhan-dan-cap-xa")
            ).first()
            is None
        )
        name = queries.get_procedure("1.000080").name
    page = app.test_client().get("/co-quan/ubnd-xa-a")
    assert page.status_code == 200
    assert name in page.get_data(as_text=True)


def test_agency_map_naming_a_missing_agency_stops_the_import(app, portal_pages, tmp_path):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[agencies]\n"Sở Tư pháp" = "khong-co"\n', encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["import", "--agency-map", str(mapping), str(folder)]
    )
    assert result.exit_code != 0
    assert "khong-co" in result.output
    with app.app_context():
        assert db.session.execute(select(Procedure.id)).first() is None


def test_xlsx_list_sets_catalogue_fields_and_keeps_the_rest(app, real_data, portal_pages, tmp_path):
    listing = real_data / "chatbot_tthc" / "data" / "excels" / "toa-an-nhan-dan.xlsx"
    folder = _copy_pages(portal_pages, tmp_path / "pages", "3.000163")
    with app.app_context():
        importers.run_import([folder])
    before = _procedure(app, "3.000163")
    with app.app_context():
        report = importers.run_import([listing])
    assert dict(report.procedures) == {"created": 2, "updated": 1}
    after = _procedure(app, "3.000163")
    assert after["channels"] == before["channels"]
    assert after["dossier"] == before["dossier"]
    implementing = [link["name"] for link in after["agencies"] if link["role"] == "implementing"]
    assert implementing == [
        "Tòa án nhân dân cấp cao",
        "Tòa án nhân dân tỉnh, thành phố trực thuộc trung ương",
        "Tòa án nhân dân cấp huyện, quận, thị xã, thành phố thuộc tỉnh và tương đương",
        "Tòa án nhân dân khu vực",
    ]
    others = [link for link in before["agencies"] if link["role"] != "implementing"]
    assert [link for link in after["agencies"] if link["role"] != "implementing"] == others
    new = _procedure(app, "3.000164")
    assert new["fields"] == ["Tòa án"]
    assert new["status"] == "published"
    assert not new["channels"]


def test_xlsx_list_written_by_hand_with_a_bad_row(app, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH THỦ TỤC HÀNH CHÍNH"])
    sheet.append(["Mã số", "Tên", "Cơ quan ban hành", "Cơ quan thực hiện", "Lĩnh vực"])
    sheet.append(["2.000001", "Thủ tục thử", "Bộ Tư pháp", "Sở Tư Pháp\nUBND cấp xã", "Hộ tịch"])
    sheet.append([None, None, None, None, None])
    sheet.append(["mã sai!", "Thủ tục lỗi", "Bộ Tư pháp", "", ""])
    path = tmp_path / "danh-sach.xlsx"
    book.save(path)
    with app.app_context():
        report = importers.run_import([path])
    assert report.procedures["created"] == 1
    (skip,) = report.skipped
    assert skip.label == "mã sai!"
    assert "Mã thủ tục không hợp lệ" in skip.reason
    record = _procedure(app, "2.000001")
    assert [link["agency"] for link in record["agencies"]] == [
        "so-tu-phap",
        "uy-ban-nhan-dan-cap-xa",
    ]


def test_doc_exports_and_csdl_export_import_and_reimport_unchanged(app, real_data):
    paths = [real_data / "nhdandz_ThuTucHanhChinh", real_data / "dichvucong_7sins"]
    with app.app_context():
        first = importers.run_import(paths)
        again = importers.run_import(paths)
    assert (first.files, first.procedures["created"], len(first.skipped)) == (208, 207 + 87, 0)
    assert again.procedures["unchanged"] == 207 + 87
    csdl = _procedure(app, "CSDL-612362818d18c024c839e7ce")
    assert csdl["status"] == "draft"
    assert csdl["updated_at"] == "2021-08-23T08:55:29Z"  # when the record was scraped
    assert csdl["dossier"][0]["template_url"].startswith("https://csdl.dichvucong.gov.vn/")


def test_search_index_catches_up_once_after_the_commit(app, portal_pages, tmp_path, monkeypatch):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080", "1.011325")
    seen = []
    catch_up = sync.catch_up

    def watched():
        # Committed already: a fresh session sees the procedures waiting for the index.
        db.session.remove()
        folder = index.root()
        mark = index.read_mark(folder / index.current_generation(folder))
        waiting = (
            select(Procedure.code)
            .join(SearchChange, SearchChange.procedure_id == Procedure.id)
            .where(SearchChange.seq > mark)
        )
        seen.append(sorted(set(db.session.execute(waiting).scalars())))
        # A read left open would keep SQLite from letting the catch-up write.
        db.session.rollback()
        catch_up()

    monkeypatch.setattr(sync, "catch_up", watched)
    with app.app_context():
        importers.run_import([folder], dry_run=True)
        report = importers.run_import([folder])
        folder = index.root()
        left = index.pending(folder, index.current_generation(folder))
    # The dry run leaves the index nothing to do; the import, once, both procedures.
    assert seen == [[], ["1.000080", "1.011325"]]
    assert sorted(report.changed) == ["1.000080", "1.011325"]
    assert left == 0


def test_portal_reader_keeps_a_stable_record(portal_pages):
    (path,) = portal_pages.glob("*/1.000080.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    first = next(portal_json.read(raw, path, importers.agencies.Resolver())).record
    second = next(portal_json.read(raw, path, importers.agencies.Resolver())).record
    assert first == second
    assert first["updated_at"] is None
    assert first["created_at"] is None


def test_timestamps_stay_put_on_unchanged_reimport(app, portal_pages, tmp_path):
    folder = _copy_pages(portal_pages, tmp_path / "pages", "1.000080")
    with app.app_context():
        importers.run_import([folder])
        procedure = queries.get_procedure("1.000080", public=False)
        stamp = procedure.updated_at = utcnow() - timedelta(days=3)
        db.session.commit()
        importers.run_import([folder])
    assert _procedure(app, "1.000080")["updated_at"] == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("args", [["import"], ["import", "--agency-map", "nope.toml", "."]])
def test_import_command_refuses_bad_arguments(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
