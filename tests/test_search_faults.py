"""Faults of the search index: searches while procedures are saved and published (threads and
processes), damaged segment files, an index folder that cannot be written, and kill -9 during
a rebuild or an index write. After each, the site answers (results or a 503, never a 500) and
the index comes back equal to the database by itself."""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from services import search
from services.catalogue import convert, queries, records, store
from services.db import db
from services.editorial import workflow, working_copy
from services.models import User
from services.search import health, index, pinned, recovery, snapshot, sync
from tests.helpers import make_app

ROOT = Path(__file__).resolve().parent.parent
CODE = "1.000001"  # the published procedure of the staff instance (tests/conftest.py)


def _republish(app, rounds: int) -> None:
    """A publisher saves a new name for CODE and publishes it, `rounds` times."""
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "publisher")).scalar_one()
        for n in range(rounds):
            copy = working_copy.get_working_copy(CODE, user)
            raw = {**copy.record, "name": f"Đăng ký hoạt động lần {n}"}
            copy = workflow.save_procedure(CODE, raw, copy.token, user)
            workflow.publish(CODE, copy.token, user)


def _restart(app):
    """The same instance and database opened again, as after a server restart, reading the
    whole index for damage before it is returned (a server reads it in the background)."""
    return make_app(
        Path(app.instance_path),
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SEARCH_THOROUGH_START=True,
    )


def _codes(app, text: str) -> list[str]:
    with app.app_context():
        page = search.find(search.Params(q=text), record=False)
        return [r.procedure.code for r in page.results]


def test_a_view_opened_before_commits_reads_all_it_holds_after_them(staff_app):
    # The race behind the 500s, made certain: a search has opened its view (in this thread or
    # any process), then commits merge its segments away and delete their files, then it reads
    # the stored fields, columns and vectors of its documents.
    with staff_app.app_context():
        view = snapshot.current(index.root())
        documents = snapshot.members(view.live)
        folder = index.root() / view.generation
        segment = view.segments[0].reader.segment().segment_id()
        for _ in range(10):
            _republish(staff_app, 1)
            if not any(p.name.startswith(segment) for p in folder.iterdir()):
                break  # its files are deleted
        else:
            pytest.fail("the commits merged nothing")
        held = [(view.stored(d)["id"], view.value("summary", d)) for d in documents]
        assert len(held) == 2
        assert all(summary for _, summary in held)
        assert len(view.similar(view.segments[0].vectors()[0][0], view.live, 2).hits) == 2


def test_searches_while_a_procedure_is_saved_and_published_never_fail(staff_app):
    done = threading.Event()
    errors: list[BaseException] = []
    found: list[list[str]] = []

    def publish() -> None:
        try:
            _republish(staff_app, 6)
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    def read() -> None:
        while not done.is_set():
            try:
                found.append(_codes(staff_app, CODE))
            except BaseException as error:
                errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(3)]
    writer = threading.Thread(target=publish)
    for thread in (*readers, writer):
        thread.start()
    for thread in (writer, *readers):
        thread.join(120)
    assert errors == []
    assert len(found) > 6
    assert all(codes == [CODE] for codes in found)


# A process of the same portal (a gunicorn worker) on the instance folder: "publish N"
# republishes CODE N times; "search STOP" says "ready" after its first search, searches for CODE
# until the file STOP exists, then prints how many searches it made and the errors it met.
WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.helpers import make_app
    from tests.test_search_faults import _codes, _republish, CODE

    app = make_app(Path({instance!r}), SQLALCHEMY_DATABASE_URI={url!r}, SEARCH_BACKGROUND=False)
    if sys.argv[1] == "publish":
        _republish(app, int(sys.argv[2]))
    else:
        searches, errors = 0, []
        while not Path(sys.argv[2]).exists():
            try:
                assert _codes(app, CODE) == [CODE]
            except BaseException as error:
                errors.append(repr(error))
            searches += 1
            if searches == 1:
                print("ready", flush=True)
        print(searches, len(errors), errors[:3], flush=True)
    """
)


def _worker(app, *args: str, script: str = WORKER, **kwargs) -> subprocess.Popen:
    script = script.format(
        root=str(ROOT), instance=app.instance_path, url=app.config["SQLALCHEMY_DATABASE_URI"]
    )
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, **kwargs)


def test_searches_in_other_processes_while_one_publishes_never_fail(staff_app, tmp_path):
    stop = tmp_path / "stop"
    readers = [
        _worker(staff_app, "search", str(stop), stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        assert [r.stdout.readline().strip() for r in readers] == ["ready", "ready"]
        writer = _worker(staff_app, "publish", "5")
        assert writer.wait(120) == 0
    finally:
        stop.touch()
    reports = [r.communicate(timeout=60)[0].split(" ", 2) for r in readers]
    assert [errors for _, errors, _ in reports] == ["0", "0"], reports
    assert all(int(searches) > 5 for searches, _, _ in reports), reports
    assert _codes(staff_app, "lần 4") == [CODE]


def _damage(path: Path) -> None:
    """Random bytes over the middle of a file, as a failing disk or a stray write leaves it."""
    data = bytearray(path.read_bytes())
    noise = random.Random(path.name).randbytes(max(16, len(data) // 3))
    start = len(data) // 3
    data[start : start + len(noise)] = noise
    path.write_bytes(bytes(data[: max(len(data), start)]))


def _answers(client) -> list:
    """What the search page, the API and suggest answer: (status, what was found)."""
    page = client.get("/tim-kiem?q=khai+sinh")
    api = client.get("/api/v1/procedures?q=khai+sinh")
    suggest = client.get("/api/v1/suggest?q=khai+si")
    return [
        (page.status_code, "1.001193" in page.text if page.status_code == 200 else None),
        (api.status_code, [r["code"] for r in api.get_json().get("results", [])]),
        (suggest.status_code, [s["code"] for s in suggest.get_json().get("suggestions", [])]),
    ]


@pytest.mark.parametrize(
    "part", [".pst", ".trm", "._stored.col", ".vector.col", ".summary.col", ".toc"]
)
def test_a_damaged_segment_file_gives_503s_is_reported_and_repairs_itself(demo_app, part):
    client = demo_app.test_client()
    expected = _answers(client)
    assert [status for status, _ in expected] == [200, 200, 200]
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    generation = folder / index.current_generation(folder)
    (damaged,) = [p for p in generation.iterdir() if p.name.endswith(part)]
    _damage(damaged)
    page, api, suggest = _answers(client)
    assert page == expected[0] or page[0] == 503, (part, page)
    assert api == expected[1] or api[0] == 503, (part, api)
    assert suggest in (expected[2], (200, [])), (part, suggest)  # none while unavailable
    check = demo_app.test_cli_runner().invoke(args=["search-check"])
    assert check.exit_code == 1, check.output
    assert "Chỉ mục bị hỏng" in check.output
    assert "Traceback" not in check.output
    restarted = _restart(demo_app)  # whatever the background repair did, the start repairs
    assert _answers(restarted.test_client()) == expected
    check = restarted.test_cli_runner().invoke(args=["search-check"])
    assert check.exit_code == 0, check.output


def test_a_server_started_on_a_damaged_index_repairs_it_in_the_background(demo_app):
    client = demo_app.test_client()
    expected = _answers(client)
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    generation = index.current_generation(folder)
    (postings,) = (folder / generation).glob("*.pst")
    _damage(postings)
    started = time.monotonic()
    server = make_app(
        Path(demo_app.instance_path),
        SQLALCHEMY_DATABASE_URI=demo_app.config["SQLALCHEMY_DATABASE_URI"],
        SEARCH_BACKGROUND=True,
    )
    assert time.monotonic() - started < 5  # the whole index is read after the start
    client = server.test_client()
    deadline = time.monotonic() + 60
    while index.current_generation(folder) == generation:
        statuses = [status for status, _ in _answers(client)]  # never a 500 meanwhile
        assert set(statuses) <= {200, 503}
        assert time.monotonic() < deadline, "the damaged index was not rebuilt"
        time.sleep(0.1)
    assert sync.syncer(server).wait(30)
    assert _answers(client) == expected
    assert server.test_cli_runner().invoke(args=["search-check"]).exit_code == 0


def _lock_unwritable(app) -> Path:
    """Make the index impossible to write: its lock file replaced by a directory. (Tests run
    as root, whom chmod does not stop; opening a directory for writing fails for root too.)"""
    lock = Path(app.config["SEARCH_INDEX_DIR"]) / index.LOCK_FILE
    lock.unlink(missing_ok=True)
    lock.mkdir()
    return lock


def _rename(app, code: str, name: str) -> None:
    with app.app_context():
        procedure = queries.get_procedure(code, public=False)
        raw = {**convert.procedure_record(procedure), "name": name}
        store.store_procedure(records.normalize_procedure(raw))
        db.session.commit()


def test_an_index_that_cannot_be_written_keeps_the_site_up_and_loses_nothing(
    demo_app, monkeypatch, caplog
):
    lock = _lock_unwritable(demo_app)
    with caplog.at_level(logging.ERROR, logger="services.search.index"):
        _rename(demo_app, "1.001193", "Đăng ký khai sinh cho trẻ em lưu động")
        _rename(demo_app, "1.001193", "Đăng ký khai sinh đợt 4711")  # the same failure
        restarted = _restart(demo_app)  # starts although the index cannot be written
    failures = [r for r in caplog.records if "search index update failed" in r.getMessage()]
    assert len(failures) == 1  # once while the state lasts, not once per write or start
    client = restarted.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/thu-tuc/1.001193").status_code == 200
    assert "1.001193" in client.get("/tim-kiem?q=khai+sinh").text  # the index there is
    check = restarted.test_cli_runner().invoke(args=["search-check"])
    assert check.exit_code == 1
    assert "Không ghi được vào chỉ mục" in check.output
    assert "thay đổi đang chờ ghi: 2." in check.output  # one per save
    assert "Chỉ mục còn theo dữ liệu cũ (1): 1.001193" in check.output
    lock.rmdir()  # writable again: the next search in a while writes what waited
    monkeypatch.setattr(health, "RETRY_INTERVAL", 0.0)
    _codes(restarted, "khai sinh")
    assert _codes(restarted, "khai sinh đợt 4711")[0] == "1.001193"
    assert restarted.test_cli_runner().invoke(args=["search-check"]).exit_code == 0


def test_no_index_and_no_way_to_write_one_gives_503s_until_it_can(demo_app, monkeypatch):
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    shutil.rmtree(folder)
    folder.mkdir()
    lock = _lock_unwritable(demo_app)
    restarted = _restart(demo_app)
    client = restarted.test_client()
    assert client.get("/").status_code == 200
    page = client.get("/tim-kiem?q=khai+sinh")
    assert page.status_code == 503
    assert "Tìm kiếm đang được khôi phục" in page.text
    # Suggestions as you type just stay empty meanwhile.
    assert client.get("/api/v1/suggest?q=khai").get_json()["suggestions"] == []
    lock.rmdir()
    monkeypatch.setattr(recovery, "REPAIR_INTERVAL", 0.0)
    deadline = time.monotonic() + 60
    while (response := client.get("/tim-kiem?q=khai+sinh")).status_code == 503:
        assert time.monotonic() < deadline, "the index was not built"
        time.sleep(0.1)
    assert "1.001193" in response.text
    assert restarted.test_cli_runner().invoke(args=["search-check"]).exit_code == 0


def _settled(app) -> Flask:
    """A restarted app finds the index equal to the database by itself, and search works."""
    restarted = _restart(app)
    check = restarted.test_cli_runner().invoke(args=["search-check"])
    assert check.exit_code == 0, check.output
    assert "thay đổi đang chờ ghi: 0." in check.output
    return restarted


def _kill_when(process: subprocess.Popen, ready, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the process ended before the moment to kill it"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


# A server's process (background work on: the whole index is read in a thread after start)
# that ends at once, as a gunicorn worker stopped soon after it started.
BRIEF_SERVER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.helpers import make_app

    make_app(Path({instance!r}), SQLALCHEMY_DATABASE_URI={url!r}, SEARCH_BACKGROUND=True)
    time.sleep(0.02)
    """
)


def test_a_server_ending_while_it_reads_its_index_takes_nothing_for_damage(demo_app):
    # Python's exit closed the index files under the start-up check still reading them, which
    # then reported the index damaged and began to rebuild it (about two exits in three).
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    before = index.current_generation(folder)
    for _ in range(4):
        ended = _worker(demo_app, script=BRIEF_SERVER, stderr=subprocess.PIPE, text=True)
        _, errors = ended.communicate(timeout=120)
        assert ended.returncode == 0, errors
        assert "damaged" not in errors
        assert "rebuilding" not in errors
    assert index.current_generation(folder) == before


def test_kill_9_during_a_reindex_leaves_the_index_in_use(demo_app):
    folder = Path(demo_app.config["SEARCH_INDEX_DIR"])
    before = index.current_generation(folder)
    env = {
        **os.environ,
        "TTHC_INSTANCE": demo_app.instance_path,
        "TTHC_SQLALCHEMY_DATABASE_URI": demo_app.config["SQLALCHEMY_DATABASE_URI"],
        "TTHC_SEARCH_VECTOR_CACHE": demo_app.config["SEARCH_VECTOR_CACHE"],
    }
    reindex = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "search-reindex"], cwd=ROOT, env=env
    )
    building = lambda: any(  # noqa: E731
        p.is_dir() and p.name.startswith("v") and p.name != before for p in folder.iterdir()
    )
    _kill_when(reindex, building)
    assert index.current_generation(folder) == before  # killed before the switch
    restarted = _settled(demo_app)
    assert _codes(restarted, "khai sinh")[0] == "1.001193"


def test_kill_9_during_index_writes_after_saves_loses_nothing(staff_app):
    generation = Path(staff_app.config["SEARCH_INDEX_DIR"])
    generation /= index.current_generation(generation)
    start = pinned.state(generation)
    publisher = _worker(staff_app, "publish", "50")
    # Killed a few commits in, at a moment of its own: saving, publishing or writing the index.
    _kill_when(publisher, lambda: pinned.state(generation) >= start + 3)
    restarted = _settled(staff_app)
    with restarted.app_context():
        name = queries.get_procedure(CODE, public=True).name
    assert _codes(restarted, name)[0] == CODE
