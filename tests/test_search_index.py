"""The search index follows the database: every committed change, agency and lĩnh vực renames,
rollbacks, a busy lock, two processes, failed writes, rebuilds beside the index in use, and a
missing, corrupt or outdated index at start."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from services import search
from services.catalogue import queries, records, store, transfer
from services.db import db, transaction
from services.models import Field, Procedure
from services.search import changelog, documents, engine, index, sync
from tests.helpers import make_app, procedure_raw


def _found(app, text: str) -> list[str]:
    with app.app_context():
        page = search.find(search.Params(q=text, per_page=100), record=False)
        return [r.procedure.code for r in page.results]


def _waiting() -> int:
    """Changes of the log the index in use has not applied (in the session's transaction)."""
    folder = index.root()
    return index.pending(folder, index.current_generation(folder))


def _pending(app) -> int:
    with app.app_context():
        return _waiting()


def _restart(app):
    """The same instance and database opened again, as after a server restart."""
    return make_app(
        Path(app.instance_path), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]
    )


def _store(app, **fields) -> str:
    with app.app_context():
        procedure, _ = store.store_procedure(records.normalize_procedure(procedure_raw(**fields)))
        db.session.commit()
        return procedure.code


def test_created_updated_abolished_and_deleted_procedures(app):
    code = _store(app, name="Cấp phép khai thác cát lòng sông")
    assert _found(app, "khai thac cat") == [code]
    _store(app, code=code, name="Cấp phép nạo vét luồng lạch")
    # ("khai" is still in its dossier: a partial match would find it by that word.)
    assert _found(app, "thac cat") == []
    assert _found(app, "nạo vét") == [code]
    _store(app, code=code, name="Cấp phép nạo vét luồng lạch", status="abolished")
    assert _found(app, "nạo vét") == []
    with app.app_context():
        db.session.delete(queries.get_procedure(code, public=False))
        db.session.commit()
        report = search.check()
    assert report.ok
    assert report.indexed == 0
    assert _pending(app) == 0


def test_agency_and_field_renames_reach_their_procedures(app, make_agency, make_procedure):
    make_agency(slug="van-hoa", name="Phòng Văn hóa và Thông tin")
    procedure = make_procedure(
        name="Cấp phép biểu diễn",
        fields=["Nghệ thuật biểu diễn"],
        agencies=[{"role": "implementing", "agency": "van-hoa", "name": ""}],
    )
    assert _found(app, "phong van hoa") == [procedure.code]
    make_agency(slug="van-hoa", name="Phòng Thể thao và Du lịch")
    assert _found(app, "the thao du lich") == [procedure.code]
    assert _found(app, "van hoa") == []  # ("phòng" is in the new name too)
    with app.app_context():
        page = search.find(search.Params(q="biểu diễn"), record=False)
        assert [v.name for v in page.facets["agency"]] == ["Phòng Thể thao và Du lịch"]
        field = db.session.execute(select(Field)).scalar_one()
        renamed = {"slug": field.slug, "name": "Sân khấu kịch nói"}
        store.store_field(records.normalize_field(renamed))
        db.session.commit()
    assert _found(app, "san khau kich noi") == [procedure.code]


def test_a_use_case_commit_is_written_and_leaves_nothing_pending(app):
    # Written inline from the use case's after_commit, while its transaction is still open:
    # the index's own transactions must commit all the same.
    with app.app_context():
        with transaction():
            procedure, _ = store.store_procedure(
                records.normalize_procedure(procedure_raw(name="Cấp phép nuôi trồng thủy sản"))
            )
        code = procedure.code
    assert _found(app, "nuoi trong thuy san") == [code]
    assert _pending(app) == 0


def test_a_rollback_leaves_nothing_to_write(app):
    with app.app_context():
        store.store_procedure(records.normalize_procedure(procedure_raw(name="Thủ tục bị hủy bỏ")))
        db.session.flush()
        assert _waiting() == 1
        db.session.rollback()
        assert not db.session.info.get(sync._PENDING)
    assert _pending(app) == 0
    assert _found(app, "bi huy bo") == []


def test_an_import_that_skips_a_bad_record_indexes_the_rest(app):
    document = {
        "format": "tthc-catalogue",
        "version": 1,
        "procedures": [
            procedure_raw(code="8.000001", name="Đăng ký nuôi ong mật"),
            procedure_raw(code="8.000002", name="Thủ tục hỏng", status="không-có"),
            procedure_raw(code="8.000003", name="Đăng ký nuôi tằm"),
        ],
    }
    with app.app_context():
        report = transfer.import_catalogue(document)
    assert len(report.skipped) == 1
    assert sorted(_found(app, "dang ky nuoi")) == ["8.000001", "8.000003"]
    assert _pending(app) == 0


def test_bulk_writes_the_index_once_at_the_end(app, monkeypatch):
    calls: list[list[int]] = []
    write = index._write
    monkeypatch.setattr(index, "_write", lambda ix, ids: (calls.append(ids), write(ix, ids)))
    with app.app_context(), search.bulk():
        for n in range(3):
            store.store_procedure(
                records.normalize_procedure(procedure_raw(name=f"Đăng ký chăn nuôi số {n}"))
            )
            db.session.commit()
        assert calls == []
        assert _found(app, "chan nuoi") == []
    assert len(calls) == 1
    assert len(calls[0]) == 3
    assert len(_found(app, "chan nuoi")) == 3


def test_a_failed_index_write_is_logged_and_repaired(app, monkeypatch, caplog):
    def broken(ix, ids):
        raise OSError("disk full")

    monkeypatch.setattr(index, "_write", broken)
    with caplog.at_level(logging.ERROR, logger="services.search.index"):
        code = _store(app, name="Cấp phép xả thải vào nguồn nước")  # the request succeeds
    assert "search index update failed" in caplog.text
    assert _pending(app) == 1
    assert _found(app, "xa thai") == []
    monkeypatch.undo()
    _restart(app)  # the next start writes what is pending
    assert _found(app, "xa thai") == [code]
    assert _pending(app) == 0


def test_a_busy_lock_delays_the_index_but_never_the_request(tmp_path):
    app = make_app(tmp_path / "instance", SEARCH_BACKGROUND=True)
    with app.app_context():
        db.create_all()
        with index.write_lock(0) as held:  # another writer holds the lock
            assert held
            started = time.monotonic()
            code = _store(app, name="Cấp phép hoạt động bến thủy nội địa")
            assert time.monotonic() - started < sync.BACKGROUND_LOCK_WAIT / 10
            assert _pending(app) == 1
            assert _found(app, "ben thuy noi dia") == []
        assert sync.syncer(app).wait(30)
    assert _found(app, "ben thuy noi dia") == [code]
    assert _pending(app) == 0


# A worker process saving 15 procedures, as a gunicorn worker would, at the same time as
# another: each use case takes SQLite's write lock up front and waits its turn.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from services.catalogue import records, store
    from services.db import db
    from tests.helpers import make_app, procedure_raw

    app = make_app(Path({instance!r}), SQLALCHEMY_DATABASE_URI={url!r}, SEARCH_BACKGROUND=True)
    with app.app_context():
        for n in range(15):
            code = f"7.{{sys.argv[1]}}{{n:05d}}"
            raw = procedure_raw(code=code, name=f"Thủ tục tiến trình {{n}}")
            store.store_procedure(records.normalize_procedure(raw))
            db.session.commit()
    """
)


def test_two_processes_writing_lose_no_update(app):
    # The level, lĩnh vực and subject the workers' procedures share exist already, as they
    # would in a running portal (two workers creating the same new level at once is a clash
    # of the database's unique keys, not of the index).
    _store(app, code="7.000000", name="Thủ tục tiến trình mẫu")
    instance = Path(app.instance_path)
    root = str(Path(__file__).resolve().parent.parent)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    script = WRITER.format(root=root, instance=str(instance), url=url)
    workers = [subprocess.Popen([sys.executable, "-c", script, str(n)], cwd=root) for n in (1, 2)]
    assert [w.wait(timeout=300) for w in workers] == [0, 0]
    with app.app_context():
        report = search.check()
    assert report.ok, report
    assert report.indexed == 31
    assert report.pending == 0
    assert len(_found(app, "tien trinh")) == 31


def test_rebuild_switches_generations_while_searches_go_on(demo_app):
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    before = index.current_generation(folder)
    expected = _found(demo_app, "giấy phép xây dựng")
    done = threading.Event()
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            with demo_app.app_context():
                search.rebuild()
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    threading.Thread(target=rebuild).start()
    searches = 0
    while not done.is_set() or searches == 0:
        assert _found(demo_app, "giấy phép xây dựng") == expected
        searches += 1
    assert not errors
    after = index.current_generation(folder)
    assert after != before
    assert (folder / before).is_dir()  # kept for processes that still read it
    with demo_app.app_context():
        search.rebuild()
    assert not (folder / before).exists()
    assert _found(demo_app, "giấy phép xây dựng") == expected


def test_staff_keep_saving_while_the_index_is_rebuilt(demo_app, monkeypatch):
    # The rebuild reads the whole catalogue in one long transaction; on SQLite it must not hold
    # the write lock meanwhile, or every save would wait for it and fail after the busy timeout.
    app = _restart(demo_app)
    app.config["SEARCH_BACKGROUND"] = True
    with app.app_context():  # a change waiting from before, which the rebuild clears
        changelog.record(db.session.connection(), [db.session.scalar(select(Procedure.id))])
        db.session.commit()
    reading, go_on = threading.Event(), threading.Event()
    document = documents.document

    def paused(procedure):
        reading.set()
        assert go_on.wait(60)
        return document(procedure)

    monkeypatch.setattr(documents, "document", paused)
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            with app.app_context():
                search.rebuild()
        except BaseException as error:
            errors.append(error)

    rebuilding = threading.Thread(target=rebuild)
    rebuilding.start()
    try:
        assert reading.wait(60)
        code = _store(app, name="Cấp phép khai thác nước dưới đất")  # does not wait for the rebuild
    finally:
        go_on.set()
        rebuilding.join(120)
    assert not errors
    assert sync.syncer(app).wait(60)
    assert _found(app, "khai thac nuoc duoi dat") == [code]
    assert _pending(app) == 0


@pytest.mark.parametrize("damage", ["missing", "corrupt", "outdated", "empty"])
def test_a_broken_index_is_rebuilt_at_start(demo_app, damage):
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    expected = _found(demo_app, "đăng ký khai sinh")
    generation = index.current_generation(folder)
    if damage == "missing":
        shutil.rmtree(folder)
    elif damage == "corrupt":
        for path in (folder / generation).iterdir():
            path.write_bytes(b"\x00garbage")
    elif damage == "outdated":
        (folder / generation).rename(folder / "v0-old")
        (folder / index.POINTER).write_text("v0-old")
    else:
        shutil.rmtree(folder / generation)
        with demo_app.app_context():
            name, _ = index._new_generation(folder)
        (folder / index.POINTER).write_text(name)
    restarted = _restart(demo_app)
    assert _found(restarted, "đăng ký khai sinh") == expected
    assert index.current_generation(folder).startswith(f"v{documents.SCHEMA_VERSION}-")


def test_search_check_and_reindex_commands(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["search-check"])
    assert result.exit_code == 0, result.output
    assert "Chỉ mục tìm kiếm khớp với cơ sở dữ liệu." in result.output
    with demo_app.app_context():
        first, second, third = db.session.execute(
            select(Procedure.id, Procedure.code).order_by(Procedure.code).limit(3)
        ).all()
        # Changes made behind the portal's back (by hand in the database, by an old index).
        db.session.execute(update(Procedure).where(Procedure.id == first.id).values(name="Tên mới"))
        db.session.execute(delete(Procedure).where(Procedure.id == third.id))
        db.session.commit()
        folder = index.root()
        writer = index.open_generation(folder, index.current_generation(folder)).writer()
        writer.delete_by_term("id", str(second.id))
        writer.commit()
    result = runner.invoke(args=["search-check"])
    assert result.exit_code == 1
    assert f"Chỉ mục còn theo dữ liệu cũ (1): {first.code}" in result.output
    assert f"Thiếu trong chỉ mục (1): {second.code}" in result.output
    gone = "Có trong chỉ mục nhưng không còn trong cơ sở dữ liệu"
    assert f"{gone} (1): {third.code}" in result.output
    assert "flask search-reindex" in result.output
    result = runner.invoke(args=["search-reindex"])
    assert result.exit_code == 0
    assert "Đã dựng lại chỉ mục tìm kiếm:" in result.output
    assert runner.invoke(args=["search-check"]).exit_code == 0
    assert _found(demo_app, "tên mới")[0] == first.code


def test_reindex_while_another_writer_holds_the_lock_says_so(demo_app, monkeypatch):
    monkeypatch.setattr(index, "REBUILD_LOCK_WAIT", 0.2)
    with demo_app.app_context(), index.write_lock(0) as acquired:
        assert acquired
        result = demo_app.test_cli_runner().invoke(args=["search-reindex"])
    assert result.exit_code == 1
    assert "hãy thử lại sau" in result.output
    assert "Traceback" not in result.output


def test_an_index_damaged_under_a_running_server_is_repaired(demo_app, demo_client):
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    assert demo_client.get("/api/v1/procedures?q=khai+sinh").status_code == 200
    shutil.rmtree(folder / index.current_generation(folder))
    api = demo_client.get("/api/v1/procedures?q=khai+sinh")
    assert api.status_code == 503
    assert "Tìm kiếm đang được khôi phục" in api.get_json()["error"]
    deadline = time.monotonic() + 60
    while (response := demo_client.get("/tim-kiem?q=khai+sinh")).status_code == 503:
        assert "Tìm kiếm đang được khôi phục" in response.get_data(as_text=True)
        assert time.monotonic() < deadline, "the index was not rebuilt"
        time.sleep(0.05)
    assert response.status_code == 200
    assert "1.001193" in response.get_data(as_text=True)


def test_a_bug_in_a_query_is_not_taken_for_a_damaged_index(demo_app, demo_client, monkeypatch):
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    generation = index.current_generation(folder)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "run", broken)
    rebuilds: list[bool] = []
    monkeypatch.setattr(index, "rebuild", lambda: rebuilds.append(True))
    with pytest.raises(RuntimeError):  # TESTING propagates what would be a 500
        demo_client.get("/api/v1/procedures?q=khai+sinh")
    time.sleep(0.2)
    assert rebuilds == []
    assert index.current_generation(folder) == generation
