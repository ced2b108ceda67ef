"""How fast the procedure editor opens and saves, on the demo catalogue and on one procedure
made large (60 dossier items, 30 steps), through the test client as a logged-in admin.

Run: .venv/bin/python bench/staff_editor.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from services import accounts
from services.catalogue import convert, queries, transfer
from services.db import create_schema, db
from services.editorial import workflow, working_copy


def _timed(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    folder = Path(tempfile.mkdtemp()) / "instance"
    app = create_app({"INSTANCE_PATH": folder, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "b"})
    with app.app_context():
        create_schema()
        transfer.load_demo()
        admin = accounts.create_user(accounts.Account("admin", "admin", []), "mat-khau-bench")
        codes = [p.code for p in queries.all_procedures()]
        big = convert.procedure_record(queries.get_procedure(codes[0], public=False))
        big["dossier"] = [{**big["dossier"][0], "name": f"Giấy tờ {i}"} for i in range(60)]
        big["steps"] = [f"Bước {i}: nộp, kiểm tra, trả kết quả." for i in range(30)]
        copy = working_copy.get_working_copy(codes[0], admin)
        workflow.save_procedure(codes[0], big, copy.token, admin)
        admin_id = admin.get_id()
        db.session.remove()
    client = app.test_client()
    client.post("/staff/login", data={"username": "admin", "password": "mat-khau-bench"})

    opens = [_timed(lambda c=code: client.get(f"/staff/procedures/{c}/edit"), 1) for code in codes]
    print(f"demo catalogue: {len(codes)} procedures")
    print(f"open editor, median over procedures: {statistics.median(opens):.1f} ms")
    print(f"open editor, slowest procedure:      {max(opens):.1f} ms")

    page = client.get(f"/staff/procedures/{codes[0]}/edit").text
    print(f"large procedure (60 items, 30 steps): page {len(page) / 1024:.0f} KB")
    edit = f"/staff/procedures/{codes[0]}/edit"
    print(f"  open editor: {_timed(lambda: client.get(edit)):.1f} ms")

    def save() -> None:
        with app.app_context():
            user = accounts.load_user(admin_id)
            copy = working_copy.get_working_copy(codes[0], user)
            record = {**copy.record, "name": copy.record["name"] + "."}
            workflow.save_procedure(codes[0], record, copy.token, user)
            db.session.remove()

    print(f"  save (service, with revision): {_timed(save):.1f} ms")
    preview = f"/staff/procedures/{codes[0]}/preview"
    print(f"  preview: {_timed(lambda: client.get(preview)):.1f} ms")
    diff = f"/staff/procedures/{codes[0]}/diff?a=1&b=2"
    print(f"  diff of two revisions: {_timed(lambda: client.get(diff)):.1f} ms")


if __name__ == "__main__":
    main()
