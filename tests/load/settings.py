"""The settings of the app processes the fault tests start (``test_crash.py``):
production's, read from the same environment, plus the fault-injection middleware of
``tests.load.faults``. Started by the harness with
``DJANGO_SETTINGS_MODULE=tests.load.settings``; production never loads it.
"""

from __future__ import annotations

from claims.settings import *  # noqa: F403
from claims.settings import MIDDLEWARE

MIDDLEWARE = [*MIDDLEWARE, "tests.load.faults.PauseBeforeCommitMiddleware"]
