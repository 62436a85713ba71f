"""gunicorn settings: `gunicorn -c python:claims.gunicorn_conf claims.wsgi`.

Sized for this machine by default: one worker per core (a Python process uses one core
at a time), a few threads each (requests spend part of their time waiting on the
database), and the app loaded once before the workers fork, so that they share its code
pages. Override with env vars.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
# gunicorn 27 opens a control socket at one shared path per user by default: several
# instances (or app releases) on one host would fight over it.
control_socket_disable = True
