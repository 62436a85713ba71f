"""``claims.rows.one``: the row a write verb starts from, read by a hand-written SELECT,
is the row the ORM reads, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims import rows
from claims.models import Adjudication, Claim, Evidence, Verdict


def fields_of(row: Any) -> list[Any]:
    return [getattr(row, f.attname) for f in type(row)._meta.concrete_fields]


def test_one_reads_the_row_the_orm_reads(claim: Claim, bob: Any, carol: Any, rita: Any) -> None:
    claim.set_verdict(bob, "outdated", as_of=dt.date(2022, 2, 24), rationale="Since then")
    claim.set_verdict(carol, "supported", recheck_by=dt.date(2030, 1, 1))
    claim.clear_verdict(carol, expected_version=1)
    claim.adjudicate(rita, "disputed", rationale="The sources disagree")
    token = uuid.uuid4()
    added = claim.add_evidence(
        bob, url="https://example.org/a", stance="supports", submission=token
    )

    for analyst in (bob, carol):
        with CaptureQueriesContext(connection) as queries:
            ours = rows.one(Verdict, claim=claim, analyst=analyst)
        assert len(queries) == 1
        theirs = Verdict.objects.get(claim=claim, analyst=analyst)
        assert ours is not None and fields_of(ours) == fields_of(theirs)
        assert ours._state.db == "default" and not ours._state.adding  # saved as it was read

    adjudication = rows.one(Adjudication, claim=claim)
    assert adjudication is not None
    assert fields_of(adjudication) == fields_of(Adjudication.objects.get(claim=claim))

    # A UUID, as each database stores it; ids work as well as instances.
    evidence = rows.one(Evidence, claim=claim.pk, added_by=bob.pk, submission=token)
    assert evidence is not None and evidence.pk == added.pk
    assert fields_of(evidence) == fields_of(Evidence.objects.get(pk=added.pk))
    assert evidence.submission == token


def test_one_finds_nothing_as_first_does(claim: Claim, bob: Any, victor: Any) -> None:
    assert rows.one(Verdict, claim=claim, analyst=victor) is None
    assert rows.one(Evidence, claim=claim, added_by=bob, submission=uuid.uuid4()) is None
    assert rows.one(Adjudication, claim=claim) is None


def test_one_refuses_what_is_not_a_unique_key_or_a_column(
    claim: Claim, bob: Any, carol: Any
) -> None:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    with pytest.raises(ValueError, match="not a unique key"):
        rows.one(Verdict, claim=claim)
    with pytest.raises(TypeError, match="not a column"):
        rows.one(Claim, verdicts=1)
