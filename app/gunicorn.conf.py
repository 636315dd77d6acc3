"""gunicorn settings; WORKERS and the port come from the ConfigMap and the Deployment."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WORKERS", "2"))
# Logs to stdout/stderr so that `kubectl logs -l app=flask-app` shows them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# On SIGTERM (after the pod's preStop pause) workers finish their requests for up to this long;
# the pod's terminationGracePeriodSeconds leaves room for the pause plus this (settings/checks.py checks).
# GRACEFUL_TIMEOUT comes from the ConfigMap (gracefulTimeoutSeconds).
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
# The root filesystem may be read-only: keep gunicorn's heartbeat files in memory.
worker_tmp_dir = "/dev/shm"
# gunicorn 25.1+ opens a control socket for `gunicornc` under $XDG_RUNTIME_DIR or $HOME/.gunicorn;
# in the pod HOME is "/" on a read-only root, so every pod logged "Control server error". Off rather
# than moved to /tmp: nothing here runs gunicornc (Kubernetes restarts and scales pods), and a
# socket that can resize or stop the server is one more writable thing an intruder could use.
control_socket_disable = True
