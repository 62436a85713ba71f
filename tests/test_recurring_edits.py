"""Claims that a reviewer's edit makes or rewords (a split, a merge, an unmerge, a span
correction, and the reverts that make them) are indexed and proposed as the same claim
elsewhere, as imported claims are: in the edit's transaction, beside its one event. And
``manage.py reindex_recurring`` rebuilds the index and the proposals of existing data."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.utils import timezone

from claims.log.revert import plan
from claims.models import (
    Article,
    AuditEvent,
    Claim,
    ClaimLink,
    ClaimTerm,
    LinkState,
    Member,
    Project,
    Role,
)
from claims.revising import apply_revision, prepare_revision, unlink
from tests.factories import make_article

ENERGY = (
    "Energy Notes\n\n"
    "Russia has joined forces with Saudi Arabia to curtail the oil output through the OPEC+ "
    "mechanism. Trade between the two countries grew last year.\n"
)
# One claim that says two things: its second half is the energy article's first claim.
MIXED = (
    "Mixed Notes\n\n"
    "Wheat harvests in Kansas were larger than expected this summer as Russia has teamed up "
    "with Saudi Arabia to restrict oil production through the OPEC+ mechanism.\n"
)
# Two claims of one sentence, which a merge makes one.
HALVES = (
    "Half Notes\n\n"
    "Russia has teamed up with Saudi Arabia, and it restricts oil production through "
    "the OPEC+ mechanism.\n"
)


@pytest.fixture
def energy(project: Project, alice: Any) -> Claim:
    article = make_article(project, ENERGY, filename="energy.txt", actor=alice)
    claim: Claim = article.claims.order_by("start").first()
    return claim


def only_claim(article: Article, project: Project) -> Claim:
    (claim,) = article.claims.order_by("start")
    claim.article.project = project
    return claim


def links_of(claim: Claim) -> set[tuple[int, str]]:
    found = ClaimLink.objects.filter(Q(claim_a=claim) | Q(claim_b=claim))
    return {(link.other(claim.pk), link.state) for link in found}


def indexed(claim: Claim) -> set[str]:
    return set(ClaimTerm.objects.filter(claim=claim).values_list("term", flat=True))


def actions_since(project: Project, seq: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(chain__project=project, seq__gt=seq)
        .order_by("seq")
        .values_list("action", flat=True)
    )


def last_seq(project: Project) -> int:
    return AuditEvent.objects.filter(chain__project=project).order_by("-seq")[0].seq


def test_a_split_indexes_and_proposes_its_new_part_in_its_one_event(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    mixed = only_claim(make_article(project, MIXED, filename="mixed.txt", actor=alice), project)
    before = last_seq(project)
    left, right = mixed.split(
        rita, at=mixed.start + mixed.text.index(" as ") + 1, expected_version=1
    )
    assert actions_since(project, before) == ["claim.split"]
    assert "Russia has teamed up" in right.text and "Kansas" in left.text
    assert {"saudi", "opec"} <= indexed(right) and "saudi" not in indexed(left)
    assert (energy.pk, LinkState.PROPOSED) in links_of(right)
    # The wheat half says nothing about oil: no proposal of the whole claim is left on it.
    assert links_of(left) == set()


def test_a_span_correction_reindexes_the_claim_and_its_revert_too(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    mixed = only_claim(make_article(project, MIXED, filename="mixed.txt", actor=alice), project)
    wheat_end = mixed.start + mixed.text.index(" as ")
    claim = mixed.correct_span(rita, start=mixed.start, end=wheat_end, expected_version=1)
    assert "saudi" not in indexed(claim) and "wheat" in indexed(claim)
    assert links_of(claim) == set()
    oil_start = mixed.start + mixed.text.index("Russia")
    claim = claim.correct_span(rita, start=oil_start, end=mixed.end, expected_version=2)
    assert "saudi" in indexed(claim) and "wheat" not in indexed(claim)
    assert (energy.pk, LinkState.PROPOSED) in links_of(claim)
    # Reverting that correction brings back the wheat words, and only them.
    event = AuditEvent.objects.filter(action="claim.span_corrected").order_by("-seq")[0]
    planned = plan(project, event)
    planned.apply(Member(rita, project, Role.REVIEWER), planned.version)
    assert "wheat" in indexed(claim) and "saudi" not in indexed(claim)
    assert links_of(claim) == set()


def test_a_decided_link_outlives_a_span_correction(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    mixed = only_claim(make_article(project, MIXED, filename="mixed.txt", actor=alice), project)
    oil_start = mixed.start + mixed.text.index("Russia")
    claim = mixed.correct_span(rita, start=oil_start, end=mixed.end, expected_version=1)
    link = ClaimLink.objects.get(claim_a=energy, claim_b=claim)
    link.decide(rita, LinkState.CONFIRMED, expected_version=0)
    claim.correct_span(rita, start=mixed.start, end=mixed.end, expected_version=2)
    link.refresh_from_db()
    assert link.state == LinkState.CONFIRMED


def test_a_merge_and_its_unmerge_index_the_claims_they_make(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    article = make_article(project, HALVES, filename="halves.txt", actor=alice)
    first, second = article.claims.order_by("start")
    first.article.project = project
    assert "produ" in indexed(second) and "produ" not in indexed(first)
    before = last_seq(project)
    merged = first.merge_next(rita, expected_version=1)
    assert actions_since(project, before) == ["claim.merged"]
    assert {"saudi", "produ", "opec"} <= indexed(merged)
    assert not ClaimTerm.objects.filter(claim_id=second.pk).exists()  # gone with its claim
    assert (energy.pk, LinkState.PROPOSED) in links_of(merged)
    # Reverting the merge makes the second part a claim again, indexed as such.
    event = AuditEvent.objects.get(action="claim.merged")
    planned = plan(project, event)
    right = planned.apply(Member(rita, project, Role.REVIEWER), planned.version)
    assert isinstance(right, Claim) and actions_since(project, before)[-1] == "claim.unmerged"
    merged.refresh_from_db()
    assert "produ" in indexed(right) and "produ" not in indexed(merged)
    assert "saudi" in indexed(merged)


def test_reverting_a_split_merges_the_words_back(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    mixed = only_claim(make_article(project, MIXED, filename="mixed.txt", actor=alice), project)
    left, right = mixed.split(
        rita, at=mixed.start + mixed.text.index(" as ") + 1, expected_version=1
    )
    event = AuditEvent.objects.get(action="claim.split")
    planned = plan(project, event)
    whole = planned.apply(Member(rita, project, Role.REVIEWER), planned.version)
    assert isinstance(whole, Claim) and {"wheat", "saudi"} <= indexed(whole)
    assert not Claim.objects.filter(pk=right.pk).exists()
    assert not ClaimTerm.objects.filter(claim_id=right.pk).exists()


def test_a_refused_edit_changes_no_index_row(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    mixed = only_claim(make_article(project, MIXED, filename="mixed.txt", actor=alice), project)
    terms = sorted(ClaimTerm.objects.values_list("claim_id", "term"))
    links = sorted(ClaimLink.objects.values_list("claim_a_id", "claim_b_id", "state"))
    with pytest.raises(ValidationError, match="paragraph"):
        mixed.correct_span(rita, start=0, end=mixed.end, expected_version=1)
    assert sorted(ClaimTerm.objects.values_list("claim_id", "term")) == terms
    assert sorted(ClaimLink.objects.values_list("claim_a_id", "claim_b_id", "state")) == links


# manage.py reindex_recurring ---------------------------------------------------------------


def reindex(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("reindex_recurring", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def index_rows() -> list[tuple[int, str]]:
    return sorted(ClaimTerm.objects.values_list("claim_id", "term"))


def link_rows() -> list[tuple[Any, ...]]:
    fields = ("pk", "claim_a_id", "claim_b_id", "state", "version", "score")
    return sorted(ClaimLink.objects.values_list(*fields))


def test_the_backfill_rebuilds_a_lost_index_and_its_proposals(
    project: Project, energy: Claim, alice: Any
) -> None:
    make_article(project, MIXED, filename="mixed.txt", actor=alice)
    make_article(project, HALVES.replace("Half", "Oil"), filename="oil.txt", actor=alice)
    terms, proposed = index_rows(), {(a, b) for _pk, a, b, *_ in link_rows()}
    assert proposed
    # Data from before the index: no words, no proposals.
    ClaimTerm.objects.all().delete()
    ClaimLink.objects.all().delete()
    before = AuditEvent.objects.count()
    out, err = reindex()
    assert index_rows() == terms
    assert proposed <= {(a, b) for _pk, a, b, *_ in link_rows()}
    assert AuditEvent.objects.count() == before  # derived data: no event
    assert f"Reindexing {project.slug}: done, 6/6 steps" in err  # the progress bar
    assert f"{project.slug}: 3 articles" in out


def test_the_backfill_is_idempotent_and_leaves_decided_links_alone(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    mixed = only_claim(make_article(project, MIXED, filename="mixed.txt", actor=alice), project)
    oil_start = mixed.start + mixed.text.index("Russia")
    claim = mixed.correct_span(rita, start=oil_start, end=mixed.end, expected_version=1)
    ClaimLink.objects.get(claim_a=energy, claim_b=claim).decide(
        rita, LinkState.REJECTED, expected_version=0
    )
    reindex("--project", project.slug)
    terms, links = index_rows(), link_rows()
    reindex("--project", project.slug)
    assert (index_rows(), link_rows()) == (terms, links)
    (rejected,) = ClaimLink.objects.filter(claim_a=energy, claim_b=claim)
    assert (rejected.state, rejected.version, rejected.decided_by) == ("rejected", 1, rita)


def test_the_backfill_removes_proposals_nobody_decided_that_would_not_be_made_today(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    """Stale proposals (a pair that no longer scores, a claim retired) go; a real one, and
    links a reviewer decided or reopened, stay. No event: proposals are derived data."""
    text = ENERGY.replace("joined forces", "teamed up")
    oil = make_article(project, text, filename="oil.txt", actor=alice).claims.order_by("start")[0]
    trade = energy.article.claims.order_by("start")[1]
    first, second = make_article(
        project, HALVES, filename="halves.txt", actor=alice
    ).claims.order_by("start")
    real = link_rows()
    assert real  # energy ~ oil
    junk = ClaimLink.objects.create(claim_a=trade, claim_b=first, score=90)
    reopened = ClaimLink.objects.create(claim_a=trade, claim_b=second, score=90, version=2)
    rejected = ClaimLink.objects.create(
        claim_a=first,
        claim_b=second,
        score=90,
        state=LinkState.REJECTED,
        version=1,
        decided_by=rita,
        decided_at=timezone.now(),
    )
    before = AuditEvent.objects.count()
    out, _err = reindex("--project", project.slug)
    assert not ClaimLink.objects.filter(pk=junk.pk).exists()
    assert {reopened.pk, rejected.pk} <= set(ClaimLink.objects.values_list("pk", flat=True))
    assert set(real) <= set(link_rows())
    assert "1 stale proposals removed" in out
    assert AuditEvent.objects.count() == before
    # A claim retired since: its open proposals go too, on the next run.
    Claim.objects.filter(pk=oil.pk).update(retired_in=1)
    reindex("--project", project.slug)
    assert not ClaimLink.objects.filter(Q(claim_a=oil) | Q(claim_b=oil), state="proposed").exists()


def test_the_backfill_forgets_words_of_retired_claims(
    project: Project, energy: Claim, alice: Any
) -> None:
    ClaimTerm.objects.create(project=project, article=energy.article, claim=energy, term="zzz")
    Claim.objects.filter(pk=energy.pk).update(retired_in=1)
    reindex("--project", project.slug)
    assert not ClaimTerm.objects.filter(claim=energy).exists()


def test_the_backfill_of_an_unknown_project_is_refused(project: Project) -> None:
    with pytest.raises(CommandError, match="No project nope"):
        reindex("--project", "nope")


def test_the_backfill_covers_every_project(project: Project, alice: Any) -> None:
    other = Project.create("other", "Other", admin=alice)
    make_article(project, ENERGY, filename="energy.txt", actor=alice)
    make_article(other, MIXED, filename="mixed.txt", actor=alice)
    ClaimTerm.objects.all().delete()
    out, _err = reindex()
    assert {json.dumps(p) for p in ClaimTerm.objects.values_list("project_id").distinct()} == {
        json.dumps([project.pk]),
        json.dumps([other.pk]),
    }
    assert "other: 1 articles" in out


def test_unlinking_and_relinking_move_the_words_to_the_current_claim(
    project: Project, energy: Claim, alice: Any, rita: Any
) -> None:
    oil = make_article(project, MIXED, filename="mixed.txt", actor=alice)
    revised = MIXED.replace("larger than expected", "far larger than anyone expected")
    apply_revision(prepare_revision(oil, revised.encode(), filename="mixed-2.txt"), actor=alice)
    edited = Claim.objects.get(article=oil, revised_in=2)
    edited.article.project = project
    fresh = unlink(edited, rita, expected_version=edited.version)
    assert "saudi" in indexed(fresh)
    assert not ClaimTerm.objects.filter(claim_id=edited.pk).exists()  # retired: no words
    assert (energy.pk, LinkState.PROPOSED) in links_of(fresh)
    planned = plan(project, AuditEvent.objects.get(action="claim.unlinked"))
    planned.apply(rita, planned.version)  # links them again: the old claim is current
    assert "saudi" in indexed(edited) and not ClaimTerm.objects.filter(claim=fresh).exists()
    assert (energy.pk, LinkState.PROPOSED) in links_of(edited)
