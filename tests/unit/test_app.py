"""The demo Flask app, through Flask's test client, and served by gunicorn as in the image."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from gunicorn.app.base import Application

from app.app import create_app
from devtools.harness import ROOT

APP_DIR = ROOT / "app"
GUNICORN_CONF = APP_DIR / "gunicorn.conf.py"

READY_ENV = {"SECRET_KEY": "k", "DATABASE_URL": "postgresql://u:p@h:5432/d", "FLASK_ENV": "production"}


def client(env: dict[str, str], config_file: Path = Path("/nonexistent")) -> FlaskClient:
    return create_app(env, config_file).test_client()


def test_index_says_hello() -> None:
    response = client(READY_ENV).get("/")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Hello from Flask on Kubernetes", "environment": "production"}


def test_an_upload_is_read_whole_and_its_size_answered() -> None:
    response = client(READY_ENV).post("/upload", data=b"x" * 4096)
    assert response.status_code == 200
    assert response.get_json() == {"received_bytes": 4096}


def test_health_answers_even_without_configuration() -> None:
    response = client({}).get("/health")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_ready_needs_the_injected_secrets() -> None:
    response = client({"SECRET_KEY": "k"}).get("/ready")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "missing": ["DATABASE_URL"]}


def test_ready_reports_the_mounted_config_file(tmp_path: Path) -> None:
    config = tmp_path / "app.ini"
    config.write_text("[database]\npool_size = 10\n\n[cache]\nttl = 300\n")
    response = client(READY_ENV, config).get("/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "config_sections": ["database", "cache"]}


# --- gunicorn, with the image's gunicorn.conf.py ------------------------------------------------------------


class _ProjectGunicornConfig(Application):
    """gunicorn's own loader reading app/gunicorn.conf.py, without command-line arguments or serving."""

    def load_config(self) -> None:
        module = self.load_config_from_file(str(GUNICORN_CONF))
        self.names = {k for k, v in module.items() if not k.startswith("_") and not isinstance(v, types.ModuleType)}

    def load(self) -> Any:
        raise NotImplementedError


def test_gunicorn_config_sets_only_settings_gunicorn_knows() -> None:
    # gunicorn silently ignores an unknown name, so a misspelt setting would never take effect.
    loaded = _ProjectGunicornConfig()
    assert loaded.names
    assert loaded.names <= set(loaded.cfg.settings), sorted(loaded.names - set(loaded.cfg.settings))


def test_gunicorn_runs_no_control_socket() -> None:
    assert _ProjectGunicornConfig().cfg.control_socket_disable is True


@pytest.mark.skipif(
    not Path("/dev/shm").is_dir(), reason="gunicorn.conf.py keeps worker heartbeats in /dev/shm (Linux)"
)
def test_gunicorn_serves_health_and_logs_no_error_with_an_unwritable_home(tmp_path: Path) -> None:
    # In the pod the root filesystem is read-only and HOME is "/", so whatever gunicorn creates there
    # fails. A HOME that is a regular file fails the same way here, even when the tests run as root.
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    log = tmp_path / "gunicorn.log"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "PYTHONPATH")}
    env.update(HOME=str(home), WORKERS="1", LOG_LEVEL="info", PYTHONDONTWRITEBYTECODE="1")
    # The image's command, bound to loopback only.
    cmd = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONF.name, "--bind", f"127.0.0.1:{port}", "app:app"]
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, cwd=APP_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            status = _wait_for_health(f"http://127.0.0.1:{port}/health", server, deadline=time.monotonic() + 30)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    text = log.read_text(errors="replace")
    assert status == 200, text
    errors = [line for line in text.splitlines() if "Control server error" in line or "[ERROR]" in line]
    assert not errors, "\n".join(errors)


# A proxy from the environment must not stand between the test and the loopback server.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_health(url: str, server: subprocess.Popen[bytes], deadline: float) -> int | None:
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with _NO_PROXY.open(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.2)
    return None
