"""WSGI entry point for claims (gunicorn claims.wsgi).

gunicorn loads this module once, before it forks its workers (``preload_app``), so what
it loads here the workers share, copy-on-write, and no request pays for: the URLs with
every view and the API's schemas (half a second of each worker's first request), and every
template compiled.
"""

from __future__ import annotations

import os
from pathlib import Path

import django.forms
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.template import engines
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claims.settings")
application = get_wsgi_application()


def load_before_requests() -> None:
    """Import the URL patterns, build their reverse lookup, and compile our templates and
    the form widgets' into the template loader's cache."""
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 (imports every view)
    resolver.reverse_dict  # noqa: B018 (what {% url %} looks names up in)
    engine = engines["django"]
    widgets = Path(django.forms.__file__).parent / "templates"
    roots = [(settings.BASE_DIR / "templates", "**/*.html"), (widgets, "django/forms/widgets/*")]
    for root, pattern in roots:
        for path in sorted(root.glob(pattern)):
            engine.get_template(path.relative_to(root).as_posix())


load_before_requests()
