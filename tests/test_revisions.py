"""Revising an article: the new text aligned with the current claims, stored as one event
that the fold reproduces; what carries over, what is retired, what is refused."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from claims.importer import ImportRejected
from claims.log import revert, signing, verify_export
from claims.log.export import start_export
from claims.log.integrity import snapshot, table_rows
from claims.models import (
    Article,
    ArticleVersion,
    AuditEvent,
    Block,
    Citation,
    Claim,
    Conflict,
    Project,
    Verdict,
)
from claims.revising import StaleRevision, apply_revision, link, prepare_revision, unlink
from tests.factories import SAMPLE_PATH, make_article
from tests.test_fold import folded

DATA = Path(__file__).parent / "data"
REVISIONS = DATA / "revisions"


def gold(name: str) -> dict[str, Any]:
    return json.loads((REVISIONS / f"{name}.gold.json").read_text(encoding="utf-8"))


def revised(name: str) -> bytes:
    return (REVISIONS / f"{name}.txt").read_bytes()


def ordered(article: Article) -> list[Claim]:
    return list(Claim.objects.filter(article=article).order_by("start"))


@pytest.fixture
def article(project: Project, alice: Any) -> Article:
    """The sample article, which the revisions in tests/data/revisions revise."""
    return make_article(project, SAMPLE_PATH.read_bytes(), actor=alice)


def test_the_preview_stores_nothing_and_counts_what_the_gold_says(article: Article) -> None:
    events = AuditEvent.objects.count()
    revision = prepare_revision(article, revised("china-brief.r2-update"), filename="r2.txt")
    expected = gold("china-brief.r2-update")
    assert revision.counts == {kind: len(expected[kind]) for kind in revision.counts}
    assert AuditEvent.objects.count() == events
    assert ArticleVersion.objects.filter(article=article).count() == 1
    article.refresh_from_db()
    assert article.version == 1


def test_a_revision_carries_verdicts_to_the_same_claims_and_retires_the_removed(
    article: Article, alice: Any, bob: Any
) -> None:
    expected = gold("china-brief.r2-update")
    old = ordered(article)
    by_gold = {e["old"]: e["new"] for kind in ("unchanged", "edited") for e in expected[kind]}
    removed = [old[e["old"]] for e in expected["removed"]]
    edited = [old[e["old"]] for e in expected["edited"]]
    for claim in old:
        claim.set_verdict(bob, "supported", rationale=f"claim {claim.pk}")
    revision = prepare_revision(article, revised("china-brief.r2-update"), filename="r2.txt")
    events = AuditEvent.objects.count()

    apply_revision(revision, actor=alice)

    assert AuditEvent.objects.count() == events + 1
    article.refresh_from_db()
    assert article.version == 2
    assert article.text == revised("china-brief.r2-update").decode("utf-8")
    new = ordered(article)
    assert len(new) == expected["new"]["claims"]
    # Every carried verdict sits on the claim the gold says it became.
    for index, claim in enumerate(old):
        if index in by_gold:
            target = new[by_gold[index]]
            assert target.pk == claim.pk
            assert target.verdicts.get().rationale == f"claim {claim.pk}"
    for claim in removed:
        retired = Claim.all_objects.get(pk=claim.pk)
        assert retired.retired_in == 2
        assert retired.verdicts.get().rationale == f"claim {claim.pk}"  # kept, for history
    for claim in edited:
        carried = Claim.objects.get(pk=claim.pk)
        assert carried.revised_in == 2
        assert carried.wording_before == claim.text
        assert carried.version == claim.version + 1
        assert carried.text != claim.text
    # Added claims are new rows without verdicts. Numbers never shift: carried claims keep
    # theirs, added ones take the next free numbers in text order.
    numbers = {c.pk: c.ordinal for c in old}
    fresh = [c for c in new if c.pk not in numbers]
    assert len(fresh) == len(expected["added"])
    assert not any(c.verdicts.exists() for c in fresh)
    assert all(c.ordinal == numbers[c.pk] for c in new if c.pk in numbers)
    assert [c.ordinal for c in fresh] == list(range(len(old) + 1, len(old) + 1 + len(fresh)))
    # Blocks and citations: the current ones are the new text's, the old ones retired.
    assert set(Block.objects.filter(article=article).values_list("version", flat=True)) == {2}
    assert Block.all_objects.filter(article=article, retired_in=2).count() > 0
    assert set(Citation.objects.filter(article=article).values_list("version", flat=True)) == {2}
    assert list(article.versions.values_list("number", flat=True)) == [1, 2]


def test_the_fold_reproduces_the_database_after_a_revision(
    article: Article, project: Project, alice: Any, bob: Any
) -> None:
    for claim in ordered(article)[:10]:
        claim.set_verdict(bob, "disputed")
    apply_revision(
        prepare_revision(article, revised("china-brief.r3-restructure"), filename="r3.txt"),
        actor=alice,
    )
    assert table_rows(folded(project)) == table_rows(snapshot(project))
    body = json.loads(AuditEvent.objects.filter(action="article.revised").get().body)
    assert body["before"]["version"] == 1
    assert body["after"]["version"] == 2
    assert {"unchanged", "edited", "removed", "added"} <= set(body["after"])


def test_the_same_text_again_changes_nothing_and_says_so(article: Article, alice: Any) -> None:
    revision = prepare_revision(article, article.text.encode(), filename="same.txt")
    assert revision.identical
    assert revision.counts["unchanged"] == Claim.objects.filter(article=article).count()
    events = AuditEvent.objects.count()
    with pytest.raises(ImportRejected, match="current version: nothing to revise"):
        apply_revision(revision, actor=alice)
    assert AuditEvent.objects.count() == events


def test_a_text_with_nothing_in_common_is_refused_unless_confirmed(
    article: Article, alice: Any
) -> None:
    other = (DATA / "corpus" / "oped-sanctions.txt").read_bytes()
    revision = prepare_revision(article, other, filename="other.txt")
    assert revision.unrelated
    events = AuditEvent.objects.count()
    with pytest.raises(ImportRejected, match="no claim in common"):
        apply_revision(revision, actor=alice)
    assert AuditEvent.objects.count() == events
    apply_revision(revision, actor=alice, unrelated_ok=True)
    assert Claim.objects.filter(article=article, retired_in__isnull=True).count() == len(
        revision.new
    )


def test_a_preview_made_before_another_change_is_refused(
    article: Article, alice: Any, rita: Any
) -> None:
    revision = prepare_revision(article, revised("china-brief.r1-copyedit"), filename="r1.txt")
    claim = next(c for c in ordered(article) if c.next_in_sentence())
    claim.split(rita, at=claim.start + (claim.end - claim.start) // 2, expected_version=1)
    events = AuditEvent.objects.count()
    with pytest.raises(StaleRevision, match="preview the revision again"):
        apply_revision(revision, actor=alice)
    assert AuditEvent.objects.count() == events


def test_only_an_admin_revises(article: Article, bob: Any, rita: Any) -> None:
    revision = prepare_revision(article, revised("china-brief.r1-copyedit"), filename="r1.txt")
    for who in (bob, rita):
        with pytest.raises(PermissionDenied):
            apply_revision(revision, actor=who)
    assert not AuditEvent.objects.filter(action="article.revised").exists()


# ------------------------------------------------------------------------------ command


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("import_article", *args, stdout=out)
    return out.getvalue()


def test_the_command_shows_the_alignment_then_applies_it(article: Article) -> None:
    path = str(REVISIONS / "china-brief.r1-copyedit.txt")
    dry = _command(path, "--revises", str(article.pk), "--dry-run")
    expected = gold("china-brief.r1-copyedit")
    counts = {kind: len(expected[kind]) for kind in ("unchanged", "edited", "removed", "added")}
    assert (
        f"Alignment with version 1: {counts['unchanged']} unchanged, {counts['edited']} "
        f"edited, {counts['removed']} removed, {counts['added']} added." in dry
    )
    assert "Dry run: nothing was stored." in dry
    assert not AuditEvent.objects.filter(action="article.revised").exists()

    out = _command(path, "--revises", str(article.pk))
    assert f"Revised article {article.pk}" in out and "to version 2." in out
    assert AuditEvent.objects.filter(action="article.revised").count() == 1
    again = _command(path, "--revises", str(article.pk))
    assert "current version: nothing changed" in again
    assert AuditEvent.objects.filter(action="article.revised").count() == 1


def test_the_command_refuses_an_unknown_article_and_an_unrelated_text(article: Article) -> None:
    with pytest.raises(CommandError, match="There is no article 999 to revise"):
        _command(str(REVISIONS / "china-brief.r1-copyedit.txt"), "--revises", "999")
    other = str(DATA / "corpus" / "oped-sanctions.txt")
    with pytest.raises(CommandError, match="no claim in common"):
        _command(other, "--revises", str(article.pk))
    assert not AuditEvent.objects.filter(action="article.revised").exists()
    assert "to version 2." in _command(other, "--revises", str(article.pk), "--unrelated")


# ------------------------------------------------------------------ correcting the alignment


def _revised(article: Article, alice: Any, name: str = "china-brief.r2-update") -> None:
    apply_revision(prepare_revision(article, revised(name), filename=f"{name}.txt"), actor=alice)
    article.refresh_from_db()


def test_a_reviewer_unlinks_a_wrong_edit_and_reverting_links_it_again(
    article: Article, project: Project, alice: Any, bob: Any, rita: Any
) -> None:
    old = ordered(article)
    for claim in old:
        claim.set_verdict(bob, "supported")
    _revised(article, alice)
    edited = Claim.objects.filter(article=article, revised_in=2).order_by("start").first()
    assert edited is not None
    span = (edited.start, edited.end)
    events = AuditEvent.objects.count()

    fresh = unlink(edited, rita, expected_version=edited.version)

    assert AuditEvent.objects.count() == events + 1
    assert Claim.all_objects.get(pk=edited.pk).retired_in == 2
    assert (fresh.start, fresh.end) == span
    top = max(Claim.all_objects.filter(article=article).values_list("ordinal", flat=True))
    assert fresh.ordinal == top  # a new number; the unlinked claim keeps its own
    assert not fresh.verdicts.exists()  # the verdicts stay with the claim they were given on
    assert Claim.all_objects.get(pk=edited.pk).verdicts.get().status == "supported"
    assert table_rows(folded(project)) == table_rows(snapshot(project))

    event = AuditEvent.objects.get(action="claim.unlinked")
    planned = revert.plan(project, event)
    assert not planned.changed_since
    planned.apply(rita, planned.version)
    back = Claim.objects.get(pk=edited.pk)
    assert (back.start, back.end, back.retired_in) == (*span, None)
    assert back.verdicts.get().status == "supported"
    assert Claim.all_objects.get(pk=fresh.pk).retired_in == 2
    (relinked,) = AuditEvent.objects.filter(action="claim.linked")
    assert json.loads(relinked.body)["reverts"] == event.seq
    assert table_rows(folded(project)) == table_rows(snapshot(project))


def test_a_reviewer_links_a_removed_claim_to_the_added_one_it_became(
    article: Article, project: Project, alice: Any, bob: Any, rita: Any
) -> None:
    for claim in ordered(article):
        claim.set_verdict(bob, "disputed")
    _revised(article, alice)
    removed = Claim.all_objects.filter(article=article, retired_in=2).order_by("start").first()
    added = Claim.objects.filter(article=article, verdicts__isnull=True).order_by("start").first()
    assert removed is not None and added is not None
    wording = removed.text

    back = link(added, removed, rita, expected_version=added.version)

    assert back.pk == removed.pk
    assert (back.start, back.end, back.retired_in) == (added.start, added.end, None)
    assert back.revised_in == 2 and back.wording_before == wording
    assert back.verdicts.get().status == "disputed"
    assert Claim.all_objects.get(pk=added.pk).retired_in == 2
    assert table_rows(folded(project)) == table_rows(snapshot(project))
    # Reverting unlinks them again: the removed claim retired, a fresh claim in its place.
    planned = revert.plan(project, AuditEvent.objects.get(action="claim.linked"))
    planned.apply(rita, planned.version)
    assert Claim.all_objects.get(pk=removed.pk).retired_in == 2
    assert table_rows(folded(project)) == table_rows(snapshot(project))


def test_link_and_unlink_refuse_what_they_cannot_do_and_write_nothing(
    article: Article, alice: Any, bob: Any, rita: Any
) -> None:
    _revised(article, alice)
    unchanged = Claim.objects.filter(article=article, revised_in__isnull=True).first()
    removed = Claim.all_objects.filter(article=article, retired_in=2).first()
    added = Claim.objects.filter(article=article, verdicts__isnull=True).last()
    assert unchanged is not None and removed is not None and added is not None
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="Only a claim the latest revision edited"):
        unlink(unchanged, rita, expected_version=unchanged.version)
    with pytest.raises(ValidationError, match="Only a claim the latest revision removed"):
        link(added, unchanged, rita, expected_version=added.version)
    unchanged.set_verdict(bob, "supported")
    with pytest.raises(ValidationError, match="verdicts or evidence of its own"):
        link(unchanged, removed, rita, expected_version=unchanged.version)
    with pytest.raises(PermissionDenied):
        link(added, removed, bob, expected_version=added.version)
    with pytest.raises(Conflict):
        link(added, removed, rita, expected_version=added.version + 5)
    assert AuditEvent.objects.count() == events + 1  # bob's verdict only


def test_a_signed_export_of_a_revised_article_verifies(
    article: Article, project: Project, alice: Any, rita: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv(signing.ENV_KEY, base64.b64encode(raw).decode("ascii"))
    monkeypatch.delenv(signing.ENV_KEY_FILE, raising=False)
    _revised(article, alice)
    edited = Claim.objects.filter(article=article, revised_in=2).first()
    assert edited is not None
    unlink(edited, rita, expected_version=edited.version)
    export = start_export(project, "jsonl", None, actor=None)
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(export.chunks), encoding="utf-8", newline="")
    public = tmp_path / "public.pem"
    public.write_text(signing.public_key_pem(key))
    assert verify_export.main([str(path), "--public-key", str(public)]) == 0
    exported = path.read_text(encoding="utf-8")
    assert "article.revised" in exported and "claim.unlinked" in exported


def test_annotations_name_the_text_each_claim_stood_in(
    article: Article, project: Project, alice: Any, bob: Any
) -> None:
    first_sha, words = article.sha256, {c.pk: c.text for c in ordered(article)}
    for claim in ordered(article):
        claim.set_verdict(bob, "supported")
    _revised(article, alice)
    export = start_export(project, "annotations", None, actor=None)
    items = json.loads("".join(export.chunks))["first"]["items"]
    by_claim = {int(i["id"].rsplit(":", 1)[1]): i for i in items}
    verdicts = {v.pk: v.claim_id for v in Verdict.objects.filter(analyst=bob)}
    retired = set(
        Claim.all_objects.filter(article=article, retired_in=2).values_list("pk", flat=True)
    )
    assert retired
    for verdict_id, item in by_claim.items():
        claim_id = verdicts[verdict_id]
        quote = item["target"]["selector"][0]["exact"]
        if claim_id in retired:
            assert item["target"]["source"] == f"urn:sha256:{first_sha}"
            assert quote == words[claim_id]
        else:
            assert item["target"]["source"] == f"urn:sha256:{article.sha256}"
            assert quote == Claim.objects.get(pk=claim_id).text
