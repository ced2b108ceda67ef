"""The long run of the fuzz suite: tests/test_fuzz.py with many more examples per route, every
failure collected instead of stopping at the first; prints, per route, how many requests got
each class of status, then every distinct failure found (request and traceback's last lines).

Run from the repository root: .venv/bin/python bench/fuzz.py [--scale 20] [-k EXPR]
(--scale multiplies the suite's examples per route; -k picks tests as pytest does). Exits 1
when anything was found.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class LongRun:
    """The plugin tests/test_fuzz.py looks for: how many times more examples, and where each
    answer is recorded."""

    def __init__(self, scale: int):
        self.scale = scale
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.failures: dict[tuple[str, str], list[str]] = {}

    def record(self, route, answer) -> None:
        self.counts[route.name][f"{answer.status // 100}xx"] += 1
        for problem in answer.problems:
            # One line per kind of failure: the route and the problem's last line.
            key = (route.name, problem.splitlines()[-1][:160])
            self.failures.setdefault(key, []).append(problem)

    def pytest_configure(self, config: pytest.Config) -> None:
        # Imported here, after pytest has started, so that hypothesis is imported by pytest.
        from tests.fuzzing import LONG_RUN

        config.stash[LONG_RUN] = self


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20, help="times the suite's examples")
    parser.add_argument("-k", default="", help="pytest -k expression")
    args = parser.parse_args()
    run = LongRun(args.scale)
    started = time.perf_counter()
    pytest_args = [
        "-q",
        "-p",
        "no:cacheprovider",
        "--durations=10",
        str(ROOT / "tests" / "test_fuzz.py"),
    ]
    if args.k:
        pytest_args += ["-k", args.k]
    code = pytest.main(pytest_args, plugins=[run])
    seconds = time.perf_counter() - started
    total = sum(sum(c.values()) for c in run.counts.values())
    print(f"\n{total} requests over {len(run.counts)} routes in {seconds:.0f} s")
    for name in sorted(run.counts):
        counts = run.counts[name]
        line = "  ".join(f"{k} {counts[k]:>5}" for k in sorted(counts))
        print(f"  {name:<62} {line}")
    print(f"\n{len(run.failures)} distinct failures")
    for (name, _last), problems in sorted(run.failures.items()):
        print(f"\n- {name}: {len(problems)}×, e.g.\n  {problems[0]}")
    return 1 if run.failures or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
