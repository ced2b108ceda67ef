"""Relevance test sets (graded judgments in real.json and demo.json) and their measures.

nDCG@10 uses the gain 2^grade − 1; success@5 is 1 when a procedure of grade 2 or 3 is among the
first five results.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent


def load(name: str) -> list[dict]:
    """The queries of one set ("needs", "real" or "demo")."""
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))["queries"]


def ndcg(ranked: list[str], expect: dict[str, int], k: int = 10) -> float:
    """Normalized discounted cumulative gain of the first `k` codes."""
    gains = [2 ** expect.get(code, 0) - 1 for code in ranked[:k]]
    ideal = sorted((2**g - 1 for g in expect.values()), reverse=True)[:k]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def success(ranked: list[str], expect: dict[str, int], k: int = 5) -> float:
    """1.0 when a right answer (grade 2 or more) is among the first `k` codes."""
    return float(any(expect.get(code, 0) >= 2 for code in ranked[:k]))


def evaluate(queries: list[dict], search: Callable[[str], list[str]]) -> dict[str, dict]:
    """Mean nDCG@10 and success@5 per kind of query and over all ("all"), with the queries
    below perfect for diagnosis."""
    per_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    misses: list[tuple[str, float, list[str]]] = []
    for query in queries:
        ranked = search(query["q"])
        scores = (ndcg(ranked, query["expect"]), success(ranked, query["expect"]))
        per_kind[query["kind"]].append(scores)
        per_kind["all"].append(scores)
        if scores[0] < 0.999:
            misses.append((query["q"], scores[0], ranked[:5]))
    report = {
        kind: {
            "queries": len(values),
            "ndcg@10": sum(v[0] for v in values) / len(values),
            "success@5": sum(v[1] for v in values) / len(values),
        }
        for kind, values in per_kind.items()
    }
    report["all"]["misses"] = misses
    return report


def table(report: dict[str, dict]) -> str:
    """The report as lines of text: kind, queries, nDCG@10, success@5."""
    lines = [f"{'kind':15} {'n':>3} {'nDCG@10':>8} {'success@5':>10}"]
    for kind in sorted(report, key=lambda k: (k == "all", k)):
        n, ndcg10, success5 = (report[kind][k] for k in ("queries", "ndcg@10", "success@5"))
        lines.append(f"{kind:15} {n:3d} {ndcg10:8.3f} {success5:10.3f}")
    return "\n".join(lines)
