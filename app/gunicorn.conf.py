"""gunicorn settings; WORKERS and the port come from the ConfigMap and the Deployment."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WORKERS", "2"))
# Logs to stdout/stderr so that `kubectl logs -l app=flask-app` shows them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# The root filesystem may be read-only: keep gunicorn's heartbeat files in memory.
worker_tmp_dir = "/dev/shm"
