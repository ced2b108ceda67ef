"""Booklets are built outside the request: a "đang chuẩn bị" page (202) until the PDF is ready,
one build per booklet at a time across threads and processes, a killed build never blocks the
next one, a failed one is logged and retried, and `flask print-booklets` builds them ahead."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from services import printing
from tests.helpers import procedure_raw
from tests.test_printing import BASE, _settings, _store, ready_booklet

URL = "/linh-vuc/dat-dai/so-tay.pdf"


@pytest.fixture
def land(app, make_agency):
    _settings(app, base_url=BASE)
    make_agency(slug="phong-tn", name="Phòng Tài nguyên và Môi trường")
    for code, name in (("8.000003", "Đăng ký biến động đất đai"), ("8.000004", "Cung cấp dữ liệu")):
        agencies = [{"role": "implementing", "agency": "phong-tn", "name": ""}]
        _store(app, procedure_raw(code=code, name=name, fields=["Đất đai"], agencies=agencies))


@pytest.fixture
def slow_builds(monkeypatch):
    """Count PDF layouts of the booklet and make each last a little, so requests overlap."""
    calls = []
    layout = printing.html_pdf

    def counted(html, base):
        calls.append(threading.current_thread().name)
        time.sleep(0.5)
        return layout(html, base)

    monkeypatch.setattr(printing, "html_pdf", counted)
    return calls


def _pdf_codes(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_first_request_answers_at_once_with_a_page_that_refreshes_itself(client, land):
    started = time.monotonic()
    response = client.get(URL)
    assert time.monotonic() - started < 5
    assert response.status_code == 202
    assert response.mimetype == "text/html"
    assert "Đang chuẩn bị sổ tay…" in response.text
    assert '<meta http-equiv="refresh" content="5">' in response.text
    assert response.headers["Retry-After"] == "5"
    ready = ready_booklet(client, URL)
    assert ready.status_code == 200
    assert ready.mimetype == "application/pdf"
    text = _pdf_codes(ready.data)
    assert "8.000003" in text
    assert "8.000004" in text


def test_concurrent_requests_start_one_build(app, land, slow_builds):
    answers = []

    def ask():
        with app.test_client() as client:
            answers.append(client.get(URL).status_code)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [202] * 4
    assert ready_booklet(app.test_client(), URL).status_code == 200
    assert len(slow_builds) == 1
    assert slow_builds[0].startswith("booklet")  # in the builder's thread, not the request's


def test_a_cached_booklet_is_served_without_a_build_until_it_changes(app, client, land):
    first = ready_booklet(client, URL)
    assert client.get(URL).data == first.data  # straight away, no 202
    _store(
        app,
        procedure_raw(
            code="8.000004",
            name="Cung cấp thông tin, dữ liệu đất đai",
            fields=["Đất đai"],
            agencies=[{"role": "implementing", "agency": "phong-tn", "name": ""}],
        ),
    )
    assert client.get(URL).status_code == 202
    assert "Cung cấp thông tin, dữ liệu đất đai" in _pdf_codes(ready_booklet(client, URL).data)


HOLD_LOCK = """
import fcntl, sys, time
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_a_build_held_by_another_process_waits_and_a_killed_one_does_not_block(
    app, client, land, slow_builds
):
    lock = Path(app.config["PRINT_CACHE_DIR"]) / "linh-vuc-dat-dai.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert client.get(URL).status_code == 202
        time.sleep(2)  # the builder saw the lock taken and left it to its holder
        assert slow_builds == []
        assert client.get(URL).status_code == 202
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert ready_booklet(client, URL).status_code == 200
    assert len(slow_builds) == 1


def test_a_failed_build_is_logged_not_cached_and_tried_again(app, client, land, monkeypatch):
    app.config["PRINT_RETRY_SECONDS"] = 0
    layout = printing.html_pdf
    failures = []

    def fails_once(html, base):
        if not failures:
            failures.append(1)
            raise OSError("disk full")
        return layout(html, base)

    monkeypatch.setattr(printing, "html_pdf", fails_once)
    logged = []
    monkeypatch.setattr(app.logger, "exception", lambda msg, *args: logged.append(msg % args))
    assert client.get(URL).status_code == 202
    deadline = time.monotonic() + 20
    while not logged and time.monotonic() < deadline:
        time.sleep(0.1)
    assert logged == ["building booklet linh-vuc-dat-dai failed; will retry"]
    assert not list(Path(app.config["PRINT_CACHE_DIR"]).glob("*.pdf"))
    response = ready_booklet(client, URL)
    assert response.status_code == 200
    assert "8.000003" in _pdf_codes(response.data)


def test_unknown_or_empty_booklets_never_start_a_build(client, land, make_agency, slow_builds):
    make_agency(slug="phong-trong", name="Phòng Trống")
    assert client.get("/co-quan/phong-trong/so-tay.pdf").status_code == 404
    assert client.get("/linh-vuc/khong-co/so-tay.pdf").status_code == 404
    time.sleep(0.5)
    assert slow_builds == []


# --- ahead of time ------------------------------------------------------------------------------


def test_cli_builds_every_booklet_ahead_so_the_web_serves_them_at_once(
    app, runner, client, land, slow_builds
):
    result = runner.invoke(args=["print-booklets"])
    assert result.exit_code == 0, result.output
    assert "linh-vuc-dat-dai" in result.output
    assert "co-quan-phong-tn" in result.output
    built = len(slow_builds)
    assert built == 2  # the agency's and the lĩnh vực's
    response = client.get(URL)
    assert response.status_code == 200
    assert "8.000003" in _pdf_codes(response.data)
    again = runner.invoke(args=["print-booklets", "--agency", "phong-tn"])
    assert again.exit_code == 0, again.output
    assert len(slow_builds) == built  # nothing changed: nothing rebuilt


def test_cli_refuses_an_unknown_agency(runner, land):
    result = runner.invoke(args=["print-booklets", "--agency", "khong-co"])
    assert result.exit_code != 0
    assert "Không tìm thấy cơ quan" in result.output
