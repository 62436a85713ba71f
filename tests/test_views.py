"""The first pages: log in, see your projects, read an article with its claims."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.base import client_for
from tests.factories import make_article, make_project, make_sample_article


def test_anonymous_is_sent_to_login(db: Any) -> None:
    response = Client().get(reverse("project-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_with_password_then_logout(project: Any) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": "bob", "password": "bob-pw"})
    assert response.status_code == 302
    assert client.get(reverse("project-list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("project-list")).status_code == 302


def test_wrong_password_is_told_plainly(project: Any) -> None:
    response = Client().post(reverse("login"), {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_project_list_shows_only_my_projects(project: Any, bob: Any, mallory: Any) -> None:
    make_project("other", admin=mallory, name="Mallory's secrets")
    content = client_for(bob).get(reverse("project-list")).content.decode()
    assert "Demo project" in content
    assert "Mallory" not in content


def test_project_page_lists_articles_and_members(project: Any, article: Any, victor: Any) -> None:
    response = client_for(victor).get(reverse("project-detail", args=["demo"]))
    content = response.content.decode()
    assert article.title in content
    assert "rita" in content and "Reviewer" in content


def test_outsider_gets_404_everywhere(project: Any, article: Any, mallory: Any) -> None:
    client = client_for(mallory)
    assert client.get(reverse("project-detail", args=["demo"])).status_code == 404
    url = reverse("article-detail", args=["demo", article.pk])
    assert client.get(url).status_code == 404


def test_article_of_another_project_is_404(project: Any, bob: Any, mallory: Any) -> None:
    other = make_project("other", admin=mallory)
    foreign = make_article(other)
    url = reverse("article-detail", args=["demo", foreign.pk])
    assert client_for(bob).get(url).status_code == 404


def test_post_to_a_read_page_is_405(project: Any, bob: Any) -> None:
    assert client_for(bob).post(reverse("project-detail", args=["demo"])).status_code == 405


def test_article_page_shows_sections_claims_and_citations(project: Any, bob: Any) -> None:
    article = make_sample_article(project)
    response = client_for(bob).get(reverse("article-detail", args=["demo", article.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert '<h2 class="section">Diverging Trajectories and Incongruent Interests</h2>' in content
    assert content.count('<a class="claim ') == article.claims.count()
    assert "Kremlin.ru, 2021-08-25" in content
    assert "Lenta.ru, 2015-02-20" in content
    assert 'class="nonclaim author_bio"' in content


@pytest.mark.parametrize(("text_size", "queries"), [(1, 10), (8, 9)])
def test_article_page_query_count_does_not_grow(
    project: Any, bob: Any, django_assert_num_queries: Any, text_size: int, queries: int
) -> None:
    paragraphs = "\n\n".join(
        f"Claim {i} holds (Kremlin.ru, August {i % 28 + 1}). Point {i} stands, but it may fade."
        for i in range(text_size * 10)
    )
    article = make_article(project, "Title Here\n\n" + paragraphs + "\n")
    client = client_for(bob)
    url = reverse("article-detail", args=["demo", article.pk])
    # Session, user, membership, article; progress, sections; the first page's blocks,
    # claims, their citations and their verdicts. An article longer than a page (the
    # larger one: 160 claims) has its progress counted after its first screen shows.
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_project_page_shows_progress_per_article(
    project: Any, bob: Any, carol: Any, django_assert_num_queries: Any
) -> None:
    article = make_article(project)
    other = make_article(project, "Another Title\n\nIt rained. It poured.\n", filename="b.txt")
    first, second = article.claims.order_by("start")[:2]
    first.set_verdict(bob, "supported")
    first.set_verdict(carol, "disputed")
    second.set_verdict(carol, "supported")
    client = client_for(bob)
    with django_assert_num_queries(5):
        response = client.get(reverse("project-detail", args=["demo"]))
    rows = {a.pk: a for a in response.context["articles"]}
    assert (rows[article.pk].mine_count, rows[article.pk].team_count) == (1, 1)
    assert rows[article.pk].claim_count == article.claims.count()
    assert (rows[other.pk].claim_count, rows[other.pk].mine_count) == (2, 0)


def test_import_link_only_for_admins(project: Any, alice: Any, bob: Any) -> None:
    import_url = reverse("article-import", args=["demo"])
    assert (
        import_url
        in client_for(alice).get(reverse("project-detail", args=["demo"])).content.decode()
    )
    assert (
        import_url
        not in client_for(bob).get(reverse("project-detail", args=["demo"])).content.decode()
    )
