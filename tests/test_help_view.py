"""The keys page: the article screen's `?` help as a page of its own, for members only."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.base import client_for, html
from tests.factories import make_article

KEYS = reverse("keys")


def test_keys_page_lists_the_keys_the_screen_dialog_lists(project: Any, bob: Any) -> None:
    article = make_article(project)
    page = html(client_for(bob).get(KEYS))
    screen = html(client_for(bob).get(reverse("article-detail", args=["demo", article.pk])))

    def keys(root: Any) -> list[str]:
        (listing,) = root.select("dl", class_="keys")
        return [dt.content() for dt in listing.select("dt")]

    assert keys(page)[:3] == ["j / k", "1 2 3", "0"]
    assert keys(screen.by_id("help")) == keys(page)
    (link,) = screen.select("a", data_help=True)
    assert link.attrs["href"] == KEYS


def test_anonymous_is_sent_to_login_for_the_keys(db: Any) -> None:
    response = Client().get(KEYS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_post_to_the_keys_is_405(bob: Any) -> None:
    assert client_for(bob).post(KEYS).status_code == 405
