"""Faults of the search index: searches while procedures are saved and published (threads and
processes), damaged segment files, an index folder that cannot be written, and kill -9 during
a rebuild or an index write. After each, the site answers (results or a 503, never a 500) and
the index comes back equal to the database by itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from sqlalchemy import select

from services import search
from services.db import db
from services.editorial import working_copy, workflow
from services.models import User

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


def _codes(app, text: str) -> list[str]:
    with app.app_context():
        page = search.find(search.Params(q=text), record=False)
        return [r.procedure.code for r in page.results]


def test_searches_while_a_procedure_is_saved_and_published_never_fail(staff_app):
    done = threading.Event()
    errors: list[BaseException] = []
    found: list[list[str]] = []

    def publish() -> None:
        try:
            _republish(staff_app, 10)
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
    assert len(found) > 25
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


def _worker(app, *args: str, **kwargs) -> subprocess.Popen:
    script = WORKER.format(
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
        writer = _worker(staff_app, "publish", "10")
        assert writer.wait(120) == 0
    finally:
        stop.touch()
    reports = [r.communicate(timeout=60)[0].split(" ", 2) for r in readers]
    assert [errors for _, errors, _ in reports] == ["0", "0"], reports
    assert all(int(searches) > 10 for searches, _, _ in reports), reports
    assert _codes(staff_app, "lần 9") == [CODE]
