"""Settings for claims: one flat file that reads the environment.

SQLite under ``var/`` unless ``DATABASE_URL`` names a PostgreSQL server.
"""

from __future__ import annotations

import datetime as dt
import os
import select
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
# A local .env (written by `manage.py demo`: DEBUG=1) fills in what the environment does
# not set, so a bare `manage.py runserver` after `make demo` works. The environment wins.
load_dotenv(os.environ.get("CLAIMS_ENV_FILE") or BASE_DIR / ".env", override=False)
VAR_DIR = Path(os.environ.get("CLAIMS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    # Only for local development and tests: never valid with DEBUG off in production.
    SECRET_KEY = "django-insecure-claims-development-key-not-for-production-use-0123456789"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, for the FormRenderer below
    "django_htmx",
    "axes",
    "ninja",  # the API docs' own Swagger UI files and template, not a CDN (claims/api)
    "django_tasks_db",  # the task queue in the database (claims/tasks.py)
    "claims",
]

MIDDLEWARE = [
    "claims.middleware.ErrorHeadersMiddleware",
    "claims.api.problems.ProblemMiddleware",  # /api/ answers errors as problem details
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "claims.middleware.OperationMiddleware",
    "claims.middleware.DeniedLogMiddleware",
    "claims.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading a session's user with one hand-written query.
    "claims.access.UserBackend",
]
# Sessions live in the database (any app process sees a logout at once), read with one
# hand-written query per request.
SESSION_ENGINE = "claims.access"

ROOT_URLCONF = "claims.urls"
WSGI_APPLICATION = "claims.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Forms render with the templates above, so templates/ holds the field and widget templates.
FORM_RENDERER = "claims.fields.FormRenderer"


def database_from_url(url: str) -> dj_database_url.DBConfig:
    """A DATABASES entry from ``postgres://user:pass@host:port/name?option=value``.

    dj-database-url reads the URL, query options (``sslmode``, ``connect_timeout``...)
    included; only PostgreSQL is accepted, as SQLite is configured below.
    """
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must start with postgres://, not {scheme}://")
    # Connections come from a pool in each app process (psycopg_pool, through Django): a
    # request takes one and gives it back, so a process holds as many as it serves at once
    # (at most its threads), and each is checked as it is taken (idle_connection_usable),
    # so one that a database restart broke is never handed out.
    config = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    config.setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        # Above the gunicorn threads of a process, for the other processes that share
        # these settings (management commands, tests) and may use more threads.
        "max_size": int(os.environ.get("CLAIMS_DB_POOL_MAX", "20")),
        "timeout": 10,  # seconds to wait for a free connection before an error (503)
        "check": idle_connection_usable,
    }
    # Parameters sent apart from the query (server-side binding), so that PostgreSQL can
    # keep a query's plan: a statement run a few times on a connection is prepared once,
    # then only executed (psycopg's automatic prepared statements): that about halved the
    # database's CPU time per verdict here (README, Benchmarks).
    config["OPTIONS"] |= {"server_side_binding": True, "prepare_threshold": 5}
    config["NAME"] = config.get("NAME") or "claims"
    config["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
    return config


def idle_connection_usable(connection: Any) -> None:
    """The pool's check of a connection it is about to hand out, without a round trip per
    request: an idle connection has nothing to read unless the server closed it or said
    why (a restart, an administrator's kill), and only then is it asked, by psycopg_pool's
    own check, which raises for a broken one (the pool then takes or opens another)."""
    from psycopg_pool import ConnectionPool

    waiting = select.poll()
    waiting.register(connection.fileno(), select.POLLIN)
    if waiting.poll(0):
        ConnectionPool.check_connection(connection)


# A DBConfig from DATABASE_URL, or the SQLite entry below (whose NAME may be a Path).
DATABASES: dict[str, Mapping[str, Any]]
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    # The embedded default lives under var/: a fresh clone's bare `manage.py migrate` works.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", VAR_DIR / "claims.sqlite3"),
            # Each server thread keeps its connection: opening one (and its pragmas) costs
            # more than most requests' queries.
            "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN: the SQLite stand-in for the
                # select_for_update() on the audit chain head that PostgreSQL gets. In WAL
                # mode readers never wait for a writer nor writers for readers; writers
                # wait for each other, each for a transaction's length, up to `timeout`
                # seconds (the busy timeout).
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                # Extra pragmas, e.g. max_page_count to simulate a full disk in fault tests.
                + os.environ.get("SQLITE_EXTRA_PRAGMAS", ""),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id for new and changed passwords; older PBKDF2 hashes still verify and are
# rehashed with Argon2id at the next log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: five failures lock that username, and separately that address, for
# fifteen minutes. CLAIMS_PROXY_COUNT says how many proxies stand in front of the app,
# so a forged X-Forwarded-For cannot pick the address that gets counted.
CLAIMS_PROXY_COUNT = int(os.environ.get("CLAIMS_PROXY_COUNT", "0"))
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success resets only that account's own record (claims.accounts.LockoutHandler).
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "claims.accounts.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "claims.accounts.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Content-Security-Policy: no inline script or style anywhere; htmx and our one JS file
# are served from our own origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from the page, not the cookie
CSRF_COOKIE_SAMESITE = "Lax"
# HTTPS: on by default outside development. Behind a TLS-terminating proxy, set
# SECURE_PROXY_SSL_HEADER=1 so Django trusts its X-Forwarded-Proto. Turning HTTPS off
# (SECURE_SSL_REDIRECT=0, SECURE_COOKIES=0) is for loopback load tests only.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# The largest article file accepted, checked before the whole file is read.
CLAIMS_MAX_IMPORT_BYTES = int(os.environ.get("CLAIMS_MAX_IMPORT_BYTES", str(16 * 1024 * 1024)))
# claims/fetching.py: pages fetched from the web (URL imports, evidence snapshots). The
# timeout is for the whole fetch. ALLOW_PRIVATE: True, or a list of networks, lets a fetch
# reach addresses that are not public (tests on 127.0.0.1); never in production.
CLAIMS_FETCH_MAX_BYTES = int(os.environ.get("CLAIMS_FETCH_MAX_BYTES", str(10 * 1024 * 1024)))
CLAIMS_FETCH_TIMEOUT = float(os.environ.get("CLAIMS_FETCH_TIMEOUT", "10"))
CLAIMS_FETCH_MAX_REDIRECTS = int(os.environ.get("CLAIMS_FETCH_MAX_REDIRECTS", "5"))
CLAIMS_FETCH_ALLOW_PRIVATE: bool | list[str] = env_bool("CLAIMS_FETCH_ALLOW_PRIVATE")
# Evidence snapshots (claims/snapshots.py): new evidence's page is fetched in the background
# (off: nothing is fetched), and `manage.py recheck_evidence` re-checks pages whose last
# check is older than this many days.
CLAIMS_SNAPSHOT_EVIDENCE = env_bool("CLAIMS_SNAPSHOT_EVIDENCE", True)
CLAIMS_RECHECK_EVIDENCE_DAYS = int(os.environ.get("CLAIMS_RECHECK_EVIDENCE_DAYS", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A 403 is an expected answer (a viewer opening the import page): logged as one line,
    # without the traceback Django attaches to it.
    "filters": {"no_403_traceback": {"()": "claims.logging_filters.NoTracebackFor403"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "claims": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "django.request": {"filters": ["no_403_traceback"]},
    },
}
# The import preview carries the decoded text back in a form field; let a form hold an
# article at the import limit (UTF-8 text can grow when re-encoded as form data).
DATA_UPLOAD_MAX_MEMORY_SIZE = CLAIMS_MAX_IMPORT_BYTES * 3 + 64 * 1024

# Background work (claims/tasks.py): Django's tasks, queued in the database and run by
# `manage.py db_worker` (a distributed backend can replace it). Imports larger than
# IMPORT_BACKGROUND_BYTES run there; a job whose worker is silent for JOB_STALE_SECONDS
# (longer than any step, an import's one transaction included) is run again, up to
# JOB_ATTEMPTS times, then reported failed.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CLAIMS_IMPORT_BACKGROUND_BYTES = int(
    os.environ.get("CLAIMS_IMPORT_BACKGROUND_BYTES", str(1024 * 1024))
)
# An audit export of more events than this is written by the worker (claims.tasks).
CLAIMS_EXPORT_BACKGROUND_EVENTS = int(os.environ.get("CLAIMS_EXPORT_BACKGROUND_EVENTS", "200000"))
# Days the worker's export files are kept under var/exports before they are removed.
CLAIMS_EXPORT_KEEP_DAYS = float(os.environ.get("CLAIMS_EXPORT_KEEP_DAYS", "7"))
CLAIMS_JOB_STALE_SECONDS = int(os.environ.get("CLAIMS_JOB_STALE_SECONDS", "600"))
CLAIMS_JOB_ATTEMPTS = int(os.environ.get("CLAIMS_JOB_ATTEMPTS", "3"))
# Webhooks (claims/webhooks.py): seconds before each retry of a failed delivery, and the
# failed attempts in a row after which an endpoint is paused.
CLAIMS_WEBHOOK_BACKOFF = [60, 300, 1800, 7200, 43200]
CLAIMS_WEBHOOK_PAUSE_AFTER = int(os.environ.get("CLAIMS_WEBHOOK_PAUSE_AFTER", "10"))
CLAIMS_WEBHOOK_TIMEOUT = float(os.environ.get("CLAIMS_WEBHOOK_TIMEOUT", "10"))
# A pending delivery overdue by more than this is queued again (its worker died sending it).
CLAIMS_WEBHOOK_STALE_SECONDS = int(os.environ.get("CLAIMS_WEBHOOK_STALE_SECONDS", "600"))
