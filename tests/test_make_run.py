"""`make run` sets up an instance with the demo catalogue and serves it, in both languages, with
QR codes that point at the address it serves."""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_make_run_serves_the_demo_home_page(tmp_path):
    port = free_port()
    env = {**os.environ, "TTHC_INSTANCE": str(tmp_path / "instance")}
    server = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    html = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "the portal did not start in 120 s"
                time.sleep(0.5)
        assert "Tra cứu thủ tục hành chính" in html
        # `make run` compiled the English catalogue: the portal offers it.
        english = urllib.request.Request(
            f"http://127.0.0.1:{port}/", headers={"Accept-Language": "en"}
        )
        with urllib.request.urlopen(english, timeout=5) as response:
            assert "Look up administrative procedures" in response.read().decode()
        # The base URL is the address served, so the print view's QR code opens a real page.
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/thu-tuc/1.001193/in", timeout=5
        ) as response:
            assert f"http://127.0.0.1:{port}/thu-tuc/1.001193" in response.read().decode()
        assert (tmp_path / "instance" / "tthc.sqlite3").exists()
        assert (tmp_path / "instance" / "search-index").is_dir()
        assert (tmp_path / "instance" / "uploads").is_dir()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
