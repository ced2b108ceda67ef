"""A bounded load test on loopback: gunicorn (4 workers) on a fresh instance, N clients for S
seconds of mixed public traffic (home, agency, lĩnh vực and procedure pages, search with the
judged queries of tests/relevance, the JSON API, procedure PDFs) while a staff client saves and
publishes one procedure every second through the staff pages (login, CSRF, the editor's form).

The working tree is served with the shipped deploy/gunicorn.conf.py (workers set to 4 by
TTHC_WORKERS, the address by TTHC_BIND). `--baseline [COMMIT]` (b789a9c when no commit is
given) also serves that commit, checked out in a temporary git worktree and prepared by its own
`flask init-db` and `create-user`, with plain `gunicorn -w 4`, under the same load in the same
run, and prints the ratio of requests per second. `--nginx` also serves the working tree behind
the shipped deploy/nginx.conf (rewritten for loopback ports and a throw-away certificate, as
tests/test_deploy.py does), every client going through nginx over HTTPS.

For each run it prints the requests, the errors (any answer but 2xx/3xx, connection errors),
p50/p95 per kind of route, requests per second, the requests that started within 1 s after a
staff publish (an index change) against the usual p95, and whether an acknowledged edit was
lost: every save the portal acknowledged must be in the procedure's revisions, and the last one
must be published and found by search.

Run from the repository root: .venv/bin/python bench/load.py [--clients 32] [--seconds 60]
[--baseline [COMMIT]] [--nginx] [--real] (--real imports ../shared/data/tthc-real's portal
pages with `flask import` instead of the demo catalogue). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
import urllib3
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import load  # noqa: E402
from services.search import vectors  # noqa: E402
from tests.helpers import VECTOR_CACHE, free_port, read_forms  # noqa: E402
from tests.test_deploy import NGINX, _loopback_config  # noqa: E402
from tests.tthc_real import data_folder  # noqa: E402

STAFF, PASSWORD = "tai-thu", "mat-khau-tai-thu"
EXPECTED = {202, 304}  # a booklet being prepared; a cached page
BASELINE = "b789a9c"  # the commit issue 14's targets are measured against
HOST = "tthc.example.vn"  # the name deploy/nginx.conf serves
AFTER_CHANGE = 1.0  # seconds after a publish in which a request counts as "after an index change"
PAGES, API = ("home", "agency", "field", "procedure"), ("api", "suggest")
KINDS = ["home", "agency", "field", "procedure", "procedure", "search", "search", "api",
         "suggest", "pdf"]  # fmt: skip


@dataclass
class Target:
    """One portal under test: the code it runs, its instance folder, and how clients reach it."""

    label: str
    tree: Path
    instance: Path
    shipped: bool = True  # deploy/gunicorn.conf.py; else plain `gunicorn -w 4`
    nginx: bool = False  # HTTPS through nginx: the name it serves, a self-signed certificate
    base: str = ""

    @property
    def origin(self) -> str:
        """Where a browser would say a staff form came from: over HTTPS, Flask-WTF refuses a
        form post without a Referer of the same host."""
        return f"https://{HOST}" if self.nginx else self.base

    def session(self) -> requests.Session:
        session = requests.Session()
        # Loopback only: no proxy, and no CA bundle from the environment, which would override
        # `verify` below (requests lets REQUESTS_CA_BUNDLE win over a session's setting).
        session.trust_env = False
        if self.nginx:
            session.verify = False
            session.headers["Host"] = HOST
        return session


def environment(instance: Path, **settings: str) -> dict[str, str]:
    """This process's environment without its TTHC_ settings, which would reach every server
    alike: only the instance folder and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTHC_")}
    return {**env, "TTHC_INSTANCE": str(instance), **settings}


def flask(target: Target, *args: str, stdin: str | None = None) -> None:
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    done = subprocess.run(command, cwd=target.tree, env=environment(target.instance),
                          input=stdin, text=True, capture_output=True)  # fmt: skip
    if done.returncode:
        sys.exit(f"{target.label}: flask {' '.join(args)} failed:\n{done.stderr}")


def prepare(target: Target, real: bool) -> None:
    """A fresh instance with the demo (or the real) catalogue and a staff admin account, made
    by the commands of the code under test."""
    if real:
        data = data_folder()
        if data is None:
            sys.exit("--real needs ../shared/data/tthc-real")
        if target.tree == ROOT and VECTOR_CACHE.exists():
            # The real catalogue's passages, embedded once by the tests: a copy (never the
            # tests' file itself) spares minutes of embedding; the index is built all the same.
            index = target.instance / "search-index"
            index.mkdir(parents=True)
            shutil.copyfile(VECTOR_CACHE, index / vectors.FILENAME)
        flask(target, "init-db")
        flask(target, "import", str(data / "chatbot_tthc" / "data" / "raw"))
    else:
        flask(target, "init-db", "--demo-if-empty")
    flask(target, "create-user", STAFF, "--role", "admin", "--password-stdin", stdin=PASSWORD)


def database(instance: Path):
    return create_engine(f"sqlite:///{instance / 'tthc.sqlite3'}")


def catalogue(instance: Path) -> dict[str, set[str]]:
    """Published codes, agency and lĩnh vực slugs to visit. Read with plain SQL on tables every
    version has, so the baseline's instance is read the same way as the working tree's."""
    engine = database(instance)
    with engine.connect() as connection:
        found = {
            name: set(connection.execute(text(sql)).scalars())
            for name, sql in (
                ("code", "SELECT code FROM procedure WHERE status = 'published'"),
                ("agency", "SELECT slug FROM agency"),
                ("field", "SELECT slug FROM field"),
            )
        }
    engine.dispose()
    return found


def queries() -> list[str]:
    found = []
    for path in sorted((ROOT / "tests" / "relevance").glob("*.json")):
        found += [q["q"] for q in json.loads(path.read_text())["queries"]]
    return found


@contextlib.contextmanager
def checkout(commit: str):
    """`commit` in a temporary git worktree, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tthc-baseline-") as parent:
        folder = Path(parent) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", str(folder), commit], check=True,
                       capture_output=True)  # fmt: skip
        try:
            yield folder
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(folder)], check=True)


def serve(target: Target) -> subprocess.Popen:
    """gunicorn with 4 workers on a free loopback port: the shipped deploy/gunicorn.conf.py, or
    plain `gunicorn -w 4` (for a commit that had no such file)."""
    port = free_port()
    target.base = f"http://127.0.0.1:{port}"
    gunicorn = [sys.executable, "-m", "gunicorn"]
    if target.shipped:
        command = [*gunicorn, "-c", str(target.tree / "deploy" / "gunicorn.conf.py")]
        env = environment(target.instance, TTHC_WORKERS="4", TTHC_BIND=f"127.0.0.1:{port}")
        if target.nginx:
            env["TTHC_TRUSTED_PROXIES"] = "1"  # X-Forwarded-Proto: https, from nginx
    else:
        command = [*gunicorn, "-w", "4", "-b", f"127.0.0.1:{port}"]
        env = environment(target.instance)
    server = subprocess.Popen([*command, "app:create_app()"], cwd=target.tree, env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    wait_until_up(target, server, "gunicorn")
    return server


def wait_until_up(target: Target, process: subprocess.Popen, name: str) -> None:
    session = target.session()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if session.get(target.base + "/", timeout=30).ok:
                return
        except requests.RequestException:  # not listening yet, or still loading
            pass
        time.sleep(0.5)
    stop(process)
    sys.exit(f"{name} did not answer in 120 s")


def stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


@contextlib.contextmanager
def behind_nginx(target: Target):
    """The shipped nginx in front of `target`'s gunicorn; clients then reach it over HTTPS."""
    with tempfile.TemporaryDirectory(prefix="tthc-nginx-") as folder:
        app_port = int(target.base.rsplit(":", 1)[1])
        https = free_port()
        conf = _loopback_config(Path(folder), app_port, free_port(), https)
        proxy = subprocess.Popen([NGINX, "-c", str(conf), "-p", folder, "-g", "daemon off;"],
                                 start_new_session=True, stderr=subprocess.DEVNULL)  # fmt: skip
        target.base = f"https://127.0.0.1:{https}"
        try:
            wait_until_up(target, proxy, "nginx")
            yield
        finally:
            stop(proxy)


class Stats:
    """Durations by kind of route, when each request started, the errors, and when each staff
    publish was acknowledged."""

    def __init__(self, since: float):
        self.since = since  # answers before this (the warm-up) are not counted
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.samples: list[tuple[float, float, str]] = []  # started, seconds, kind
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.publishes: list[float] = []
        self.cache: Counter[str] = Counter()  # nginx's X-Cache-Status of public answers

    def request(self, session: requests.Session, kind: str, method: str, url: str, **kw):
        started = time.monotonic()
        try:
            response = session.request(method, url, timeout=60, allow_redirects=False, **kw)
            status, problem = response.status_code, None
        except requests.RequestException as error:
            response, status, problem = None, 0, f"{type(error).__name__}"
        took = time.monotonic() - started
        if started < self.since:
            return response
        if problem is None and status >= 400 and status not in EXPECTED:
            problem = str(status)
        with self.lock:
            self.times[kind].append(took)
            self.samples.append((started, took, kind))
            if problem:
                self.errors[kind].append(f"{problem} {method} {url}")
            if response is not None and kind != "staff" and "X-Cache-Status" in response.headers:
                self.cache[response.headers["X-Cache-Status"]] += 1
        return response


def visitor(target: Target, stats: Stats, pages: dict, words: list[str], until: float,
            seed: int) -> None:  # fmt: skip
    """One client; its seed makes it ask for the same sequence of pages against every target."""
    chance = random.Random(seed)
    session = target.session()
    while time.monotonic() < until:
        kind = chance.choice(KINDS)
        code = chance.choice(pages["code"])
        url = {
            "home": "/",
            "agency": f"/co-quan/{chance.choice(pages['agency'])}",
            "field": f"/linh-vuc/{chance.choice(pages['field'])}",
            "procedure": f"/thu-tuc/{code}",
            "search": "/tim-kiem",
            "api": "/api/v1/procedures",
            "suggest": "/api/v1/suggest",
            "pdf": f"/thu-tuc/{code}.pdf",
        }[kind]
        params = {"q": chance.choice(words)} if kind in ("search", "api") else None
        if kind == "suggest":
            params = {"q": chance.choice(words)[:12]}
        stats.request(session, kind, "GET", target.base + url, params=params)


def staff(target: Target, stats: Stats, code: str, until: float, acknowledged: list[str]) -> None:
    """Save and publish `code` every second through the staff pages; record each name the
    portal acknowledged (a redirect after the save)."""
    base, session = target.base, target.session()
    session.headers["Referer"] = target.origin + "/staff/"
    page = stats.request(session, "staff", "GET", base + "/staff/login")
    fields = dict(read_forms(page.text)[-1]["fields"])
    login = {**fields, "username": STAFF, "password": PASSWORD}
    answer = stats.request(session, "staff", "POST", base + "/staff/login", data=login)
    if answer is None or not answer.is_redirect:
        with stats.lock:
            stats.errors["staff"].append(f"login refused: {getattr(answer, 'status_code', 0)}")
        return
    n = 0
    while time.monotonic() < until:
        started = time.monotonic()
        n += 1
        path = f"/staff/procedures/{code}/edit"
        edit = stats.request(session, "staff", "GET", base + path)
        if edit is not None and edit.status_code == 200:
            form = next(f for f in read_forms(edit.text) if f["action"] in ("", path))
            data = [(k, v) for k, v in form["fields"] if k not in ("name", "action")]
            name = f"Thủ tục tải thử lần {n}"
            data += [("name", name), ("action", "save")]
            saved = stats.request(session, "staff", "POST", base + path, data=data)
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
            done = stats.request(session, "staff", "POST", base + form["action"],
                                 data=form["fields"])  # fmt: skip
            if done is not None and done.is_redirect:
                with stats.lock:
                    stats.publishes.append(time.monotonic())


def lost_edits(target: Target, code: str, acknowledged: list[str]) -> list[str]:
    """Acknowledged saves missing from the procedure's revisions; and the last one must be
    what is published and what search finds."""
    if not acknowledged:
        return ["no save was acknowledged: nothing to check"]
    engine = database(target.instance)
    with engine.connect() as connection:
        records = connection.execute(
            text(
                "SELECT r.record FROM procedure_revision r"
                " JOIN procedure p ON p.id = r.procedure_id WHERE p.code = :code"
            ),
            {"code": code},
        ).scalars()
        names = {(json.loads(r) if isinstance(r, str) else r)["name"] for r in records}
        published = connection.execute(
            text("SELECT name FROM procedure WHERE code = :code"), {"code": code}
        ).scalar()
    engine.dispose()
    lost = [name for name in acknowledged if name not in names]
    last = acknowledged[-1]
    if published != last:
        lost.append(f"published is {published!r}, last acknowledged {last!r}")
    found = target.session().get(f"{target.base}/api/v1/procedures", params={"q": last}, timeout=60)
    if code not in [r["code"] for r in found.json()["results"][:5]]:
        lost.append(f"search for {last!r} does not find {code} in its top 5")
    return lost


@dataclass
class Result:
    target: Target
    stats: Stats
    seconds: float
    acknowledged: list[str]
    lost: list[str]
    load_before: str
    load_after: str
    rate: float = field(init=False)

    def __post_init__(self):
        self.rate = len(self.stats.samples) / self.seconds


def run(target: Target, pages: dict, words: list[str], args) -> Result:
    """The load against a served target: warm-up, then the counted seconds."""
    code = pages["code"][0]
    acknowledged: list[str] = []
    before = load()
    started = time.monotonic() + args.warmup
    stats = Stats(started)
    until = started + args.seconds
    threads = [threading.Thread(target=staff, args=(target, stats, code, until, acknowledged))]
    threads += [
        threading.Thread(target=visitor, args=(target, stats, pages, words, until, n))
        for n in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    after = load()
    time.sleep(2)  # index writes follow each commit in the background
    lost = lost_edits(target, code, acknowledged)
    return Result(target, stats, seconds, acknowledged, lost, before, after)


def percentile(times: list[float], share: float) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(len(times) * share))]


def after_changes(stats: Stats) -> tuple[str, float | None]:
    """The public requests that started within AFTER_CHANGE s after a publish, against the p95
    of all public requests: a line to print, and their max over that p95."""
    public = [(s, t, k) for s, t, k in stats.samples if k != "staff"]
    if not public or not stats.publishes:
        return "after an index change: no publish, nothing to compare", None
    usual = percentile([t for _, t, _ in public], 0.95)
    after = [
        (t, k) for s, t, k in public if any(0 <= s - p < AFTER_CHANGE for p in stats.publishes)
    ]
    if not after:
        return f"after an index change: no request within {AFTER_CHANGE:.0f} s of a publish", None
    worst, kind = max(after)
    line = (
        f"after an index change ({len(after)} requests started ≤ {AFTER_CHANGE:.0f} s after "
        f"one of {len(stats.publishes)} publishes): p95 "
        f"{percentile([t for t, _ in after], 0.95) * 1000:.0f} ms, max {worst * 1000:.0f} ms "
        f"({kind}); usual p95 {usual * 1000:.0f} ms; max = {worst / usual:.1f}× the usual p95"
    )
    return line, worst / usual


def report(result: Result) -> None:
    stats, seconds = result.stats, result.seconds
    total = len(stats.samples)
    errors = sum(len(e) for e in stats.errors.values())
    print(f"\n== {result.target.label} ({result.load_before} before, {result.load_after} after)")
    print(f"{total} requests in {seconds:.0f} s: {result.rate:.1f} requests/s, {errors} errors")
    print(f"{'kind':<10} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for kind in sorted(stats.times):
        times = stats.times[kind]
        print(f"{kind:<10} {len(times):>8} {len(stats.errors[kind]):>6} "
              f"{statistics.median(times) * 1000:>8.0f} "
              f"{percentile(times, 0.95) * 1000:>8.0f}")  # fmt: skip
    pages = [t for k in PAGES for t in stats.times[k]]
    api = [t for k in API for t in stats.times[k]]
    for name, times in (("pages", pages), ("API", api)):
        if times:
            print(f"{name}: p50 {statistics.median(times) * 1000:.0f} ms, "
                  f"p95 {percentile(times, 0.95) * 1000:.0f} ms")  # fmt: skip
    print(after_changes(stats)[0])
    if stats.cache:
        print("nginx cache (X-Cache-Status of public answers): "
              + ", ".join(f"{status} {n}" for status, n in stats.cache.most_common()))  # fmt: skip
    for kind, problems in sorted(stats.errors.items()):
        for problem in problems[:5]:
            print(f"  error ({kind}): {problem}")
    print(f"staff saves acknowledged: {len(result.acknowledged)}; lost: {len(result.lost)}")
    for problem in result.lost:
        print(f"  lost: {problem}")


def targets_of_issue_14(results: list[Result], baseline: str | None) -> None:
    """Each figure beside its target (issue 14), from the runs made."""
    print("\nissue 14's targets (this run):")
    current = next(r for r in results if r.target.tree == ROOT and not r.target.nginx)
    if baseline:
        old = results[0]
        print(f"- requests/s straight to gunicorn: {current.rate:.1f} against {baseline}'s "
              f"{old.rate:.1f} = {current.rate / old.rate:.2f}× (target ≥ 2.5×)")  # fmt: skip
    proxied = next((r for r in results if r.target.nginx), None)
    if proxied:
        for name, kinds in (("pages", PAGES), ("API", API)):
            times = [t for k in kinds for t in proxied.stats.times[k]]
            if times:
                print(f"- {name} p95 through nginx: {percentile(times, 0.95) * 1000:.0f} ms "
                      f"(target ≤ 100 ms)")  # fmt: skip
    for result in results:
        worst = after_changes(result.stats)[1]
        if worst is not None:
            name = result.target.label.split(",")[0]
            print(f"- slowest request ≤ 1 s after a publish, {name}: {worst:.1f}× the usual p95 "
                  f"(target ≤ 3×)")  # fmt: skip
    print("- API p50 outside the engine and an edit's delay through another worker: "
          "bench/search.py (engine time and measure_follow)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of load not counted")
    parser.add_argument("--real", action="store_true", help="the real catalogue, not the demo")
    parser.add_argument(
        "--baseline",
        nargs="?",
        const=BASELINE,
        metavar="COMMIT",
        help=f"also serve COMMIT (default {BASELINE}) under the same load",
    )
    parser.add_argument("--nginx", action="store_true",
                        help="also serve the working tree behind deploy/nginx.conf")  # fmt: skip
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each run's report as soon as it is done
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # nginx's own certificate
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tthc-load-")))
        targets = []
        if args.baseline:
            tree = stack.enter_context(checkout(args.baseline))
            label = f"{args.baseline}, plain gunicorn -w 4"
            targets.append(Target(label, tree, folder / "baseline", shipped=False))
        label = "working tree, deploy/gunicorn.conf.py with 4 workers"
        targets.append(Target(label, ROOT, folder / "current"))
        if args.nginx:
            label = "working tree behind deploy/nginx.conf (HTTPS), same gunicorn"
            targets.append(Target(label, ROOT, folder / "nginx", nginx=True))
        for target in targets:
            prepare(target, args.real)
        # The same pages for every target: those every instance has.
        found = [catalogue(target.instance) for target in targets]
        pages = {k: sorted(set.intersection(*(f[k] for f in found))) for k in found[0]}
        words = queries()
        source = "real" if args.real else "demo"
        print(f"{args.clients} clients × {args.seconds:.0f} s after {args.warmup:.0f} s of "
              f"warm-up, one target after the other; {source} catalogue ({len(pages['code'])} "
              f"published procedures visited); other processes share the CPU (load beside "
              f"each run)")  # fmt: skip
        results = []
        for target in targets:
            server = serve(target)
            try:
                with behind_nginx(target) if target.nginx else contextlib.nullcontext():
                    results.append(run(target, pages, words, args))
            finally:
                stop(server)
            report(results[-1])
    targets_of_issue_14(results, args.baseline)
    failed = any(r.lost or any(r.stats.errors.values()) for r in results)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
