"""What a server's workers hold in memory: gunicorn with the shipped configuration
(deploy/gunicorn.conf.py, 4 workers) on the real catalogue and on synthetic catalogues grown
from it, the embedding model on, after each worker served a mix of searches (the judged
queries of tests/relevance, through the JSON API and the search page) and public pages.

Prints, for the master and each worker, from /proc/<pid>/smaps_rollup: RSS (every page the
process maps, shared or not: what `ps` and most monitors show), PSS (shared pages divided
among the processes that map them: what the process costs the machine) and private memory
(pages no other process maps: what stopping it would free), and all processes' PSS.

Run from the repository root: .venv/bin/python bench/memory.py [--sizes real,10000]
[--config deploy/gunicorn.conf.py] [--requests 400] [--keep DIR] (--keep reuses or keeps the
prepared instances there: growing 10,000 procedures and embedding their passages takes
minutes). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import grow, import_real, load  # noqa: E402
from services import search  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from tests.tthc_real import data_folder  # noqa: E402


def prepare(folder: Path, size: str, data: Path) -> Path:
    """An instance with the real catalogue, grown to `size` procedures, indexed with vectors
    (reused when `folder` already holds one)."""
    instance = folder / f"instance-{size}"
    if (instance / "search-index" / "CURRENT").exists():
        return instance
    app = import_real(instance, data)
    if size != "real":
        grow(app, int(size), random.Random(20261202))
    with app.app_context():
        search.rebuild()
    return instance


def memory(pid: int) -> dict[str, int]:
    """RSS, PSS and private memory of a process, in MB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0])
    private = values["Private_Clean"] + values["Private_Dirty"]
    return {"rss": values["Rss"] // 1024, "pss": values["Pss"] // 1024, "private": private // 1024}


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(p) for p in found]


def serve(instance: Path, config: Path, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "TTHC_INSTANCE": str(instance),
        "TTHC_BIND": f"127.0.0.1:{port}",
        "TTHC_WORKERS": str(workers),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(config), "--chdir", str(ROOT),
               "--access-logfile", "/dev/null", "app:create_app()"]  # fmt: skip
    server = subprocess.Popen(command, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=60).ok:
                return server
        except requests.RequestException:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit("gunicorn did not start in 300 s")


def traffic(base: str, count: int, clients: int) -> int:
    """`count` requests from `clients` threads; returns how many failed."""
    texts = []
    for path in sorted((ROOT / "tests" / "relevance").glob("*.json")):
        texts += [q["q"] for q in json.loads(path.read_text())["queries"]]
    rng = random.Random(7)
    plan = []
    for n in range(count):
        text = rng.choice(texts)
        plan.append(
            ("/api/v1/procedures", {"q": text})
            if n % 3
            else ("/tim-kiem", {"q": text})
            if n % 2
            else (rng.choice(["/", "/co-quan", "/linh-vuc", "/hanh-trinh"]), None)
        )
    failed = []

    def work(part: list) -> None:
        session = requests.Session()
        for path, params in part:
            try:
                if not session.get(base + path, params=params, timeout=60).ok:
                    failed.append(path)
            except requests.RequestException:
                failed.append(path)

    threads = [threading.Thread(target=work, args=(plan[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(failed)


def run(label: str, instance: Path, config: Path, workers: int, count: int) -> None:
    port = free_port()
    server = serve(instance, config, port, workers)
    try:
        time.sleep(5)  # the background warm-up of each worker's search caches
        failed = traffic(f"http://127.0.0.1:{port}", count, workers * 2)
        time.sleep(1)
        master = memory(server.pid)
        workers_memory = [memory(pid) for pid in children(server.pid)]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    print(f"\n{label}: {count} requests, {failed} failed; load average {load()}")
    print(f"{'process':<10} {'RSS MB':>7} {'PSS MB':>7} {'private MB':>11}")
    print(f"{'master':<10} {master['rss']:>7} {master['pss']:>7} {master['private']:>11}")
    for n, m in enumerate(workers_memory, 1):
        print(f"{'worker ' + str(n):<10} {m['rss']:>7} {m['pss']:>7} {m['private']:>11}")
    total = master["pss"] + sum(m["pss"] for m in workers_memory)
    print(f"all processes' PSS: {total} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="real,10000")
    parser.add_argument("--config", type=Path, default=ROOT / "deploy" / "gunicorn.conf.py")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--keep", type=Path, default=None, help="where prepared instances stay")
    parser.add_argument("--data", type=Path, default=None, help="the tthc-real folder")
    args = parser.parse_args()
    data = args.data or data_folder()
    if data is None:
        sys.exit("needs ../shared/data/tthc-real (or --data)")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="tthc-memory-"))
    print(f"gunicorn -c {args.config}, {args.workers} workers, the model on; {time.ctime()}")
    for size in args.sizes.split(","):
        instance = prepare(folder, size, data)
        run(f"{size} procedures" if size != "real" else "real catalogue (2,642 procedures)",
            instance, args.config, args.workers, args.requests)  # fmt: skip


if __name__ == "__main__":
    main()
