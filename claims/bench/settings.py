"""The settings of the app processes ``manage.py bench`` starts: production's, read from
the same environment, with the bench's URLconf (production's pages plus its one-row view).
"""

from __future__ import annotations

from claims.settings import *  # noqa: F403

ROOT_URLCONF = "claims.bench.urls"
