"""Time the printing of procedures on this machine: one procedure's PDF (target ≤ 1 s) and a
100-procedure booklet (target ≤ 60 s), on real procedures from shared/data/tthc-real.

Run: .venv/bin/python bench/print.py [--procedures 100] [--repeat 5]
It builds a throwaway instance in a temporary folder; nothing in instance/ is touched.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader
from sqlalchemy import update

from app import create_app
from services import importers, printing
from services.catalogue import records, store
from services.db import create_schema, db
from services.models import ProcedureAgency, Role
from tests import tthc_real

BASE = "https://tthc.example.vn/"


def load(app, count: int) -> list[tuple[str, int]]:
    """Import `count` real procedures with the importer; return (code, text length) of each."""
    folder = tthc_real.pages_folder()
    if folder is None:
        sys.exit(f"{tthc_real.PAGES} not found beside the checkout")
    # Every 26th page: a spread over the ministries and over short and long procedures.
    pages = list(tthc_real.read_pages(folder))[::26][:count]
    with app.app_context():
        create_schema()
        store.store_settings(
            records.normalize_settings({"portal_name": "Cổng thủ tục (bench)", "base_url": BASE})
        )
        bench, _ = store.store_agency(
            records.normalize_agency({"slug": "bench", "name": "Cơ quan thử"})
        )
        db.session.commit()
        importers.run_import([path for path, _ in pages])
        # One agency carries them all, so that its booklet holds every procedure.
        db.session.execute(
            update(ProcedureAgency)
            .where(ProcedureAgency.role == Role.IMPLEMENTING)
            .values(agency_id=bench.id)
        )
        db.session.commit()
    return [(page["ma_thu_tuc"], len(page.get("raw_text") or "")) for _, page in pages]


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--procedures", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder) / "instance"
        app = create_app(
            {
                "INSTANCE_PATH": instance,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
            }
        )
        stored = load(app, args.procedures)
        by_length = sorted(stored, key=lambda item: item[1])
        median_code = by_length[len(by_length) // 2][0]
        longest_code = by_length[-1][0]
        client = app.test_client()
        client.get(f"/thu-tuc/{median_code}.pdf")  # warm up: fonts, templates, stylesheets

        for label, code in (("median", median_code), ("longest", longest_code)):
            times = []
            for _ in range(args.repeat):
                seconds, response = timed(lambda code=code: client.get(f"/thu-tuc/{code}.pdf"))
                assert response.status_code == 200
                times.append(seconds)
            pages = len(PdfReader(io.BytesIO(response.data)).pages)
            print(
                f"one procedure PDF, {label} of {len(stored)} ({code}, {pages} pages): "
                f"median {statistics.median(times):.2f} s, best {min(times):.2f} s "
                f"over {args.repeat} runs"
            )

        with app.test_request_context(base_url=BASE):
            seconds, booklet = timed(lambda: printing.agency_booklet("bench"))
            built, result = timed(lambda: printing.booklet_pdf(booklet, BASE))
            hit, cached = timed(
                lambda: printing.booklet_pdf(printing.agency_booklet("bench"), BASE)
            )
        pages = len(PdfReader(io.BytesIO(result.data)).pages)
        size = len(result.data) / 1e6
        print(
            f"booklet of {len(booklet.procedures)} procedures ({pages} pages, {size:.1f} MB): "
            f"built in {seconds + built:.1f} s; served from the cache in {hit:.2f} s"
            f" (cache hit: {not cached.built})"
        )


if __name__ == "__main__":
    main()
