"""The demo Flask app, through Flask's test client."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from app.app import create_app

READY_ENV = {"SECRET_KEY": "k", "DATABASE_URL": "postgresql://u:p@h:5432/d", "FLASK_ENV": "production"}


def client(env: dict[str, str], config_file: Path = Path("/nonexistent")) -> FlaskClient:
    return create_app(env, config_file).test_client()


def test_index_says_hello() -> None:
    response = client(READY_ENV).get("/")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Hello from Flask on Kubernetes", "environment": "production"}


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
