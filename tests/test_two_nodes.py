"""Two app servers on one PostgreSQL database, each with its own instance folder and search
index, behind the shipped nginx as load balancer: an edit made through node A is found through
node B within two seconds; node B killed with -9 during a burst of edits catches up when it is
started again, and `flask search-check` is clean on both (the PostgreSQL pass only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import TEST_DATABASE_URL, _database_url, free_port, read_forms
from tests.test_deploy import DEPLOY, ROOT, _get, _loopback_config, _wait_for_port

pytestmark = pytest.mark.database_server

CODE = "2.000720"  # a demo procedure
PASSWORD = "mật-khẩu-đủ-dài-2026"


class Node:
    """One gunicorn app server with its own instance folder."""

    def __init__(self, name: str, tmp_path: Path, env: dict[str, str]):
        self.instance = tmp_path / name
        self.port = free_port()
        self.env = {**env, "TTHC_INSTANCE": str(self.instance)}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def flask(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self) -> None:
        env = {**self.env, "TTHC_BIND": f"127.0.0.1:{self.port}", "TTHC_WORKERS": "1"}
        command = [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")]
        self.process = subprocess.Popen(
            [*command, "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: kill -9 reaches every worker
        )
        _wait_for_port(self.port, self.process, seconds=120)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)

    def found(self, word: str) -> list[str]:
        answer = requests.get(f"{self.url}/api/v1/procedures", params={"q": word}, timeout=120)
        assert answer.status_code == 200, answer.text
        return [item["code"] for item in answer.json()["results"]]


def _post(session: requests.Session, base: str, path: str, action: str, **changes: str):
    """Fill and send a form of the page at `path` as a browser would."""
    page = session.get(base + path, timeout=30)
    assert page.status_code == 200, page.text
    forms = [f for f in read_forms(page.text) if f["action"] != "/staff/logout"]
    form = next(f for f in forms if f["action"].startswith(action))
    data = [(name, value) for name, value in form["fields"] if name not in changes]
    data += list(changes.items())
    answer = session.post(base + (form["action"] or path), data=data, timeout=60)
    assert answer.history or answer.status_code == 302, answer.text[-3000:]

    return answer


def _rename(session: requests.Session, base: str, name: str) -> None:
    """Save a new name in the editor and publish it, as an admin does."""
    _post(session, base, f"/staff/procedures/{CODE}/edit", "", name=name)
    _post(session, base, f"/staff/procedures/{CODE}", f"/staff/procedures/{CODE}/publish")


@pytest.fixture
def nodes(tmp_path):
    if not TEST_DATABASE_URL:
        pytest.fail("the two-node test needs TTHC_TEST_DATABASE_URL (the PostgreSQL pass)")
    env = {
        **os.environ,
        "TTHC_SQLALCHEMY_DATABASE_URI": _database_url(tmp_path),
        "TTHC_SECRET_KEY": "shared-by-both-nodes",
        "TTHC_SEARCH_EMBEDDINGS": '""',
    }
    a, b = Node("node-a", tmp_path, env), Node("node-b", tmp_path, env)
    init = a.flask("init-db", "--demo-if-empty", "--base-url", "https://tthc.example.vn")
    assert init.returncode == 0, init.stderr
    user = a.flask("create-user", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert user.returncode == 0, user.stderr
    a.start()
    b.start()
    yield a, b
    for node in (a, b):
        node.stop()


def test_an_edit_through_one_node_is_found_through_the_other(nodes, tmp_path):
    a, b = nodes
    session = requests.Session()
    _post(session, a.url, "/staff/login", "", username="admin", password=PASSWORD)

    for node in (a, b):  # booted and warm: the 2 s below are the index's, not a first start's
        assert CODE in node.found("hộ kinh doanh")
    _rename(session, a.url, "Đăng ký thành lập hộ kinh doanh nuôi chim yến")
    start = time.monotonic()
    while CODE not in b.found("chim yến"):
        assert time.monotonic() - start < 2.0, "node B did not see node A's edit within 2 s"
        time.sleep(0.05)

    # Through nginx, balancing between the two nodes.
    conf = _loopback_config(tmp_path, a.port, free_port(), https := free_port())
    conf.write_text(
        conf.read_text().replace(
            f"server 127.0.0.1:{a.port} fail_timeout=0;",
            f"server 127.0.0.1:{a.port} fail_timeout=0;\n        server 127.0.0.1:{b.port};",
        )
    )
    proxy = subprocess.Popen(
        ["/usr/sbin/nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(https, proxy)
        for _ in range(4):  # round robin: both nodes answer
            answer = _get(https, "/api/v1/procedures?q=chim+y%E1%BA%BFn")
            assert answer.status == 200
            assert CODE in answer.read().decode()
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)

    # Node B killed with -9 during a burst of edits, then started again: it catches up.
    names = [f"Đăng ký hộ kinh doanh lần sửa {n} gốm sứ" for n in range(12)]
    burst = threading.Thread(target=lambda: [_rename(session, a.url, n) for n in names])
    burst.start()
    time.sleep(1.0)
    b.kill()
    burst.join(300)
    assert not burst.is_alive()
    b.start()
    start = time.monotonic()
    while b.found("sửa 11 gốm sứ")[:1] != [CODE]:
        assert time.monotonic() - start < 120, "node B did not catch up after its restart"
        time.sleep(0.2)
    assert a.found("chim yến") == b.found("chim yến") == []
    for node in (a, b):
        check = node.flask("search-check")
        assert check.returncode == 0, check.stdout + check.stderr
