"""Fixtures of the load and fault tests: a fresh copy of a prepared database per test.

The prepared databases (see families.py) are made once per test session, both kinds at
once, as soon as the session starts: only the kinds that the collected tests ask for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.databases import PG_PREFIX, Postgres, SQLite
from tests.load.families import Family, Preparation

KINDS = {"sqlite_family": "sqlite", "postgres_family": "postgres"}  # SQLite first: no server


@pytest.fixture(scope="session")
def preparation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Preparation]:
    items = request.session.items
    wanted = [kind for name, kind in KINDS.items() if any(name in i.fixturenames for i in items)]
    prep = Preparation(tmp_path_factory.mktemp("load"), wanted)
    try:
        yield prep
    finally:
        prep.close()


@pytest.fixture(scope="session")
def postgres_family(preparation: Preparation) -> Family:
    return preparation.get("postgres")


@pytest.fixture(scope="session")
def sqlite_family(preparation: Preparation) -> Family:
    return preparation.get("sqlite")


@pytest.fixture
def pg_db(postgres_family: Family, request: pytest.FixtureRequest) -> Iterator[Postgres]:
    """A fresh copy of the prepared PostgreSQL database, dropped afterwards."""
    assert isinstance(postgres_family.template, Postgres)
    name = f"{PG_PREFIX}{os.getpid()}_{request.node.name[:30].lower()}"
    db = Postgres.create(name, template=postgres_family.template.name)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def sqlite_db(sqlite_family: Family, tmp_path: Path) -> Iterator[SQLite]:
    """A fresh copy of the prepared SQLite database."""
    assert isinstance(sqlite_family.template, SQLite)
    db = sqlite_family.template.copy_to(tmp_path / "claims.sqlite3")
    try:
        yield db
    finally:
        db.drop()
