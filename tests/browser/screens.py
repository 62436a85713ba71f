"""What the browser tests do and look for on the app's screens, in one place."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from claims.models import Article


def log_in(page: Page, username: str) -> None:
    """Log in through the login form, as a person would; passwords are '<name>-pw'."""
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-pw")
    page.click("button[type=submit]")
    expect(page.locator("header.site .who")).to_have_text(username)


def article_path(article: Article, claim: Any = None) -> str:
    """The article screen, with that claim's panel open when one is given."""
    path = f"/p/{article.project.slug}/a/{article.pk}/"
    return f"{path}?claim={claim.pk}" if claim is not None else path


def claim_span(page: Page, claim: Any) -> Locator:
    return page.locator(f"#claim-{claim.pk}")


def has_class(name: str) -> re.Pattern[str]:
    """For ``to_have_class``: the class list contains ``name`` as a whole word."""
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def verdict_button(page: Page, key: str) -> Locator:
    return page.locator(f'#verdict-form button[data-key="{key}"]')


def settled(page: Page) -> None:
    """Wait until htmx has finished its requests and settled what it swapped in.

    Swapped-in elements get their htmx behaviour only when they settle (20 ms later); a
    click before that would go out as a plain form post instead of an htmx request.
    """
    expect(page.locator(".htmx-request, .htmx-added, .htmx-settling")).to_have_count(0)
