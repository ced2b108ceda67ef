"""A bounded load test on loopback: gunicorn (4 workers) on a copy of an instance, N clients for
S seconds of mixed public traffic (home, agency, lĩnh vực and procedure pages, search with the
judged queries of tests/relevance, the JSON API, procedure PDFs) while a staff client saves and
publishes one procedure every second through the staff pages (login, CSRF, the editor's form).

Prints the requests, the errors (any answer but 2xx/3xx, connection errors), p50/p95 per kind
of route, requests per second, and whether an acknowledged edit was lost: every save the
portal acknowledged must be a revision in the database, and the last one must be published
and found by search.

Run from the repository root: .venv/bin/python bench/load.py [--clients 32] [--seconds 60]
[--real] (--real imports ../shared/data/tthc-real's portal pages with `flask import` instead
of the demo catalogue). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from services.db import db  # noqa: E402
from services.editorial import history  # noqa: E402
from services.models import Agency, Field, Procedure, User  # noqa: E402
from tests.helpers import free_port, read_forms  # noqa: E402
from tests.tthc_real import data_folder  # noqa: E402

STAFF, PASSWORD = "tai-thu", "mat-khau-tai-thu"
EXPECTED = {202, 304}  # a booklet being prepared; a cached page


def flask(instance: Path, *args: str, stdin: str | None = None) -> None:
    env = {**os.environ, "TTHC_INSTANCE": str(instance)}
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    subprocess.run(command, cwd=ROOT, env=env, input=stdin, text=True, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def prepare(instance: Path, real: bool) -> None:
    """A fresh instance with the demo (or the real) catalogue and a staff admin account."""
    if real:
        data = data_folder()
        if data is None:
            sys.exit("--real needs ../shared/data/tthc-real")
        flask(instance, "init-db")
        flask(instance, "import", str(data / "chatbot_tthc" / "data" / "raw"))
    else:
        flask(instance, "init-db", "--demo-if-empty")
    flask(instance, "create-user", STAFF, "--role", "admin", "--password-stdin", stdin=PASSWORD)


def catalogue(instance: Path) -> dict[str, list[str]]:
    """Published codes, agency and lĩnh vực slugs to visit."""
    app = create_app({"INSTANCE_PATH": instance, "SEARCH_BACKGROUND": False})
    with app.app_context():
        published = db.select(Procedure.code).where(Procedure.status == "published")
        return {
            "code": list(db.session.execute(published).scalars()),
            "agency": list(db.session.execute(db.select(Agency.slug)).scalars()),
            "field": list(db.session.execute(db.select(Field.slug)).scalars()),
        }


def queries() -> list[str]:
    found = []
    for path in sorted((ROOT / "tests" / "relevance").glob("*.json")):
        found += [q["q"] for q in json.loads(path.read_text())["queries"]]
    return found


def serve(instance: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "TTHC_INSTANCE": str(instance)}
    command = [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
               "app:create_app()"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=30).ok:
                return server
        except requests.RequestException:  # not listening yet, or still loading
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit("gunicorn did not start in 120 s")


class Stats:
    """Durations by kind of route, and the errors."""

    def __init__(self, since: float):
        self.since = since  # answers before this (the warm-up) are not counted
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def request(self, session: requests.Session, kind: str, method: str, url: str, **kw):
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=60, allow_redirects=False, **kw)
            status, problem = response.status_code, None
        except requests.RequestException as error:
            response, status, problem = None, 0, f"{type(error).__name__}"
        took = time.perf_counter() - started
        if time.monotonic() - took < self.since:
            return response
        if problem is None and status >= 400 and status not in EXPECTED:
            problem = str(status)
        with self.lock:
            self.times[kind].append(took)
            if problem:
                self.errors[kind].append(f"{problem} {method} {url}")
        return response


def visitor(base: str, stats: Stats, pages: dict, words: list[str], until: float) -> None:
    session = requests.Session()
    kinds = ["home", "agency", "field", "procedure", "procedure", "search", "search", "api",
             "suggest", "pdf"]  # fmt: skip
    while time.monotonic() < until:
        kind = random.choice(kinds)
        code = random.choice(pages["code"])
        url = {
            "home": "/",
            "agency": f"/co-quan/{random.choice(pages['agency'])}",
            "field": f"/linh-vuc/{random.choice(pages['field'])}",
            "procedure": f"/thu-tuc/{code}",
            "search": "/tim-kiem",
            "api": "/api/v1/procedures",
            "suggest": "/api/v1/suggest",
            "pdf": f"/thu-tuc/{code}.pdf",
        }[kind]
        params = {"q": random.choice(words)} if kind in ("search", "api") else None
        if kind == "suggest":
            params = {"q": random.choice(words)[:12]}
        stats.request(session, kind, "GET", base + url, params=params)


def staff(base: str, stats: Stats, code: str, until: float, acknowledged: list[str]) -> None:
    """Save and publish `code` every second through the staff pages; record each name the
    portal acknowledged (a redirect after the save)."""
    session = requests.Session()
    page = stats.request(session, "staff", "GET", base + "/staff/login")
    fields = dict(read_forms(page.text)[-1]["fields"])
    login = {**fields, "username": STAFF, "password": PASSWORD}
    assert stats.request(session, "staff", "POST", base + "/staff/login", data=login).is_redirect
    n = 0
    while time.monotonic() < until:
        started = time.monotonic()
        n += 1
        edit = stats.request(session, "staff", "GET", f"{base}/staff/procedures/{code}/edit")
        if edit is not None and edit.status_code == 200:
            path = f"/staff/procedures/{code}/edit"
            form = next(f for f in read_forms(edit.text) if f["action"] in ("", path))
            data = [(k, v) for k, v in form["fields"] if k not in ("name", "action")]
            name = f"Thủ tục tải thử lần {n}"
            data += [("name", name), ("action", "save")]
            saved = stats.request(session, "staff", "POST", edit.url, data=data)
            if saved is not None and saved.status_code in (302, 303):
                acknowledged.append(name)
                publish(base, stats, session, code)
        time.sleep(max(0.0, 1 - (time.monotonic() - started)))


def publish(base: str, stats: Stats, session: requests.Session, code: str) -> None:
    page = stats.request(session, "staff", "GET", f"{base}/staff/procedures/{code}")
    if page is None or page.status_code != 200:
        return
    for form in read_forms(page.text):
        if form["action"].endswith("/publish"):
            stats.request(session, "staff", "POST", base + form["action"], data=form["fields"])


def lost_edits(instance: Path, code: str, acknowledged: list[str], base: str) -> list[str]:
    """Acknowledged saves missing from the procedure's revisions; and the last one must be
    what is published and what search finds."""
    app = create_app({"INSTANCE_PATH": instance, "SEARCH_BACKGROUND": False})
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username=STAFF)).scalar_one()
        names = {r.record["name"] for r in history.revisions(code, user)[1]}
        published = db.session.execute(db.select(Procedure.name).filter_by(code=code)).scalar()
    if not acknowledged:
        return ["no save was acknowledged: nothing to check"]
    lost = [name for name in acknowledged if name not in names]
    last = acknowledged[-1]
    if published != last:
        lost.append(f"published is {published!r}, last acknowledged {last!r}")
    found = requests.get(f"{base}/api/v1/procedures", params={"q": last}, timeout=60).json()
    if code not in [r["code"] for r in found["results"][:5]]:
        lost.append(f"search for {last!r} does not find {code} in its top 5")
    return lost


def report(stats: Stats, seconds: float, lost: list[str], acknowledged: int) -> None:
    total = sum(len(t) for t in stats.times.values())
    errors = sum(len(e) for e in stats.errors.values())
    print(f"{total} requests in {seconds:.0f} s: {total / seconds:.1f} requests/s, {errors} errors")
    print(f"{'kind':<10} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for kind in sorted(stats.times):
        times = sorted(stats.times[kind])
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{kind:<10} {len(times):>8} {len(stats.errors[kind]):>6} "
              f"{statistics.median(times) * 1000:>8.0f} {p95 * 1000:>8.0f}")  # fmt: skip
    for kind, problems in sorted(stats.errors.items()):
        for problem in problems[:5]:
            print(f"  error ({kind}): {problem}")
    print(f"staff saves acknowledged: {acknowledged}; lost: {len(lost)}")
    for problem in lost:
        print(f"  lost: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of load not counted")
    parser.add_argument("--real", action="store_true", help="the real catalogue, not the demo")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="tthc-load-")) / "instance"
    prepare(instance, args.real)
    pages, words = catalogue(instance), queries()
    code = pages["code"][0]
    port = free_port()
    server = serve(instance, port)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    try:
        started = time.monotonic() + args.warmup
        stats = Stats(started)
        until = started + args.seconds
        threads = [threading.Thread(target=staff, args=(base, stats, code, until, acknowledged))]
        threads += [
            threading.Thread(target=visitor, args=(base, stats, pages, words, until))
            for _ in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        time.sleep(2)  # index writes follow each commit in the background
        lost = lost_edits(instance, code, acknowledged, base)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    source = "real" if args.real else "demo"
    print(f"gunicorn, 4 workers; {args.clients} clients × {args.seconds:.0f} s "
          f"after {args.warmup:.0f} s of warm-up; "
          f"{source} catalogue ({len(pages['code'])} published)")  # fmt: skip
    report(stats, seconds, lost, len(acknowledged))
    sys.exit(1 if lost or any(stats.errors.values()) else 0)


if __name__ == "__main__":
    main()
