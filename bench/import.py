"""Import all of set (a) (the portal's 2,642 scraped pages) into a fresh SQLite instance and
print the time taken, the re-import time, and the parse rate per field.

Run from the repository root: .venv/bin/python bench/import.py [PATH-TO-tthc-real]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from services.db import create_schema
from services.importers import agencies, portal_json, run_import
from tests import quality
from tests.tthc_real import data_folder


def parse_rates(folder: Path) -> tuple[quality.Rates, int, int]:
    """Read every page through the reader; returns the rates, the number of distinct raw
    "Cơ quan thực hiện" strings and of canonical agencies they resolve to."""
    resolver = agencies.Resolver()
    pairs, spellings, canonical = [], set(), set()
    for path in sorted(folder.rglob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        item = next(portal_json.read(raw, path, resolver))
        pairs.append((raw, item.record))
        spellings.add(raw.get("co_quan_thuc_hien") or "")
        canonical.update(
            link["agency"]
            for link in item.record["agencies"]
            if link["agency"] and link["role"] == "implementing"
        )
    return quality.rates(pairs), len(spellings), len(canonical)


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else data_folder()
    if data is None:
        sys.exit("Real data not found: pass the tthc-real folder.")
    folder = data / "chatbot_tthc" / "data" / "raw"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": Path(tmp) / "instance", "SECRET_KEY": "bench"})
        with app.app_context():
            create_schema()
            started = time.perf_counter()
            first = run_import([folder])
            first_seconds = time.perf_counter() - started
            started = time.perf_counter()
            again = run_import([folder])
            again_seconds = time.perf_counter() - started
    print(f"Set (a): {folder}")
    print(
        f"Import into SQLite: {first_seconds:.1f} s "
        f"({sum(first.procedures.values())} procedures: {dict(first.procedures)}, "
        f"{len(first.skipped)} skipped, {first.agencies['created']} agencies created)"
    )
    print(f"Re-import: {again_seconds:.1f} s ({dict(again.procedures)})")
    rates, spellings, canonical = parse_rates(folder)
    print(f"Parse rates over {rates.procedures} procedures (where the page has the field):")
    for name, rate in rates.fields.items():
        print(f"  {name:<40} {rate.share:7.2%}  ({rate.got}/{rate.expected})")
    print(f"  procedures with an empty name or code     {rates.empty_name_or_code}")
    print(
        f"Cơ quan thực hiện: {spellings} distinct raw strings (with the empty marker) "
        f"→ {canonical} canonical agencies"
    )


if __name__ == "__main__":
    main()
