"""People come from one place: alice the admin, bob and carol analysts, rita the reviewer,
victor the viewer, and mallory, who belongs to no project."""

from __future__ import annotations

from typing import Any

import pytest

from claims.models import Project, Role
from tests.factories import add_member, make_article, make_project, make_user

# Markers by folder, so a run can pick them (`-m "not load"`): the load and fault tests
# build their own SQLite and PostgreSQL databases whatever DATABASE_URL says, so `make
# test` runs them once, with the SQLite pass, not again with the PostgreSQL one.
MARKERS = {"load": "tests/load/", "browser": "tests/browser/", "bench": "tests/test_bench.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.as_posix()
        for marker, where in MARKERS.items():
            if f"/{where}" in path or path.endswith(f"/{where}"):
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The default PBKDF2 cost is for production; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db: Any) -> Any:
    return make_user("alice")


@pytest.fixture
def bob(db: Any) -> Any:
    return make_user("bob")


@pytest.fixture
def carol(db: Any) -> Any:
    return make_user("carol")


@pytest.fixture
def rita(db: Any) -> Any:
    return make_user("rita")


@pytest.fixture
def victor(db: Any) -> Any:
    return make_user("victor")


@pytest.fixture
def mallory(db: Any) -> Any:
    return make_user("mallory")


@pytest.fixture
def project(alice: Any, bob: Any, carol: Any, rita: Any, victor: Any) -> Project:
    project = make_project("demo", admin=alice, name="Demo project")
    add_member(project, bob, Role.ANALYST)
    add_member(project, carol, Role.ANALYST)
    add_member(project, rita, Role.REVIEWER)
    add_member(project, victor, Role.VIEWER)
    return project


@pytest.fixture
def article(project: Project, alice: Any) -> Any:
    return make_article(project, actor=alice)


@pytest.fixture
def claim(article: Any) -> Any:
    return article.claims.order_by("ordinal").first()
