"""axe-core finds no accessibility violation on any main page, at desktop and phone sizes.

axe-core is vendored (tests/browser/vendor/, see its README) and injected into each page
as a script tag; nothing is fetched at run time. Every rule axe runs by default is on:
the WCAG 2 A and AA rules and its best practices. The pages are shown with content in
them (verdicts, rationales, evidence, a disagreement, a claim's panel open), since an
empty page hides most of what could be wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from claims.models import Article, Claim
from tests.browser.screens import log_in

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}

# Each violation as "rule (impact): what, where", short enough to read in a failure.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}; ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ") +
    (v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ""));
}"""


@pytest.fixture
def open_page(browser: Browser, live_server: Any) -> Iterator[Callable[[ViewportSize], Page]]:
    """A new browser context at that size. Its pages' Content-Security-Policy is bypassed
    only so that axe can be injected as a script tag; the app's own scripts are files."""
    pages: list[Page] = []

    def open_(viewport: ViewportSize) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=viewport, bypass_csp=True)
        pages.append(context.new_page())
        return pages[-1]

    yield open_
    for page in pages:
        page.context.close()


REVISED = Path(__file__).parent.parent / "data" / "revisions" / "china-brief.r2-update.txt"


def violations(page: Page, path: str = "") -> list[str]:
    """What axe finds on ``path``, or on the page as it is now."""
    if path:
        response = page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
    if not page.evaluate("() => 'axe' in window"):
        page.add_script_tag(path=str(AXE))
    return list(page.evaluate(RUN_AXE))


def populate(article: Article, alice: Any, bob: Any, carol: Any) -> dict[str, str]:
    """Verdicts that disagree, with rationales and evidence; the main pages' paths."""
    first, second, third = article.claims.order_by("ordinal")[:3]
    first.set_verdict(bob, "supported", rationale="The readout says so.")
    first.set_verdict(carol, "disputed", rationale="The ministry denied it the next day.")
    second.set_verdict(bob, "outdated", rationale="Superseded.", as_of=article.published_on)
    third.set_verdict(alice, "supported")
    first.add_evidence(bob, url="https://example.org/readout", title="Readout", stance="supports")
    slug, pk = article.project.slug, article.pk
    return {
        "project list": "/",
        "project detail": f"/p/{slug}/",
        "article": f"/p/{slug}/a/{pk}/?claim={first.pk}",
        "article consensus": f"/p/{slug}/a/{pk}/consensus/",
        "project consensus": f"/p/{slug}/consensus/",
        "queue": f"/p/{slug}/queue/",
        "claim history": f"/p/{slug}/c/{first.pk}/history/",
        "article activity": f"/p/{slug}/a/{pk}/activity/",
        "project activity": f"/p/{slug}/activity/",
        "members": f"/p/{slug}/members/",
        "import": f"/p/{slug}/import/",
        "audit export": f"/p/{slug}/audit/export/",
        "password change": "/password/",
        "keys": "/keys/",
    }


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_main_pages_have_no_accessibility_violations(
    open_page: Callable[[ViewportSize], Page],
    viewport: ViewportSize,
    sample_article: Article,
    alice: Any,
    bob: Any,
    carol: Any,
) -> None:
    paths = populate(sample_article, alice, bob, carol)
    page = open_page(viewport)
    found = {"login": violations(page, "/login/")}
    page.fill("#id_username", "alice")
    page.fill("#id_password", "not her password")
    page.click("button[type=submit]")
    found["login refused"] = violations(page)
    log_in(page, alice.get_username())
    for name, path in paths.items():
        found[name] = violations(page, path)

    # The article screen's other states: no claim chosen, the keys, evidence being added.
    found["article, no claim"] = violations(page, paths["article"].split("?")[0])
    page.goto(paths["article"])
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    found["article, keys"] = violations(page)
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    page.keyboard.press("e")
    expect(page.locator("#evidence-add")).to_have_attribute("open", "")
    found["article, adding evidence"] = violations(page)

    # A revision: its form, its preview, the revised article, an earlier version, and the
    # history of a claim the revision reworded (with its timeline).
    revise = f"/p/{sample_article.project.slug}/a/{sample_article.pk}/revise/"
    found["import a revision"] = violations(page, revise)
    page.fill("#id_text", REVISED.read_text(encoding="utf-8"))
    page.get_by_role("button", name="Preview the revision").click()
    expect(page.locator("#revision-counts")).to_be_visible()
    found["revision preview"] = violations(page)
    page.get_by_role("button", name="Apply as version 2").click()
    expect(page.locator("nav.versions")).to_be_visible()
    edited = Claim.objects.filter(article=sample_article, revised_in=2).first()
    assert edited is not None
    found["revised article"] = violations(
        page, f"{paths['article'].split('?')[0]}?claim={edited.pk}"
    )
    found["version 1"] = violations(page, f"{paths['article'].split('?')[0]}?version=1")
    found["reworded claim's history"] = violations(
        page, f"/p/{sample_article.project.slug}/c/{edited.pk}/history/"
    )
    assert {name: v for name, v in found.items() if v} == {}
