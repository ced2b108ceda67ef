"""Export the whole real catalogue (set (a), the portal's 2,642 scraped pages, imported into a
fresh SQLite instance) as CPSV-AP 3.2.0 and validate it with pySHACL against the
specification's shapes; print the counts, the violations and the time each step took.

Run from the repository root: .venv/bin/python bench/cpsv_validate.py [INSTANCE-FOLDER]
(an instance folder that already holds the import is reused; otherwise one is made).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.db import create_schema
from services.opendata import cpsv
from tests.helpers import sqlite_app
from tests.opendata_shacl import to_graph, violations
from tests.tthc_real import pages_folder

BASE = "https://tthc.example.vn/"


def main() -> None:
    instance = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "instance"
    app = sqlite_app(instance)  # the tests' settings: the search vectors' shared cache
    done = instance / "imported-set-a"
    if not done.exists():
        with app.app_context():
            create_schema()
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["import", str(pages_folder())])
        assert result.exit_code == 0, result.output
        done.touch()
        print(f"import: {time.perf_counter() - started:.1f} s")
    with app.app_context():
        started = time.perf_counter()
        document = cpsv.catalogue_document(BASE)
        services = sum(1 for n in document["@graph"] if n["@type"] == "cpsv:PublicService")
        print(f"export: {services} services, {len(document['@graph'])} nodes, "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    started = time.perf_counter()
    triples = len(to_graph(document))
    print(f"to RDF (pyld): {triples} triples, {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    count, report = violations(document)
    print(f"pySHACL: {count} violations, {time.perf_counter() - started:.1f} s (with RDF again)")
    if count:
        print(report[:20000])


if __name__ == "__main__":
    main()
