"""gunicorn settings: `gunicorn -c python:claims.gunicorn_conf claims.wsgi`.

Sized for this machine by default: one worker per core, 4 threads each, and the app
loaded once before the workers fork, so that they share its code pages. Override with env
vars.

Why, by measurement (README, Benchmarks: 4 analysts annotating at once, each a keep-alive
connection, on 2 cores): a request is CPU-bound Python, one thread at a time per process
(the GIL), so a worker per core is what uses every core. A keep-alive connection stays
with the worker that accepted it, so a worker may hold three of the four analysts while
the other holds one; its threads serve them in turn, waiting on the database without
holding the GIL, while the other core is used by the other worker. Two workers of 4 threads
did as many annotations per second as 4 workers of 1 or 2 threads, used a little less CPU
per annotation, and 30-60 MB less memory. Measured again side by side on 2026-12-06 (quiet
machine): 4 workers of 1 thread did 97.5 annotations/s on SQLite against 86.7 and 60.2 on
PostgreSQL against 67.8, for 256 and 304 MB PSS against 220 and 219. No lock is held
across a request: SQLite writers queue on the database's own write lock (WAL: never on
readers), PostgreSQL's on their project's chain head, for their transaction only.
"""

from __future__ import annotations

import gc
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


# Copy-on-write: the workers forked from the preloaded master share its pages (the app's
# modules, templates, URL patterns) until they write to them, and a garbage collection
# writes to every object it visits. So the master collects nothing once it is running, and
# before each fork it freezes what it holds (the objects move to a permanent generation
# that no collection visits, in the master or a worker); each worker collects what it
# makes itself. About 15-30 MB less PSS for the two workers after 4 analysts annotated
# (README, Benchmarks).
def on_starting(server: object) -> None:
    gc.disable()


def pre_fork(server: object, worker: object) -> None:
    gc.freeze()


def post_fork(server: object, worker: object) -> None:
    gc.enable()
