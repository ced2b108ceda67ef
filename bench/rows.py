"""What a request costs outside the search engine, old loaders beside new in one run: the
result lines of a search (`services.search._rows`: four ORM statements with LIST_PROCEDURE
before, one statement of plain columns now) and the procedure page (twelve statements with
FULL_PROCEDURE and procedures_by_code before, one now).

On the real catalogue (2,642 procedures of ../shared/data/tthc-real) and on a synthetic one of
10,000 built from it (bench/search.py's grow), it prints p50 / p95 in ms of:
- loading the result lines of 20 results (the ids the mixed queries of bench/search.py find),
  each load in a fresh session as in a request;
- the JSON API minus the engine (per query, /api/v1/procedures through the test client minus
  services.search.engine.run on the same query, query vectors cached: the issue's "API
  overhead outside the engine");
- loading the procedure page's rows, and the whole page through the test client.
Old and new alternate query by query, so both meet the same load; the load average is
printed with each figure.

Run from the repository root:
    .venv/bin/python bench/rows.py [--sizes real,10000] [--queries 200] [--data PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from services import search
from services.catalogue import queries, rows
from services.db import db
from services.models import Procedure, Status
from services.search import engine, index, snapshot, synonyms
from tests.tthc_real import data_folder

_spec = importlib.util.spec_from_file_location(
    "bench_search", Path(__file__).with_name("search.py")
)
bench_search = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_search)
load, grow, import_real, make_app = (
    bench_search.load,
    bench_search.grow,
    bench_search.import_real,
    bench_search.make_app,
)

SEED = 20261125


def old_rows(ids: list[int]) -> dict[int, Procedure]:
    """The result lines as loaded before: ORM objects with LIST_PROCEDURE (four statements)."""
    found = db.session.execute(
        select(Procedure).where(Procedure.id.in_(ids)).options(*queries.LIST_PROCEDURE)
    ).scalars()
    return {p.id: p for p in found if p.status == Status.PUBLISHED}


def old_page(code: str):
    """The procedure page's rows as loaded before: FULL_PROCEDURE, then the related ones."""
    found = queries.get_procedure(code)
    return found, queries.procedures_by_code([r.code for r in found.related])


LOADERS = {
    "rows": {"before": old_rows, "now": search._rows},
    "page": {"before": old_page, "now": rows.procedure_page},
}


def figures(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {statistics.median(samples):6.2f} ms   p95 {cuts[94]:6.2f} ms"


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def result_ids(app, mixed: list[dict[str, str]]) -> list[list[int]]:
    """The ids of the first 20 results of each query (what _rows is asked for)."""
    out = []
    with app.app_context():
        dictionary = synonyms.current()
        view = snapshot.current(index.root())
        for params in mixed:
            filters = {k: v for k, v in params.items() if k != "q"}
            outcome = engine.run(
                view, engine.Request(params["q"], filters, "relevance", 1, 20), dictionary
            )
            out.append([int(view.stored(d)["id"]) for d in outcome.docnums])
    return [ids for ids in out if ids]


def measure_rows(app, id_lists: list[list[int]]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"before": [], "now": []}
    for ids in id_lists:
        for name, loader in LOADERS["rows"].items():
            with app.app_context():  # a fresh session, as a request has
                times[name].append(timed(loader, ids))
    return times


def measure_api(app, mixed: list[dict[str, str]]) -> dict[str, list[float]]:
    """API minus engine per query, old and new lines alternating, query vectors cached (one
    pass first)."""
    client = app.test_client()
    urls = [f"/api/v1/procedures?{urlencode(q)}" for q in mixed]
    for url in urls:
        client.get(url)
    engine_times = []
    with app.app_context():
        dictionary = synonyms.current()
        for params in mixed:
            filters = {k: v for k, v in params.items() if k != "q"}
            request = engine.Request(params["q"], filters, "relevance", 1, 20)
            view = snapshot.current(index.root())
            engine_times.append(timed(engine.run, view, request, dictionary))
    times: dict[str, list[float]] = {"before": [], "now": []}
    try:
        for url, spent in zip(urls, engine_times, strict=True):
            for name, loader in LOADERS["rows"].items():
                search._rows = loader
                started = time.perf_counter()
                assert client.get(url).status_code == 200, url
                times[name].append((time.perf_counter() - started) * 1000 - spent)
    finally:
        search._rows = LOADERS["rows"]["now"]
    return times


def measure_page(app, codes: list[str]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    loads: dict[str, list[float]] = {"before": [], "now": []}
    pages: dict[str, list[float]] = {"before": [], "now": []}
    client = app.test_client()
    try:
        for code in codes:
            for name, loader in LOADERS["page"].items():
                with app.app_context():
                    loads[name].append(timed(loader, code))
                rows.procedure_page = loader
                started = time.perf_counter()
                assert client.get(f"/thu-tuc/{code}").status_code == 200, code
                pages[name].append((time.perf_counter() - started) * 1000)
    finally:
        rows.procedure_page = LOADERS["page"]["now"]
    return loads, pages


def run_size(label: str, app, count: int, rng: random.Random) -> None:
    with app.app_context():
        search.rebuild()
        codes = list(
            db.session.execute(
                select(Procedure.code).where(Procedure.status == Status.PUBLISHED)
            ).scalars()
        )
    print(f"{label}: {len(codes)} published procedures ({load()})")
    mixed = bench_search.mixed_queries(app, count, rng)
    lines = measure_rows(app, result_ids(app, mixed))
    for name, samples in lines.items():
        print(f"  result lines (20), {name:<6}  {figures(samples)}   ({load()})")
    api = measure_api(app, mixed)
    for name, samples in api.items():
        print(f"  API outside engine, {name:<6} {figures(samples)}   ({load()})")
    loads, pages = measure_page(app, rng.sample(codes, min(count, len(codes))))
    for name, samples in loads.items():
        print(f"  procedure page rows, {name:<6} {figures(samples)}   ({load()})")
    for name, samples in pages.items():
        print(f"  procedure page, {name:<6}     {figures(samples)}   ({load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="real,10000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", type=Path, default=None, help="the tthc-real folder")
    args = parser.parse_args()
    logging.getLogger("app").setLevel(logging.ERROR)  # pages without a base URL say so
    data = args.data or data_folder()
    if data is None:
        sys.exit("Real data not found: pass --data PATH-TO/tthc-real.")
    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="bench-rows-"))
    try:
        base = work / "real"
        app = import_real(base, data)
        for label in args.sizes.split(","):
            if label == "real":
                run_size("Real catalogue", app, args.queries, random.Random(SEED))
                continue
            size = int(label)
            instance = work / label
            shutil.copytree(base, instance)
            grown = make_app(instance)
            grow(grown, size, rng)
            run_size(f"Synthetic {size:,}", grown, args.queries, random.Random(SEED))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
