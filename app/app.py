"""The demo Flask app the Pulumi program deploys (the series' app, reduced to what Kubernetes sees).

Routes: `/` says hello, `/health` is the liveness/startup probe (the process answers), `/ready` the
readiness probe (the app has its configuration). Served by gunicorn in the container.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request

CONFIG_FILE = Path(os.environ.get("APP_CONFIG_FILE", "/etc/app/config/app.ini"))


def create_app(env: dict[str, str] | None = None, config_file: Path = CONFIG_FILE) -> Flask:
    """Builds the app from environment variables (the ConfigMap and Secret) and the config file."""
    env = dict(os.environ if env is None else env)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = env.get("SECRET_KEY", "")
    app_config = configparser.ConfigParser()
    if config_file.is_file():
        app_config.read(config_file)

    @app.get("/")
    def index() -> Any:
        return jsonify(message="Hello from Flask on Kubernetes", environment=env.get("FLASK_ENV", "unknown"))

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    @app.post("/upload")
    def upload() -> Any:
        # Reads the whole body, as an upload handler would: what the ingress lets through (the
        # article's 5 MB limit) arrives here whole.
        return jsonify(received_bytes=len(request.get_data(cache=False)))

    @app.get("/ready")
    def ready() -> Any:
        # Ready only with the secrets the Deployment injects: without them requests would fail.
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not env.get(name)]
        if missing:
            return jsonify(status="not ready", missing=missing), 503
        return jsonify(status="ready", config_sections=app_config.sections())

    return app


app = create_app()
