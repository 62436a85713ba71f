"""make_* functions: the one place tests get their data from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from claims.importer import import_article
from claims.models import Article, Project, Role

DATA_DIR = Path(__file__).parent / "data"
SAMPLE_PATH = (
    Path(__file__).resolve().parent.parent / "seeds" / ("china-brief-2021-10-22-russia-china.txt")
)
SAMPLE_PUBLISHED = dt.date(2021, 10, 22)

SHORT_TEXT = """A Short Test Article

Introduction

Moscow praised the talks, but Beijing stayed silent (Kremlin.ru, August 25). The ministry \
issued a statement on trade.

Outlook

Analysts expect little change in 2022.
"""


def make_user(username: str, **fields: Any) -> Any:
    return get_user_model().objects.create_user(username, password=f"{username}-pw", **fields)


def make_project(slug: str = "demo", *, admin: Any = None, **fields: Any) -> Project:
    return Project.create(slug, fields.pop("name", slug.title()), admin=admin, **fields)


def add_member(project: Project, user: Any, role: Role) -> None:
    project.set_member(user, role, actor=None)


def make_article(
    project: Project,
    text: str | bytes = SHORT_TEXT,
    *,
    published_on: dt.date = dt.date(2021, 10, 22),
    filename: str = "article.txt",
    actor: Any = None,
    **metadata: Any,
) -> Article:
    data = text.encode("utf-8") if isinstance(text, str) else text
    article, _created = import_article(
        project, data, filename=filename, published_on=published_on, actor=actor, **metadata
    )
    return article


def make_sample_article(project: Project, actor: Any = None) -> Article:
    return make_article(
        project,
        SAMPLE_PATH.read_bytes(),
        published_on=SAMPLE_PUBLISHED,
        filename=SAMPLE_PATH.name,
        actor=actor,
    )
