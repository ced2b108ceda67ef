"""Relevance of search on the real catalogue (2,642 procedures of ../shared/data/tthc-real),
per kind of query and per split, with the semantic ranking and with words alone.

The judged sets are in tests/relevance/: needs.json (440 queries written from the user's side,
split 60/40 by kind into "train" and "held-out" before any tuning) and the regression sets
real.json and demo.json. Tune on the training split only; report the held-out one.

    .venv/bin/python bench/relevance.py [--data PATH] [--instance DIR] [--split train]
        [--sets needs,real] [--words-only] [--tune] [--misses]

--instance keeps the imported catalogue and its index in DIR between runs (built when empty);
the vectors' content cache is kept there too. --tune searches the fusion constants on the
training split and prints the best ones (nothing is changed in the code).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from services import search
from services.db import create_schema
from services.importers import run_import
from services.search import fusion
from tests import relevance
from tests.tthc_real import data_folder


def make_app(instance: Path, words_only: bool):
    config = {"INSTANCE_PATH": instance, "SECRET_KEY": "bench", "SEARCH_BACKGROUND": False}
    if words_only:
        config["SEARCH_EMBEDDINGS"] = ""
    return create_app(config)


def prepare(instance: Path, data: Path, words_only: bool):
    """An app on the real catalogue in `instance`, imported and indexed once."""
    fresh = not (instance / "tthc.sqlite3").exists()
    app = make_app(instance, words_only)
    if fresh:
        started = time.perf_counter()
        with app.app_context():
            create_schema()
            with search.bulk(update=False):
                run_import([data / "chatbot_tthc" / "data" / "raw"])
            search.rebuild()
        print(f"imported and indexed in {time.perf_counter() - started:.0f} s")
    return app


def queries(sets: list[str], split: str) -> list[dict]:
    out = []
    for name in sets:
        for q in relevance.load(name):
            if name == "needs" and split != "all" and q["split"] != split:
                continue
            out.append({**q, "kind": q["kind"] if name == "needs" else f"{name}:{q['kind']}"})
    return out


def measure(app, judged: list[dict]) -> dict:
    def ranked(text: str) -> list[str]:
        page = search.find(search.Params(q=text, per_page=10), record=False)
        return [result.procedure.code for result in page.results]

    with app.app_context():
        return relevance.evaluate(judged, ranked)


def zero_results(app, judged: list[dict]) -> list[str]:
    with app.app_context():
        return [
            q["q"]
            for q in judged
            if not search.find(search.Params(q=q["q"], per_page=1), record=False).total
        ]


GRID = {
    "BASE": (0.2, 0.3, 0.4),
    "UNCOVERED": (0.2, 0.4),
    "QUESTION": (0.0,),
    "ENGLISH": (0.1,),
    "K": (10,),
    "ADMIT": (10, 20, 40),
    "STANDOUT": (2.0, 3.0, 4.0),
}


def tune(app, judged: list[dict]) -> None:
    """Try every combination of GRID on `judged`; print the ten best by nDCG@10."""
    results = []
    names = list(GRID)
    for values in itertools.product(*(GRID[n] for n in names)):
        for name, value in zip(names, values, strict=True):
            setattr(fusion, name, value)
        report = measure(app, judged)
        results.append((report["all"]["ndcg@10"], report["all"]["success@5"], values))
    results.sort(reverse=True)
    for ndcg, s5, values in results[:10]:
        print(
            f"{ndcg:.3f} {s5:.3f} "
            + " ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the tthc-real folder")
    parser.add_argument("--instance", type=Path, default=None)
    parser.add_argument("--split", default="all", choices=("train", "held-out", "all"))
    parser.add_argument("--sets", default="needs,real")
    parser.add_argument("--words-only", action="store_true")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    data = args.data or data_folder()
    if data is None:
        sys.exit("Real data not found: pass --data PATH-TO/tthc-real.")
    instance = args.instance or Path(tempfile.mkdtemp(prefix="bench-relevance-"))
    app = prepare(instance, data, args.words_only)
    sets = args.sets.split(",")
    if args.tune:
        tune(app, queries(["needs"], "train"))
        return
    splits = ("train", "held-out") if args.split == "all" else (args.split,)
    for split in splits:
        judged = queries(sets, split)
        report = measure(app, judged)
        mode = "words only" if args.words_only else "words + meaning"
        print(f"\n{split} ({mode}):")
        print(relevance.table(report))
        print(f"zero results: {len(zero_results(app, judged))}")
        if args.misses:
            for q, score, top in report["all"]["misses"]:
                print(f"  {score:.2f} {q!r} → {top}")


if __name__ == "__main__":
    main()
