"""The production configuration in deploy/: nginx accepts it as shipped, and nginx in front of a
gunicorn started with deploy/gunicorn.conf.py serves a page (proxied) and a static file (itself)
on loopback ports."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL_SELF_SIGNED = [
    *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
    *("-subj", "/CN=tthc.example.vn"),
]


@pytest.fixture(scope="module")
def nginx() -> str:
    if not os.path.exists(NGINX):
        pytest.fail("nginx is missing: run .ci/system-deps (Debian package nginx)")
    return NGINX


def test_nginx_accepts_the_shipped_config(nginx):
    result = subprocess.run(
        [nginx, "-t", "-c", str(DEPLOY / "nginx.conf")], capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_shipped_config_buffers_and_bounds_requests_as_the_app_does(app):
    conf = (DEPLOY / "nginx.conf").read_text()
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert f"client_max_body_size {limit // (1024 * 1024)}m;" in conf
    for directive in (
        "proxy_request_buffering on;",
        "client_body_timeout",
        "client_header_timeout",
        "location /static/",
    ):
        assert directive in conf


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on port {port}")


def _loopback_config(tmp_path: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """The shipped config with loopback ports, a throw-away certificate and its own files."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [*OPENSSL_SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    conf = (DEPLOY / "nginx.conf").read_text()
    for old, new in (
        # As root, nginx's workers would run as nobody, who cannot write the cache in tmp_path.
        ("user www-data;", "user root;" if os.geteuid() == 0 else ""),
        ("/run/nginx.pid", str(tmp_path / "nginx.pid")),
        ("/var/log/nginx/", f"{tmp_path}/"),
        ("/var/lib/nginx/", f"{tmp_path}/"),
        ("127.0.0.1:8000", f"127.0.0.1:{app_port}"),
        ("listen 80", f"listen 127.0.0.1:{http_port}"),
        ("listen 443", f"listen 127.0.0.1:{https_port}"),
        ("/etc/ssl/certs/ssl-cert-snakeoil.pem", str(cert)),
        ("/etc/ssl/private/ssl-cert-snakeoil.key", str(key)),
        ("/srv/tthc/app/", f"{ROOT}/"),
    ):
        assert old in conf, old
        conf = conf.replace(old, new)
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    return path


def _get(port: int, path: str) -> http.client.HTTPResponse:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    connection.request("GET", path, headers={"Host": "tthc.example.vn"})
    return connection.getresponse()


def test_nginx_in_front_of_gunicorn_serves_pages_and_static_files(nginx, tmp_path):
    instance = tmp_path / "instance"
    env = {**os.environ, "TTHC_INSTANCE": str(instance), "TTHC_SEARCH_EMBEDDINGS": '""'}
    env.pop("TTHC_SQLALCHEMY_DATABASE_URI", None)
    flask = [sys.executable, "-m", "flask", "--app", "app", "init-db"]
    subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    app_port, http_port, https_port = _free_port(), _free_port(), _free_port()
    env |= {"TTHC_BIND": f"127.0.0.1:{app_port}", "TTHC_WORKERS": "1", "TTHC_TRUSTED_PROXIES": "1"}
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conf = _loopback_config(tmp_path, app_port, http_port, https_port)
    proxy = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(app_port, gunicorn)
        _wait_for_port(https_port, proxy)
        page = _get(https_port, "/")
        assert page.status == 200
        assert "text/html" in page.getheader("Content-Type")
        assert 'lang="vi"' in page.read().decode()
        # Micro-caching: a public page is served from nginx's cache the second time; a
        # personal answer (a search, a staff page) never is.
        again = _get(https_port, "/")
        assert again.getheader("X-Cache-Status") == "HIT"
        assert again.read().decode().count('lang="vi"') >= 1
        for personal in ("/tim-kiem?q=khai+sinh", "/staff/login"):
            for _ in range(2):
                answer = _get(https_port, personal)
                answer.read()
                assert answer.getheader("X-Cache-Status") != "HIT", personal
        static = _get(https_port, "/static/css/print.css")
        assert static.status == 200
        assert static.read() == (ROOT / "static/css/print.css").read_bytes()
        assert static.getheader("Cache-Control") == "max-age=604800"  # nginx's, not Flask's
        with socket.create_connection(("127.0.0.1", http_port), timeout=5) as plain:
            plain.sendall(b"GET / HTTP/1.1\r\nHost: tthc.example.vn\r\nConnection: close\r\n\r\n")
            assert plain.recv(200).startswith(b"HTTP/1.1 301")
    finally:
        for process in (proxy, gunicorn):
            process.terminate()
            process.wait(timeout=20)
