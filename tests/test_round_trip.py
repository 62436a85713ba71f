"""The annotation round trip: opening a claim, giving a verdict, adding and removing evidence.

Each answers with what it changed and does a fixed number of queries, whatever the size of
the article, the team and the claim's history (pinned here at two sizes). The reads these
requests make by hand-written SQL (``claims/access.py``: the claim with its project and
the member's role, the session, the user, the claim's verdicts, citations and evidence)
give what the ORM gives. Evidence answers with its own section: the list and its form, the
recent history, and the member's re-check line and the claim's highlight when the change
made their verdict due.
"""

from __future__ import annotations

import datetime as dt
import json
import select
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q
from django.forms.renderers import BaseRenderer
from django.http import Http404
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise, lazy
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from claims import access
from claims.fields import FormRenderer
from claims.forms import EvidenceForm, VerdictForm
from claims.http import MAX_ID
from claims.models import AuditEvent, Claim, Evidence, Project, Role
from tests.base import HTMX, client_for, html, url
from tests.factories import add_member, make_article, make_user

lazy_safe = lazy(mark_safe, SafeString)


def post_verdict(client: Client, claim: Claim, version: int, status: str = "supported") -> Any:
    data = {"status": status, "rationale": "", "as_of": "", "version": version}
    return client.post(url("claim-verdict", claim.pk), data, **HTMX)


def post_evidence(client: Client, claim: Claim, link: str, **data: str) -> Any:
    """Evidence posted as the panel's form posts it: with a fresh one-time token."""
    form = {"url": link, "title": "", "stance": "supports", "quote": "", "note": ""}
    form = form | {"submission": str(uuid.uuid4())} | data
    fields = {f"evidence-{name}": value for name, value in form.items()}
    return client.post(url("evidence-add", claim.pk), fields, **HTMX)


def triggers(response: Any) -> dict[str, Any]:
    return json.loads(response["HX-Trigger"])


def last_action() -> str:
    return AuditEvent.objects.latest("seq").action


# Query counts at two sizes ---------------------------------------------------------------


def grown(project: Project, claims: int, analysts: int, evidence: int) -> Claim:
    """An article of ``claims`` claims; on its second claim a verdict of each of ``analysts``
    analysts and ``evidence`` pieces of evidence, so its history is long too."""
    text = "Grown Article\n\n" + " ".join(
        f"Claim {i} of the grown article holds." for i in range(claims)
    )
    article = make_article(project, text + "\n", filename=f"grown-{claims}.txt")
    claim = article.claims.order_by("start")[1]
    for i in range(analysts):
        person = make_user(f"analyst-{claims}-{i}")
        add_member(project, person, Role.ANALYST)
        claim.set_verdict(person, ["supported", "disputed"][i % 2], rationale=f"reason {i}")
        for j in range(evidence // max(analysts, 1)):
            claim.add_evidence(person, url=f"https://example.org/{i}/{j}", stance="context")
    return claim


def queries_of(request: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def round_trip_queries(client: Client, claim: Claim) -> dict[str, int]:
    """The queries of each step of annotating ``claim``, as a browser makes them."""
    first = client.get(url("claim-panel", claim.pk), **HTMX)
    assert first.status_code == 200
    counts = {"panel": queries_of(lambda: client.get(url("claim-panel", claim.pk), **HTMX))}
    counts["verdict"] = queries_of(lambda: post_verdict(client, claim, 0))
    counts["verdict changed"] = queries_of(lambda: post_verdict(client, claim, 1, "disputed"))
    # Another analyst's evidence made the verdict due; the member's own evidence after it
    # makes it not due (its line and the highlight change); the next changes neither.
    other = claim.verdicts.exclude(analyst__username="bob").first()
    assert other is not None
    claim.add_evidence(other.analyst, url="https://example.org/theirs", stance="context")
    counts["evidence, due"] = queries_of(lambda: post_evidence(client, claim, "https://a.org"))
    counts["evidence"] = queries_of(lambda: post_evidence(client, claim, "https://b.org"))
    mine = Evidence.objects.filter(claim=claim, url="https://b.org").get()
    remove = url("evidence-remove", mine.pk)
    counts["evidence removed"] = queries_of(lambda: client.post(remove, **HTMX))
    return counts


def test_round_trip_query_counts_do_not_grow(project: Project, bob: Any) -> None:
    client = client_for(bob)
    client.get(reverse("project-list"))  # the session, as a browser's already is
    small = round_trip_queries(client, grown(project, claims=3, analysts=1, evidence=1))
    large = round_trip_queries(client, grown(project, claims=60, analysts=6, evidence=12))
    assert small == large
    # Session and user, the claim with the member's role; then the claim's citations,
    # verdicts, evidence and recent history.
    assert small["panel"] == 7
    # Session, user, the claim; the write (begin, chain head, verdict, its insert or update,
    # the event, the head's update, commit, and the flag on the same claim elsewhere:
    # claims.models.flag_same_claims); the claim's verdicts, citations and history.
    assert small["verdict"] == small["verdict changed"] == 14
    # The write is begin, chain head, an earlier row of the form's one-time token, the
    # insert, the claim's evidence clock, the event, the head, commit; then verdicts,
    # evidence and history, and the citations of the highlight when the verdict came or
    # stopped being due.
    assert small["evidence"] == 14
    assert small["evidence, due"] == 15
    # The evidence, then its claim with the role (evidence_for); the write (begin, chain
    # head, the evidence as it stands, its update, the claim's evidence clock, the event,
    # the head, commit); verdicts, evidence and history.
    assert small["evidence removed"] == 15


def test_a_reviewers_panel_query_count_does_not_grow(project: Project, rita: Any) -> None:
    client = client_for(rita)
    client.get(reverse("project-list"))
    counts = []
    for claim in (grown(project, 3, 1, 1), grown(project, 40, 5, 10)):
        client.get(url("claim-panel", claim.pk), **HTMX)
        counts.append(queries_of(lambda c=claim: client.get(url("claim-panel", c.pk), **HTMX)))
    assert counts[0] == counts[1]


# Evidence answers with its own section ---------------------------------------------------


def test_evidence_answers_with_its_section_and_the_history(claim: Claim, bob: Any) -> None:
    client = client_for(bob)
    posted = str(uuid.uuid4())
    response = post_evidence(
        client, claim, "https://example.org/report", title="The report", submission=posted
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section aria-labelledby="evidence-h" id="evidence">')
    tree = html(content)
    (link,) = tree.select("a", href="https://example.org/report")
    assert link.content() == "The report"
    assert str(Evidence.objects.get().submission) == posted
    # A new form: empty, closed, with a fresh one-time token.
    assert not tree.select("details", id="evidence-add", open=True)
    (typed,) = tree.select("input", name="evidence-url")
    assert not typed.attrs.get("value")
    (token,) = tree.select("input", name="evidence-submission")
    assert uuid.UUID(str(token.attrs["value"])) != uuid.UUID(posted)
    history = tree.select("section", id="recent-history", hx_swap_oob="true")
    assert history and "bob</strong> added supports evidence" in content
    # bob has no verdict here: nothing came due, nothing else is sent.
    assert not tree.select("div", id="verdict-due") and f'id="claim-{claim.pk}"' not in content
    assert 'id="claim-panel"' not in content and 'id="verdict-form"' not in content
    assert triggers(response) == {"evidence-changed": {"claim": claim.pk}}
    assert last_action() == "evidence.added"


def test_evidence_is_new_to_the_others_and_its_line_changes_when_it_comes_or_goes(
    claim: Claim, bob: Any, carol: Any
) -> None:
    claim.set_verdict(bob, "supported")
    client = client_for(bob)
    # The daily round, a verdict and then the evidence for it: nothing comes due.
    mine = post_evidence(client, claim, "https://example.org/mine").content.decode()
    assert 'id="verdict-due"' not in mine and f'id="claim-{claim.pk}"' not in mine
    assert not recheck_line(client, claim)
    # Someone else's evidence makes bob's verdict due, as his panel says on his next look;
    # carol's own verdict, given before it, is not due by her own evidence.
    claim.set_verdict(carol, "disputed")
    theirs = post_evidence(client_for(carol), claim, "https://example.org/c").content.decode()
    assert 'id="verdict-due"' not in theirs
    assert "new evidence since your verdict" in recheck_line(client, claim)
    # bob adds evidence in turn, having seen the evidence as it stands: his verdict is not
    # due any more, and the line and the highlight say so at once.
    content = post_evidence(client, claim, "https://example.org/more").content.decode()
    tree = html(content)
    (due,) = tree.select("div", id="verdict-due", hx_swap_oob="true")
    assert "new evidence" not in due.content()
    (span,) = tree.select("a", id=f"claim-{claim.pk}", hx_swap_oob="true")
    assert "due" not in span.classes() and {"selected", "v-supported"} <= set(span.classes())
    # Nothing changed for bob by more of his own: neither is sent.
    again = post_evidence(client, claim, "https://example.org/again").content.decode()
    assert 'id="verdict-due"' not in again and f'id="claim-{claim.pk}"' not in again


def recheck_line(client: Client, claim: Claim) -> str:
    """What the member's panel says of their verdict's re-check: why it is due, if it is."""
    panel = html(client.get(url("claim-panel", claim.pk), **HTMX))
    lines = panel.select("p", class_="due-line")
    return lines[0].content() if lines else ""


def test_refused_evidence_comes_back_alone_as_typed(claim: Claim, bob: Any) -> None:
    before = AuditEvent.objects.count()
    response = post_evidence(client_for(bob), claim, "javascript:alert(1)", title="Kept")
    content = response.content.decode()
    assert response.status_code == 422
    assert content.lstrip().startswith('<section aria-labelledby="evidence-h" id="evidence">')
    tree = html(content)
    assert tree.select("details", id="evidence-add", open=True)
    assert tree.select("input", name="evidence-title", value="Kept")
    assert "starts with http:// or https://" in content
    assert "hx-swap-oob" not in content and "HX-Trigger" not in response
    assert AuditEvent.objects.count() == before


def test_removing_evidence_answers_with_the_section(claim: Claim, bob: Any) -> None:
    kept = claim.add_evidence(bob, url="https://example.org/kept", stance="context")
    gone = claim.add_evidence(bob, url="https://example.org/gone", stance="context")
    response = client_for(bob).post(url("evidence-remove", gone.pk), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section aria-labelledby="evidence-h" id="evidence">')
    assert "https://example.org/gone" not in content.split('id="recent-history"')[0]
    assert f'href="{kept.url}"' in content
    assert "bob</strong> removed evidence" in content
    assert triggers(response) == {"evidence-changed": {"claim": claim.pk}}
    assert last_action() == "evidence.removed"


def test_removing_evidence_twice_shows_the_panel_with_the_notice(claim: Claim, bob: Any) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/1", stance="context")
    evidence.remove(bob)
    response = client_for(bob).post(url("evidence-remove", evidence.pk), **HTMX)
    assert response.status_code == 409
    assert response.content.decode().lstrip().startswith('<aside id="claim-panel"')
    assert "already removed" in response.content.decode()
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#claim-panel", "outerHTML")


def test_blind_evidence_section_shows_only_your_own_until_you_tag(
    claim: Claim, bob: Any, carol: Any
) -> None:
    project = claim.article.project
    project.blind = True
    project.save()
    claim.add_evidence(carol, url="https://example.org/carols", stance="context")
    client = client_for(bob)
    content = post_evidence(client, claim, "https://example.org/bobs").content.decode()
    assert "https://example.org/bobs" in content
    assert "carols" not in content and "carol" not in content
    claim.set_verdict(bob, "supported")
    content = post_evidence(client, claim, "https://example.org/after").content.decode()
    assert "https://example.org/carols" in content


# The hand-written reads give what the ORM gives ------------------------------------------


def request_by(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_claim_for_reads_what_the_orm_reads(claim: Claim, bob: Any, rita: Any) -> None:
    claim.adjudicate(rita, "disputed", rationale="The record says otherwise")
    member, found = access.claim_for(request_by(bob), "demo", claim.pk)
    orm = (
        Claim.objects.with_text()
        .select_related("article__project", "adjudication__reviewer")
        .get(pk=claim.pk)
    )
    fields = [f.attname for f in Claim._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert found.text == orm.text and found.text
    assert (member.user, member.project, member.role) == (bob, claim.article.project, Role.ANALYST)
    with CaptureQueriesContext(connection) as queries:
        article_fields = [f.attname for f in orm.article._meta.concrete_fields if f.name != "text"]
        assert [getattr(found.article, f) for f in article_fields] == [
            getattr(orm.article, f) for f in article_fields
        ]
        assert found.article.project.blind is False
        assert found.article.project.created_at == orm.article.project.created_at
        final = found.final
        assert final is not None and final.reviewer.get_username() == "rita"
        assert (final.status, final.rationale, final.decided_at) == (
            orm.adjudication.status,
            orm.adjudication.rationale,
            orm.adjudication.decided_at,
        )
    assert len(queries) == 0  # all of it came with the claim
    assert "text" in found.article.get_deferred_fields()


def test_claim_for_refuses_as_before(claim: Claim, bob: Any, victor: Any, mallory: Any) -> None:
    with pytest.raises(Http404):
        access.claim_for(request_by(mallory), "demo", claim.pk)
    with pytest.raises(PermissionDenied):
        access.claim_for(request_by(victor), "demo", claim.pk, Role.ANALYST)
    for missing in (0, MAX_ID, MAX_ID + 1, 10**30):
        with pytest.raises(Http404):
            access.claim_for(request_by(bob), "demo", missing)
    with pytest.raises(Http404):
        access.claim_for(request_by(bob), "elsewhere", claim.pk)
    member, found = access.claim_for(request_by(victor), "demo", claim.pk)
    assert member.role == Role.VIEWER and found.final is None


def test_a_retired_claim_is_found_only_for_its_history(claim: Claim, bob: Any) -> None:
    Claim.all_objects.filter(pk=claim.pk).update(retired_in=1)
    with pytest.raises(Http404):
        access.claim_for(request_by(bob), "demo", claim.pk)
    _member, found = access.claim_for(request_by(bob), "demo", claim.pk, retired=True)
    assert found.retired_in == 1


def test_the_claims_rows_are_the_orms(claim: Claim, bob: Any, carol: Any, rita: Any) -> None:
    claim.set_verdict(carol, "outdated", as_of=dt.date(2022, 2, 24), rationale="Since then")
    claim.set_verdict(bob, "supported", recheck_by=timezone.localdate() + dt.timedelta(days=9))
    claim.clear_verdict(bob, expected_version=1)
    claim.add_evidence(bob, url="https://example.org/a", stance="supports", quote="q")
    claim.add_evidence(carol, url="https://example.org/b", stance="context")
    claim.add_evidence(bob, url="https://example.org/c", stance="context").remove(bob)

    def same(ours: list[Any], theirs: list[Any]) -> None:
        fields = [f.attname for f in ours[0]._meta.concrete_fields] if ours else []
        assert [[getattr(o, f) for f in fields] for o in ours] == [
            [getattr(t, f) for f in fields] for t in theirs
        ]

    verdicts = access.claim_verdicts(claim)
    same(verdicts, list(claim.verdicts.order_by("pk")))
    assert [v.analyst.get_username() for v in verdicts] == ["carol", "bob"]
    assert verdicts[0].after_seeing_team is False and verdicts[1].status == ""
    citations = access.claim_citations(claim)
    assert citations
    same(citations, list(claim.citations.all()))
    evidence = access.claim_evidence(claim)
    same(evidence, list(claim.evidence.filter(removed_at__isnull=True)))
    assert [e.added_by.get_username() for e in evidence] == ["bob", "carol"]
    assert [e.url for e in access.claim_evidence(claim, added_by=carol)] == [
        "https://example.org/b"
    ]


def test_the_claims_events_are_the_orms(claim: Claim, bob: Any, carol: Any, rita: Any) -> None:
    following = claim.next_in_sentence()
    assert following is not None
    claim.set_verdict(bob, "supported")
    following.set_verdict(carol, "disputed")
    claim.add_evidence(carol, url="https://example.org/c", stance="context")
    merged = claim.merge_next(rita, expected_version=claim.version)
    events = AuditEvent.objects.filter(Q(claim_id=merged.pk) | Q(other_claim_id=merged.pk))
    for actor, limit in ((None, 10), (None, 2), (carol, 10)):
        wanted = events if actor is None else events.filter(actor=actor)
        found = access.claim_events(merged, limit=limit, actor=actor)
        assert [(e.seq, e.body, e.claim_id, e.article_id) for e in found] == list(
            wanted.order_by("-seq").values_list("seq", "body", "claim_id", "article_id")[:limit]
        )
    assert {e.action for e in events} >= {"verdict.set", "evidence.added", "claim.merged"}


def test_sessions_and_users_are_read_as_django_reads_them(bob: Any) -> None:
    client = client_for(bob)
    key = client.cookies["sessionid"].value
    ours, djangos = access.SessionStore(key), DjangoSessionStore(key)
    assert ours.load() == djangos.load() and ours.load()["_auth_user_id"] == str(bob.pk)
    assert access.SessionStore("no-such-session-key-0123456789").load() == {}
    assert access.SessionStore(None).load() == {}
    ours.set_expiry(-10)  # expired: gone, as for Django's own store
    ours.save()
    assert access.SessionStore(key).load() == {} == DjangoSessionStore(key).load()
    backend = access.UserBackend()
    user = backend.get_user(bob.pk)
    assert (user.pk, user.get_username(), user.password) == (bob.pk, "bob", bob.password)
    assert user.get_session_auth_hash() == bob.get_session_auth_hash()
    bob.is_active = False
    bob.save()
    assert backend.get_user(bob.pk) is None and backend.get_user(10**6) is None


def test_a_session_ends_everywhere_at_log_out(bob: Any) -> None:
    browser, other_tab = client_for(bob), Client()
    other_tab.cookies["sessionid"] = browser.cookies["sessionid"].value
    assert other_tab.get(reverse("project-list")).status_code == 200
    browser.post("/logout/")
    assert other_tab.get(reverse("project-list")).status_code == 302
    assert get_user_model().objects.filter(pk=bob.pk).exists()


# The widget cache of the form renderer ----------------------------------------------------


def through_templates(monkeypatch: Any) -> list[str]:
    """The names of the templates rendered from now on, instead of taken from the cache."""
    rendered: list[str] = []
    render = BaseRenderer.render
    monkeypatch.setattr(
        BaseRenderer,
        "render",
        lambda self, name, *args, **kw: rendered.append(name) or render(self, name, *args, **kw),
    )
    return rendered


def test_widgets_render_the_same_from_the_cache(monkeypatch: Any) -> None:
    renderer = FormRenderer()

    def buttons(status: str, version: int) -> str:
        form = VerdictForm(initial={"status": status, "version": version}, renderer=renderer)
        return str(form["status"]) + str(form["rationale"])

    first = buttons("supported", 1)
    rendered = through_templates(monkeypatch)
    assert buttons("supported", 1) == first
    assert rendered == []  # the same widgets again: from the cache
    assert html(first).select("button", value="supported", aria_pressed="true")
    other = buttons("disputed", 1)
    assert other != first
    assert html(other).select("button", value="disputed", aria_pressed="true")
    context = {"widget": {"name": "x", "value": None, "attrs": {"required": True}}}
    template = "django/forms/widgets/attrs.html"
    assert renderer.render(template, context).strip() == "required"
    one = {"widget": {"name": "x", "value": None, "attrs": {"required": 1}}}
    assert renderer.render(template, one).strip() == 'required="1"'
    one_point_o = {"widget": {"name": "x", "value": None, "attrs": {"required": 1.0}}}
    assert renderer.render(template, one_point_o).strip() == 'required="1.0"'
    safe = {"widget": {"name": "x", "value": None, "attrs": {"title": SafeString("<b>")}}}
    plain = {"widget": {"name": "x", "value": None, "attrs": {"title": "<b>"}}}
    assert renderer.render(template, safe) != renderer.render(template, plain)


def test_a_select_with_a_lazy_label_renders_from_the_cache(monkeypatch: Any) -> None:
    """The evidence form's stance list starts with Django's lazily translated blank choice:
    its markup is kept like any other's, and written with the label as it reads now."""
    renderer = FormRenderer()

    def stance() -> str:
        return str(EvidenceForm(renderer=renderer)["stance"])

    (_blank, label), *_choices = EvidenceForm()["stance"].field.choices
    assert isinstance(label, Promise)

    first = stance()
    rendered = through_templates(monkeypatch)
    assert stance() == first
    assert rendered == []
    (blank,) = html(first).select("option", value="")
    assert blank.content() == str(label)
    lazy = {"widget": {"name": "x", "value": None, "attrs": {"title": gettext_lazy("<b>")}}}
    plain = {"widget": {"name": "x", "value": None, "attrs": {"title": "<b>"}}}
    template = "django/forms/widgets/attrs.html"
    assert renderer.render(template, lazy) == renderer.render(template, plain)
    safe = {"widget": {"name": "x", "value": None, "attrs": {"title": lazy_safe("<b>")}}}
    assert renderer.render(template, safe) != renderer.render(template, plain)


# PostgreSQL: a pooled connection is checked without a round trip --------------------------


PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_an_idle_pooled_connection_is_asked_only_when_the_server_spoke(monkeypatch: Any) -> None:
    import psycopg
    from psycopg_pool import ConnectionPool

    from claims.settings import idle_connection_usable

    asked: list[Any] = []
    real_check = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection", lambda conn: asked.append(conn))
    with psycopg.connect(PG_SERVER, autocommit=True) as pooled:
        idle_connection_usable(pooled)
        assert asked == []  # healthy and idle: no round trip
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pooled.info.backend_pid])
        waiting = select.poll()
        waiting.register(pooled.fileno(), select.POLLIN)
        assert waiting.poll(5000)  # the server said why, and hung up
        idle_connection_usable(pooled)
        assert asked == [pooled]
        monkeypatch.setattr(ConnectionPool, "check_connection", real_check)
        with pytest.raises(psycopg.OperationalError):
            idle_connection_usable(pooled)  # so the pool drops it, and opens another
