"""Search speed on the real catalogue (2,642 procedures of ../shared/data/tthc-real) and on
synthetic catalogues of 10,000 and 50,000 procedures built from the real records' vocabulary,
beside SQLite FTS5 on the same documents and the same queries.

For each size it prints: the time to build the index and its size on disk; the p50 / p95 / p99
latency of 200 mixed queries (words with and without diacritics, abbreviations, English,
typos, codes, decision numbers; 40 % filtered by agency or lĩnh vực) through the JSON API
(/api/v1/procedures, facets and highlights on, result lines loaded from the database once per
index state and the search log written by its thread, as in a server), the same for the
engine alone (services.search.engine.run), and for FTS5 (top 20 by bm25 with the name
highlighted, the total and two facets); the ratio API / FTS5; and how long after its commit
an edited procedure is found, by a search in the process that saved it and in another process
of the same server (its own app on the same instance, as another gunicorn worker). The
machine's load average is printed with each figure: other work on the machine inflates them.

Run from the repository root:
    .venv/bin/python bench/search.py [--sizes demo,real,10000,50000] [--queries 200] [--data PATH]
        [--build-only] [--words-only] [--keep DIR]

Each build runs in a fresh process (its peak RSS is printed): this portal's full reindex
(`search.rebuild`) and, beside it in the same run, a naive Whoosh build (a plain schema of the
main texts, Whoosh's standard analyzer, procedures loaded the ordinary ORM way, one writer with
its defaults), and the ratio of the two. With the embedding model on, the portal's build runs
twice: the first embeds whatever passages the vector cache lacks (all synthetic ones), the
second finds them all in the cache. `--words-only` turns the model off (the naive build has no
vectors either), `--build-only` leaves out the queries, and `--keep DIR` keeps the catalogues
in DIR and reuses them in the next run (growing 50,000 procedures takes a while).
TTHC_SEARCH_REBUILD_PROCS=2 has the portal rebuild with two writer processes.

It also prints the API's time outside the engine (per query, API minus engine.run, with the
query vectors cached) and the first typo query and first listing sorted by name right after
each of five edits, with how many documents the per-view caches were rebuilt from.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from itertools import chain
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from app import create_app
from services import search
from services.catalogue import convert, queries, records, store, transfer
from services.db import create_schema, db
from services.importers import run_import
from services.models import Agency, Field, Procedure, ProcedureAgency, Role
from services.search import (
    analysis,
    documents,
    engine,
    index,
    query,
    searchlog,
    semantic,
    snapshot,
    sync,
    synonyms,
)
from tests import relevance
from tests.tthc_real import data_folder

SEED = 20261125
FILTERED = 0.4
WARM_UP = 1  # FTS5: passes over the queries before measuring (SQLite's page cache fills)


def load(load_average: tuple[float, ...] | None = None) -> str:
    one, five, _ = load_average or os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- catalogues ---------------------------------------------------------------------------------


CONFIG: dict = {}  # settings of every app of the run (--words-only: no embedding model)


def make_app(instance: Path):
    return create_app(
        {"INSTANCE_PATH": instance, "SECRET_KEY": "bench", "SEARCH_BACKGROUND": False, **CONFIG}
    )


def reopen(instance: Path):
    """The app of a catalogue kept by an earlier run (--keep), without bringing its index up
    to date at start: the builds measured below make it anew."""
    ensure, index.ensure = index.ensure, lambda thorough=True: "ok"
    try:
        return make_app(instance)
    finally:
        index.ensure = ensure


def import_real(instance: Path, data: Path):
    """A fresh instance holding the real catalogue (imported without indexing)."""
    app = make_app(instance)
    with app.app_context():
        create_schema()
        with search.bulk(update=False):
            run_import([data / "chatbot_tthc" / "data" / "raw"])
    return app


def grow(app, size: int, rng: random.Random) -> None:
    """Add synthetic procedures until the catalogue holds `size`: each takes the texts of a
    real procedure (steps, dossier, legal bases, agencies, lĩnh vực) and a name made of the
    beginning of one real name and the end of another."""
    with app.app_context():
        templates = [convert.procedure_record(p) for p in queries.all_procedures()]
        names = [analysis.normalize(t["name"]).split() for t in templates]
        missing = size - len(templates)
        lookups = store.Lookups()
        with search.bulk(update=False):
            for n in range(missing):
                record = dict(rng.choice(templates))
                head, tail = rng.choice(names), rng.choice(names)
                cut_a, cut_b = rng.randint(2, max(2, len(head))), rng.randint(0, len(tail) - 1)
                record.update(
                    code=f"9.{n:06d}",
                    name=" ".join(head[:cut_a] + tail[cut_b:])[:400],
                    related=[],
                    replaced_by=None,
                    created_at=None,
                    updated_at=f"202{rng.randint(2, 6)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                )
                store.store_procedure(records.normalize_procedure(record), lookups)
                if n % 500 == 499:
                    db.session.commit()
                    db.session.expunge_all()
                    lookups = store.Lookups()
            db.session.commit()


def naive_build(folder: Path) -> int:
    """A naive Whoosh index of the main texts, as a first version would write it: Whoosh's
    standard analyzer (no stemming), procedures loaded in batches with the ORM's eager loads,
    one writer with its defaults, one add_document each. Returns how many were indexed."""
    from whoosh import index as whoosh_index
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    text = StandardAnalyzer()
    schema = Schema(
        code=ID(stored=True, unique=True),
        name=TEXT(analyzer=text, stored=True),
        keywords=TEXT(analyzer=text),
        field=TEXT(analyzer=text),
        agency=TEXT(analyzer=text),
        body=TEXT(analyzer=text),
    )
    ix = whoosh_index.create_in(str(folder), schema)
    writer = ix.writer()
    count = 0
    for batch in index.procedure_batches():
        count += len(batch)
        for p in batch:
            body = chain(
                [p.description, p.requirements],
                (step.text for step in p.steps),
                chain.from_iterable((d.group, d.name, d.note) for d in p.dossier),
                (r.name for r in p.results),
                chain.from_iterable((b.number, b.title) for b in p.legal_bases),
                chain.from_iterable((c.time_limit_text, c.fee_text) for c in p.channels),
            )
            writer.add_document(
                code=p.code,
                name=p.name,
                keywords=" ".join(p.keywords or []),
                field="\n".join(f.name for f in p.fields),
                agency="\n".join(link.display_name for link in p.agency_links),
                body="\n".join(t for t in body if t),
            )
    writer.commit()
    return count


def build_worker(what: str, instance: Path) -> None:
    """In a fresh process (run by `build`): one build, its time and the process's peak RSS as
    JSON on stdout."""
    import resource

    # The index the app would check or make at start is not what is measured: the build is.
    index.ensure = lambda thorough=True: "ok"
    app = make_app(instance)
    with app.app_context():
        cpu_before = sum(
            r.ru_utime + r.ru_stime
            for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )
        started = time.perf_counter()
        if what == "portal":
            count = search.rebuild()
            root = index.root()
            size = folder_size(root / index.current_generation(root))
        else:
            count = naive_build(instance / "naive-index")
            size = folder_size(instance / "naive-index")
        seconds = time.perf_counter() - started
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    # The processor time of the build (its processes' too): less at the mercy of other work
    # on the machine than the time on the clock.
    cpu = sum(r.ru_utime + r.ru_stime for r in (own, children)) - cpu_before
    rss = max(own.ru_maxrss, children.ru_maxrss) // 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "size": size, "count": count, "rss": rss}))


def build(what: str, instance: Path) -> dict:
    """Run one build ("portal" or "naive") in a fresh process; its figures and the load
    average at its end."""
    result = subprocess.run(
        [sys.executable, __file__, "--worker", what, str(instance)]
        + (["--words-only"] if CONFIG else []),
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if result.returncode:
        sys.exit(f"{what} build failed:\n{result.stderr[-3000:]}")
    return {**json.loads(result.stdout.splitlines()[-1]), "load": load()}


def build_line(label: str, figures: dict) -> str:
    return (
        f"  {label:<30} {figures['seconds']:6.1f} s (processor {figures['cpu']:6.1f} s), "
        f"{figures['size'] / 1e6:6.1f} MB, "
        f"peak RSS {figures['rss']} MB ({figures['load']})"
    )


def build_index(app, instance: Path) -> None:
    """The portal's full reindex beside a naive Whoosh build, each in a fresh process."""
    with app.app_context():
        model = semantic.embedder()
    words = "words only" if model is None else "with vectors"
    portal = build("portal", instance)
    print(build_line("Whoosh, this portal's reindex", portal))
    if model is not None:
        portal = build("portal", instance)
        print(build_line("again, vector cache warm", portal))
    naive = build("naive", instance)
    print(build_line("Whoosh, naive build", naive))
    shutil.rmtree(instance / "naive-index", ignore_errors=True)
    warm = "" if model is None else ", vector cache warm"
    print(
        f"  naive / portal: {naive['seconds'] / portal['seconds']:.2f}× on the clock, "
        f"{naive['cpu'] / portal['cpu']:.2f}× in processor time ({words}{warm})"
    )


# --- queries ------------------------------------------------------------------------------------


def mixed_queries(app, count: int, rng: random.Random) -> list[dict[str, str]]:
    """`count` queries like people's: pieces of real names (with and without diacritics),
    the relevance sets' abbreviations, English and typos, codes, decision numbers; 40 % with
    an agency or lĩnh vực filter taken from the catalogue."""
    with app.app_context():
        rows = db.session.execute(
            select(Procedure.code, Procedure.name, Procedure.decision_number)
        ).all()
        agencies = list(
            db.session.execute(
                select(Agency.slug)
                .join(ProcedureAgency, ProcedureAgency.agency_id == Agency.id)
                .where(ProcedureAgency.role == Role.IMPLEMENTING)
                .distinct()
            ).scalars()
        )
        fields = list(db.session.execute(select(Field.slug)).scalars())
    typed = [
        q["q"]
        for q in relevance.load("real")
        if q["kind"] in ("abbreviation", "english", "typo", "everyday")
    ] + [q["q"] for q in relevance.load("needs") if q["kind"] != "name"]
    out: list[dict[str, str]] = []
    while len(out) < count:
        code, name, decision = rng.choice(rows)
        words = analysis.normalize(name).split()
        roll = rng.random()
        if roll < 0.05:
            text = code
        elif roll < 0.08 and decision:
            text = decision
        elif roll < 0.25:
            text = rng.choice(typed)
        else:
            length = rng.randint(1, 4)
            start = rng.randint(0, max(0, len(words) - length))
            text = " ".join(words[start : start + length])
            if rng.random() < 0.5:
                text = " ".join(analysis.fold_text(w) for w in text.split())
        params = {"q": text}
        if rng.random() < FILTERED:
            if rng.random() < 0.5 and agencies:
                params["agency"] = rng.choice(agencies)
            else:
                params["field"] = rng.choice(fields)
        out.append(params)
    return out


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


def measure_api(app, queries: list[dict[str, str]]) -> list[list[float]]:
    """Times of each query through the API: the first pass (a process that just started,
    caches empty), the next (the index's caches filled, as in a server that has been
    running; the query vectors forgotten, so every query is embedded again), and a third with
    the query vectors kept (what is left once embedding is set aside)."""
    client = app.test_client()
    urls = [f"/api/v1/procedures?{urlencode(q)}" for q in queries]
    passes: list[list[float]] = []
    # The search log is written as a server writes it: queued, by its own thread in batches,
    # off the request (with the app's SEARCH_BACKGROUND off it would be written in the request).
    app.config["SEARCH_BACKGROUND"] = True
    try:
        for n in range(3):
            passes.append(_api_pass(app, client, urls, forget=n < 2))
    finally:
        searchlog.writer(app).flush()
        app.config["SEARCH_BACKGROUND"] = False
    return passes


def _api_pass(app, client, urls: list[str], forget: bool) -> list[float]:
    """One pass over the queries, in ms each; `forget` empties the caches of query vectors."""
    with app.app_context():
        model = semantic.embedder()
        if model is not None and forget:
            model.forget_queries()
    times = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def measure_after_edit(app, edits: int = 5) -> tuple[list[float], list[float], Counter]:
    """The first typo query and the first listing sorted by name (every published procedure)
    through the API right after each of `edits` edits (index written inline), in ms, and
    how many documents the per-view caches were built from meanwhile (snapshot.built)."""
    client = app.test_client()
    typo = "/api/v1/procedures?q=giay+pheo+xay+dung"
    by_name = "/api/v1/procedures?sort=name"
    client.get(typo)
    client.get(by_name)
    with app.app_context():
        codes = db.session.execute(select(Procedure.code).limit(edits)).scalars().all()
    first_typo, first_sorted = [], []
    before = snapshot.built.copy()
    for n, code in enumerate(codes):
        with app.app_context():
            record = convert.procedure_record(queries.get_procedure(code, public=False))
            record["name"] = f"{record['name']} benchedit{n}"
            store.store_procedure(records.normalize_procedure(record))
            db.session.commit()
        for url, times in ((typo, first_typo), (by_name, first_sorted)):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
    return first_typo, first_sorted, snapshot.built - before


def measure_engine(app, queries: list[dict[str, str]]) -> list[float]:
    times = []
    with app.app_context():
        dictionary = synonyms.current()
        for params in queries:
            request = engine.Request(
                params["q"], {k: v for k, v in params.items() if k != "q"}, "relevance", 1, 20
            )
            view = snapshot.current(index.root())
            started = time.perf_counter()
            engine.run(view, request, dictionary)
            times.append((time.perf_counter() - started) * 1000)
    return times


def _started(app) -> None:
    """Wait until the app has finished starting: its background read of the whole index for
    damage and its warm-up would otherwise compete with the edits measured."""
    for thread in threading.enumerate():
        if thread.name == "search-warm":
            thread.join()


def _rename(app, code: str, marker: str, clock=time.perf_counter) -> float:
    """Save procedure `code` with `marker` added to its name, in one app context (one
    session, as a request has); returns `clock()` at its commit."""
    with app.app_context():
        record = convert.procedure_record(queries.get_procedure(code, public=False))
        record["name"] = f"{record['name']} {marker}"
        store.store_procedure(records.normalize_procedure(record))
        db.session.commit()
        return clock()


def _marker_run() -> str:
    """Letters that make this run's markers its own: a catalogue kept by --keep still holds the
    markers of earlier runs, which a search would find at once."""
    return "".join(random.choice("bcdfghklmnpqrstvxz") for _ in range(8))


def measure_follow(instance: Path, edits: int = 5) -> list[float]:
    """Milliseconds from the commit of an edited procedure until a search finds it, with the
    index written in the background as in production."""
    app = create_app({"INSTANCE_PATH": instance, "SECRET_KEY": "bench", **CONFIG})
    _started(app)
    times = []
    run = _marker_run()
    with app.app_context():
        codes = db.session.execute(select(Procedure.code).limit(edits)).scalars().all()
    for n, code in enumerate(codes):
        # One app context (one session) per edit and per search, as requests have.
        marker = f"benchmark{n}x{run}"
        started = _rename(app, code, marker)
        while True:
            with app.app_context():
                if search.find(search.Params(q=marker), record=False).total:
                    break
            time.sleep(0.002)
        times.append((time.perf_counter() - started) * 1000)
        with app.app_context():
            # The vector is written with the document: found by words, found by meaning.
            found = search.find(search.Params(q=marker), record=False).results[0]
            # Taken after the search, which may have opened a newer view and closed the old.
            view = snapshot.current(index.root())
            docnum = view.searcher.document_number(id=str(found.procedure.id))
            assert semantic.embedder() is None or view.with_vectors() >> docnum & 1
        with app.app_context():
            sync.syncer(app).wait()
    return times


WATCHER = """
import json, sys, threading, time
from app import create_app
from services import search
config = {"SECRET_KEY": "bench", **json.loads(sys.argv[2])}
app = create_app({"INSTANCE_PATH": sys.argv[1], **config})
for thread in threading.enumerate():
    if thread.name == "search-warm":
        thread.join()
print("ready", flush=True)
for marker in sys.stdin:
    marker = marker.strip()
    while True:
        with app.app_context():
            if search.find(search.Params(q=marker), record=False).total:
                break
        time.sleep(0.002)
    print(time.time(), flush=True)
"""


def measure_follow_elsewhere(instance: Path, edits: int = 5) -> list[float]:
    """Milliseconds from the commit of an edited procedure in this process until a search in
    another process of the same server (its own app on the same instance) finds it: the
    index written by this process's background thread, the other one opening the new state."""
    app = create_app({"INSTANCE_PATH": instance, "SECRET_KEY": "bench", **CONFIG})
    _started(app)
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(instance), json.dumps(CONFIG)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    times = []
    run = _marker_run()
    try:
        assert watcher.stdout.readline().strip() == "ready"
        with app.app_context():
            codes = db.session.execute(select(Procedure.code).limit(edits)).scalars().all()
        for n, code in enumerate(codes):
            marker = f"elsewhere{n}x{run}"
            watcher.stdin.write(marker + "\n")
            watcher.stdin.flush()
            committed = _rename(app, code, marker, clock=time.time)
            found = float(watcher.stdout.readline())
            times.append((found - committed) * 1000)
            with app.app_context():
                sync.syncer(app).wait()
    finally:
        watcher.stdin.close()
        watcher.wait(timeout=60)
    return times


WORKER = """
import json, resource, sys
from app import create_app
from services import search
config = {"SECRET_KEY": "bench", "SEARCH_BACKGROUND": False, **json.loads(sys.argv[3])}
app = create_app({"INSTANCE_PATH": sys.argv[1], **config})
client = app.test_client()
for params in json.loads(sys.argv[2]):
    client.get("/api/v1/procedures", query_string=params)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def worker_rss(instance: Path, queries: list[dict[str, str]]) -> str:
    """Peak RSS of a fresh process that serves the queries (as one worker would)."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(instance), json.dumps(queries), json.dumps(CONFIG)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return f"{result.stdout.split()[-1]} MB"


# --- SQLite FTS5 on the same documents ----------------------------------------------------------


def build_fts(app, path: Path) -> float:
    """An FTS5 table of the same texts, folded the same way (FTS5's unicode61 tokenizer does
    not fold đ), with the agency and lĩnh vực of each procedure beside it."""
    started = time.perf_counter()
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE VIRTUAL TABLE fts USING fts5(name, body, tokenize = 'unicode61 remove_diacritics 2');
        CREATE TABLE facet (id INTEGER PRIMARY KEY, agency TEXT, field TEXT);
        CREATE INDEX facet_agency ON facet (agency);
        CREATE INDEX facet_field ON facet (field);
        """
    )
    with app.app_context():
        for batch in index.procedure_batches():
            rows, facets = [], []
            for procedure in batch:
                document = documents.document(procedure)
                body = "\n".join((document["keywords"], document["context"], document["body"]))
                rows.append((procedure.id, procedure.name, analysis.fold_text(body)))
                main = next(iter(procedure.agencies(Role.IMPLEMENTING)), None)
                agency = main.agency.slug if main is not None and main.agency else None
                field = procedure.fields[0].slug if procedure.fields else None
                facets.append((procedure.id, agency, field))
            connection.executemany("INSERT INTO fts (rowid, name, body) VALUES (?, ?, ?)", rows)
            connection.executemany("INSERT INTO facet VALUES (?, ?, ?)", facets)
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def fts_query(params: dict[str, str]) -> tuple[str, list[str]]:
    words = [w.folded for w in analysis.words(params["q"])][: query.MAX_WORDS]
    match = " ".join('"' + w.replace('"', "") + '"' for w in words) or '""'
    where, args = "fts MATCH ?", [match]
    for name in ("agency", "field"):
        if name in params:
            where += f" AND rowid IN (SELECT id FROM facet WHERE {name} = ?)"
            args.append(params[name])
    return where, args


def measure_fts(path: Path, queries: list[dict[str, str]]) -> list[float]:
    connection = sqlite3.connect(path)
    times = []
    for repeat in range(WARM_UP + 1):
        for params in queries:
            where, args = fts_query(params)
            started = time.perf_counter()
            connection.execute(
                "SELECT rowid, highlight(fts, 0, '<mark>', '</mark>') FROM fts "
                f"WHERE {where} ORDER BY bm25(fts, 10.0, 1.0) LIMIT 20",
                args,
            ).fetchall()
            connection.execute(f"SELECT count(*) FROM fts WHERE {where}", args).fetchall()
            for facet in ("agency", "field"):
                connection.execute(
                    f"SELECT {facet}, count(*) FROM facet WHERE id IN "
                    f"(SELECT rowid FROM fts WHERE {where}) GROUP BY {facet}",
                    args,
                ).fetchall()
            if repeat == WARM_UP:
                times.append((time.perf_counter() - started) * 1000)
    connection.close()
    return times


# --- the run ------------------------------------------------------------------------------------


def row(label: str, samples: list[float]) -> str:
    p50, p95, p99 = percentiles(samples)
    return f"  {label:<22} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   p99 {p99:7.1f} ms   ({load()})"


def run_size(
    label: str, app, instance: Path, count: int, rng: random.Random, build_only: bool = False
) -> None:
    with app.app_context():
        procedures = len(db.session.execute(select(Procedure.id)).all())
        model = semantic.embedder()
    words = "words only" if model is None else f"model {model.identity}"
    print(f"{label}: {procedures} procedures, {words} ({load()})", flush=True)
    build_index(app, instance)
    fts_path = instance / "fts5.sqlite3"
    fts_seconds = build_fts(app, fts_path)
    print(
        f"  FTS5 index: built in {fts_seconds:.1f} s, {fts_path.stat().st_size / 1e6:.1f} MB "
        f"({load()})",
        flush=True,
    )
    if build_only:
        return
    queries = mixed_queries(app, count, rng)
    cold, api, embedded = measure_api(app, queries)
    engine = measure_engine(app, queries)
    fts = measure_fts(fts_path, queries)
    print(row("JSON API, first pass", cold))
    print(row("JSON API", api))
    print(row("engine (engine.run)", engine))
    outside = [a - e for a, e in zip(embedded, engine, strict=True)]
    print(row("API outside engine", outside) + "  (query vectors cached)")
    first_typo, first_sorted, built = measure_after_edit(app)
    usual = percentiles(api)[1]
    print(
        f"  first request after an edit: typo query median {statistics.median(first_typo):.1f} / "
        f"max {max(first_typo):.1f} ms, sorted by name {statistics.median(first_sorted):.1f} / "
        f"max {max(first_sorted):.1f} ms (usual p95 {usual:.1f} ms); caches built from "
        f"{dict(built)} documents ({load()})"
    )
    print(row("SQLite FTS5", fts))
    ratios = [a / b for a, b in zip(percentiles(api), percentiles(fts), strict=True)]
    print("  API / FTS5:            " + "   ".join(f"{r:.1f}×" for r in ratios))
    follow = measure_follow(instance)
    print(
        f"  an edit is searchable (its vector included): median "
        f"{statistics.median(follow):.0f} ms, slowest {max(follow):.0f} ms after its commit "
        f"({load()})"
    )
    elsewhere = measure_follow_elsewhere(instance)
    print(
        f"  an edit is searchable in another process of the server: median "
        f"{statistics.median(elsewhere):.0f} ms, slowest {max(elsewhere):.0f} ms after its commit "
        f"({load()})"
    )
    print(f"  a worker's RSS after the queries, model loaded: {worker_rss(instance, queries)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="real,10000,50000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", type=Path, default=None, help="the tthc-real folder")
    parser.add_argument("--build-only", action="store_true", help="builds only, no queries")
    parser.add_argument("--words-only", action="store_true", help="no embedding model")
    parser.add_argument("--keep", type=Path, default=None, help="keep (reuse) catalogues here")
    parser.add_argument("--worker", nargs=2, metavar=("WHAT", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.words_only:
        CONFIG["SEARCH_EMBEDDINGS"] = ""
    if args.worker:
        build_worker(args.worker[0], Path(args.worker[1]))
        return
    sizes = args.sizes.split(",")
    data = args.data or data_folder()
    if data is None and sizes != ["demo"]:
        sys.exit("Real data not found: pass --data PATH-TO/tthc-real.")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M %Z')} ({load()})")
    only = args.build_only
    try:
        base = work / "real"
        app = None
        for label in sizes:
            if label == "demo":
                demo = make_app(work / "demo")
                with demo.app_context():
                    create_schema()
                    transfer.load_demo()
                run_size(
                    "Demo catalogue", demo, work / "demo", args.queries, random.Random(SEED), only
                )
                continue
            if app is None:
                app = reopen(base) if (base / "imported").exists() else import_real(base, data)
                (base / "imported").touch()
            if label == "real":
                run_size("Real catalogue", app, base, args.queries, random.Random(SEED), only)
                continue
            size = int(label)
            instance = work / label
            if (instance / "grown").exists():
                grown = reopen(instance)
            else:
                shutil.rmtree(instance, ignore_errors=True)
                shutil.copytree(base, instance)
                grown = make_app(instance)
                grow(grown, size, random.Random(f"{SEED}-{size}"))
                (instance / "grown").touch()
            run_size(
                f"Synthetic {size:,}", grown, instance, args.queries, random.Random(SEED), only
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
