"""Full-text search (claims/search.py over the index migration 0010 keeps): its syntax,
ranking, highlighting, hostile queries, blind review, and writes that bypass the ORM."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection

from claims import search
from claims.models import Claim, Member, Project, Role, Stance
from tests.factories import make_article, make_project

CORPUS = """Energy Brief

Oil

Russia supplies most of the oil that China imports (Reuters, March 3, 2021). \
Pipelines carry Russian gas to Chinese cities every winter. \
The Power of Siberia pipeline carries gas, gas and more gas to China.

Exercises

The Zapad exercise drew troops from both armies. \
Tanks rolled past the border without incident. \
Naval drills near Vladivostok worried Japanese planners.
"""


@pytest.fixture
def corpus(project: Project, alice: Any) -> dict[str, Claim]:
    article = make_article(project, CORPUS, actor=alice)
    claims = Claim.objects.with_text().filter(article=article)
    return {claim.text.split()[0].lower() + str(i): claim for i, claim in enumerate(claims)}


def by_word(corpus: dict[str, Claim], word: str) -> Claim:
    (claim,) = [c for c in corpus.values() if word in c.text]
    return claim


def found(member: Member, text: str) -> list[int]:
    return [hit.claim_id for hit in search.search(member, search.parse(text))]


def test_every_word_must_match(corpus: dict[str, Claim], project: Project, bob: Any) -> None:
    me = Member(bob, project, Role.ANALYST)
    assert found(me, "gas China") == [by_word(corpus, "Power").pk]
    assert found(me, "tanks vladivostok") == []


def test_a_quoted_phrase_matches_as_written(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    me = Member(bob, project, Role.ANALYST)
    assert found(me, '"Zapad exercise"') == [by_word(corpus, "Zapad").pk]
    assert found(me, '"exercise Zapad"') == []


def test_or_takes_either(corpus: dict[str, Claim], project: Project, bob: Any) -> None:
    me = Member(bob, project, Role.ANALYST)
    expected = {by_word(corpus, "Tanks").pk, by_word(corpus, "Naval").pk}
    assert set(found(me, "tanks OR naval")) == expected
    assert set(found(me, "tanks or naval")) == expected


def test_a_minus_leaves_out(corpus: dict[str, Claim], project: Project, bob: Any) -> None:
    me = Member(bob, project, Role.ANALYST)
    assert found(me, "gas -siberia") == [by_word(corpus, "Pipelines").pk]
    assert found(me, 'gas -"power of siberia"') == [by_word(corpus, "Pipelines").pk]


def test_more_mentions_rank_higher(corpus: dict[str, Claim], project: Project, bob: Any) -> None:
    me = Member(bob, project, Role.ANALYST)
    hits = search.search(me, search.parse("gas"))
    assert [h.claim_id for h in hits] == [
        by_word(corpus, "Power").pk,
        by_word(corpus, "Pipelines").pk,
    ]
    assert hits[0].rank > hits[1].rank


def test_citations_are_searched(corpus: dict[str, Claim], project: Project, bob: Any) -> None:
    me = Member(bob, project, Role.ANALYST)
    supplies = by_word(corpus, "supplies")
    assert [c.outlet for c in supplies.citations.all()] == ["Reuters"]
    assert found(me, "reuters") == [supplies.pk]


def test_the_fragment_marks_the_words_and_escapes_the_rest(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    claim = by_word(corpus, "Tanks")
    note = 'Tanks & <img src=x onerror="alert(1)"> sounded the alarm'
    claim.add_evidence(bob, url="https://example.org/a", stance=Stance.SUPPORTS, note=note)
    me = Member(bob, project, Role.ANALYST)
    (hit,) = search.search(me, search.parse("alarm"))
    assert "<mark>alarm</mark>" in hit.fragment
    assert "<img" not in hit.fragment
    assert str(search.marked("a <b> \ue000c\ue001 \ue001")) == "a &lt;b&gt; <mark>c</mark> "


def test_the_query_is_read_once_for_both_databases() -> None:
    query = search.parse('russia "power of siberia" OR pipeline -tanks -"zapad exercise"')
    assert query.groups == (("russia",), ("power of siberia", "pipeline"))
    assert query.excluded == ("tanks", "zapad exercise")
    assert query.fts5() == (
        '(("russia") AND ("power of siberia" OR "pipeline")) NOT "tanks" NOT "zapad exercise"'
    )
    assert (
        query.websearch() == '"russia" "power of siberia" or "pipeline" -"tanks" -"zapad exercise"'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type a word"),
        ("   ", "Type a word"),
        ("* ( ) : ^", "Type a word"),
        ("OR", "Type a word"),
        ("-gas", "besides what to leave out"),
        ('-"power of siberia"', "besides what to leave out"),
    ],
)
def test_a_query_with_nothing_to_look_for_says_so(text: str, message: str) -> None:
    with pytest.raises(search.SearchError, match=message):
        search.parse(text)


HOSTILE = [
    '"',
    '""',
    '"gas',
    "gas)",
    "(gas",
    "NEAR(gas china)",
    "gas NEAR china",
    "gas*",
    "*gas",
    "content:gas",
    "{content}: gas",
    "gas AND",
    "AND gas",
    "gas NOT china",
    "^gas",
    "gas OR OR china",
    "gas -",
    "'; DROP TABLE claims_claim; --",
    "gas' OR '1'='1",
    "gas\\",
    "gas\x00china",
    "%gas%",
    "gas " * 150,
    "\ue000gas\ue001",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_query_gives_results_or_a_message(
    corpus: dict[str, Claim], project: Project, bob: Any, text: str
) -> None:
    me = Member(bob, project, Role.ANALYST)
    try:
        query = search.parse(text)
    except search.SearchError as error:
        assert str(error)
    else:
        hits = search.search(me, query)
        assert all(isinstance(hit.claim_id, int) for hit in hits)
        search.fragments(me, query, [hit.claim_id for hit in hits])
    assert Claim.objects.count() == len(corpus)


def test_an_operator_typed_is_a_word(corpus: dict[str, Claim], project: Project, bob: Any) -> None:
    me = Member(bob, project, Role.ANALYST)
    assert found(me, "gas*") == found(me, "gas")
    assert found(me, "content:tanks") == []  # "content tanks" is not in any claim
    assert found(me, "(tanks)") == [by_word(corpus, "Tanks").pk]


@pytest.fixture
def blind(project: Project) -> Project:
    Project.objects.filter(pk=project.pk).update(blind=True)
    project.refresh_from_db()
    return project


def test_a_blind_analyst_finds_only_their_own_work(
    corpus: dict[str, Claim], blind: Project, bob: Any, carol: Any, rita: Any
) -> None:
    claim = by_word(corpus, "Tanks")
    claim.set_verdict(bob, "disputed", rationale="Satellite imagery shows otherwise")
    claim.add_evidence(bob, url="https://example.org/b", stance=Stance.CONTRADICTS, quote="armour")
    bobs, carols = Member(bob, blind, Role.ANALYST), Member(carol, blind, Role.ANALYST)
    ritas = Member(rita, blind, Role.REVIEWER)
    assert found(bobs, "satellite") == found(bobs, "armour") == [claim.pk]
    assert found(ritas, "satellite") == found(ritas, "armour") == [claim.pk]
    assert found(carols, "satellite") == found(carols, "armour") == []
    assert found(carols, "tanks") == [claim.pk]  # the claim itself is no secret
    claim.set_verdict(carol, "supported", rationale="Confirmed by a drone")
    assert found(carols, "drone") == [claim.pk]
    assert found(carols, "satellite") == []
    assert found(bobs, "drone") == []
    assert found(Member(carol, blind, Role.REVIEWER), "satellite drone") == [claim.pk]


def test_an_open_project_searches_everyone_s_work(
    corpus: dict[str, Claim], project: Project, bob: Any, victor: Any
) -> None:
    claim = by_word(corpus, "Tanks")
    claim.set_verdict(bob, "disputed", rationale="Satellite imagery shows otherwise")
    assert found(Member(victor, project, Role.VIEWER), "satellite") == [claim.pk]


def test_another_project_s_claims_are_not_found(
    corpus: dict[str, Claim], project: Project, mallory: Any
) -> None:
    other = make_project("other", admin=mallory)
    make_article(other, CORPUS, actor=mallory)
    mine = Member(mallory, other, Role.ADMIN)
    assert found(mine, "tanks") != [by_word(corpus, "Tanks").pk]
    assert len(found(mine, "tanks")) == 1


def run(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_claim_written_in_raw_sql_is_searchable(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    naval = by_word(corpus, "Naval")
    run(
        'INSERT INTO claims_claim (article_id, block_id, ordinal, start, "end", section,'
        ' sentence, version, wording_before) SELECT article_id, block_id, 99, start, "end",'
        " section, sentence, 1, '' FROM claims_claim WHERE id = %s",
        [naval.pk],
    )
    copy = Claim.objects.get(ordinal=99)
    me = Member(bob, project, Role.ANALYST)
    assert set(found(me, "vladivostok")) == {naval.pk, copy.pk}
    run('UPDATE claims_claim SET "end" = start + 12 WHERE id = %s', [naval.pk])  # "Naval drills"
    assert found(me, "vladivostok") == [copy.pk]
    run("UPDATE claims_claim SET retired_in = 2 WHERE id = %s", [copy.pk])
    assert found(me, "vladivostok") == []
    supplies = by_word(corpus, "supplies")
    run("UPDATE claims_citation SET outlet = 'Interfax' WHERE outlet = 'Reuters'", [])
    assert found(me, "interfax") == [supplies.pk]
    run("DELETE FROM claims_claim_citations WHERE claim_id = %s", [supplies.pk])
    assert found(me, "interfax") == []


def test_evidence_written_in_raw_sql_is_searchable(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    claim = by_word(corpus, "Zapad")
    run(
        "INSERT INTO claims_evidence (claim_id, url, title, stance, quote, note, added_by_id,"
        " added_at) VALUES (%s, 'https://example.org/c', 'Manoeuvres report', 'supports', '',"
        " 'Thirteen thousand soldiers', %s, CURRENT_TIMESTAMP)",
        [claim.pk, bob.pk],
    )
    me = Member(bob, project, Role.ANALYST)
    assert found(me, "manoeuvres") == found(me, "soldiers") == [claim.pk]
    run("UPDATE claims_evidence SET note = 'Two hundred thousand' WHERE claim_id = %s", [claim.pk])
    assert found(me, "soldiers") == []
    assert found(me, '"two hundred thousand"') == [claim.pk]
    run("UPDATE claims_evidence SET removed_at = CURRENT_TIMESTAMP WHERE claim_id = %s", [claim.pk])
    assert found(me, "manoeuvres") == []


def test_a_paragraph_rewritten_in_sql_is_searched_as_rewritten(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    # A claim's words come from its paragraph (its block's own text).
    tanks = by_word(corpus, "Tanks")
    run(
        "UPDATE claims_block SET words = replace(words, 'Tanks rolled', 'Jeeps rolled')"
        " WHERE id = %s",
        [tanks.block_id],
    )
    me = Member(bob, project, Role.ANALYST)
    assert found(me, "jeeps") == [tanks.pk]
    assert found(me, "tanks") == []


def test_results_page_by_rank_then_id(corpus: dict[str, Claim], project: Project, bob: Any) -> None:
    me = Member(bob, project, Role.ANALYST)
    query = search.parse("pipeline OR gas OR tanks OR troops OR drills")
    everything = search.search(me, query)
    pages, after = [], None
    while True:
        page = search.search(me, query, after=after, limit=2)
        if not page:
            break
        pages += page
        after = (page[-1].rank, page[-1].claim_id)
    assert [h.claim_id for h in pages] == [h.claim_id for h in everything]
    assert len(everything) >= 4


def test_the_triggers_read_an_article_s_project_by_its_index_not_its_row(
    corpus: dict[str, Claim], project: Project
) -> None:
    """Every search row names its claim's project. On SQLite the triggers read it from the
    index on (id, project_id): SQLite stores the article's text before ``project_id`` in
    its row, so reading the row walks the whole text's overflow pages, for each claim an
    import stores (migration 0017). PostgreSQL keeps a long text aside (TOAST) and reads
    it only when asked for."""
    other = make_project("other")
    make_article(other, "Elsewhere\n\nA second project has its own claims.\n")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT d.project_id = a.project_id FROM claims_searchdoc d"
            " JOIN claims_claim c ON c.id = d.claim_id JOIN claims_article a ON a.id = c.article_id"
        )
        assert cursor.fetchall() == [(True,)]
        if connection.vendor != "sqlite":
            return
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            " AND sql LIKE '%claims_article a%'"
        )
        triggers = cursor.fetchall()
        assert len(triggers) == 17  # every trigger that rebuilds claims' rows
        for name, sql in triggers:
            body = sql[sql.index(" BEGIN ") + 7 : sql.rindex("; END")]
            for statement in re.sub(r"\b(NEW|OLD)\.\w+", "1", body).split("; "):
                cursor.execute(f"EXPLAIN QUERY PLAN {statement}")
                steps = [row[-1] for row in cursor.fetchall()]
                article = [s for s in steps if s.startswith("SEARCH a ")]
                assert all("COVERING INDEX claims_article_project_cover" in s for s in article), (
                    name,
                    article,
                )


def test_an_import_indexes_its_claims_as_it_ends_and_pauses_nothing_else(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    """``indexed_at_once``: the article's own inserts wait for the end of the block (one
    pass, on both databases), a claim of another article written meanwhile is indexed at
    once, and nothing is left paused."""
    naval = by_word(corpus, "Naval")
    other = make_article(project, "Harbours\n\nTankers queue outside Vladivostok.\n", actor=bob)
    me = Member(bob, project, Role.ANALYST)
    copy_sql = (
        'INSERT INTO claims_claim (article_id, block_id, ordinal, start, "end", section,'
        ' sentence, version, wording_before) SELECT article_id, block_id, %s, start, "end",'
        " section, sentence, 1, '' FROM claims_claim WHERE id = %s"
    )
    with search.indexed_at_once(naval.article_id):
        run(copy_sql, [98, naval.pk])
        theirs = Claim.objects.get(article=other)
        run(copy_sql, [97, theirs.pk])
        waiting = set(found(me, "vladivostok"))
    mine, copied = Claim.objects.get(ordinal=98).pk, Claim.objects.get(ordinal=97).pk
    everything = {naval.pk, theirs.pk, mine, copied}
    assert waiting == everything - {mine}
    assert set(found(me, "vladivostok")) == everything
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM claims_search_paused")
        assert cursor.fetchone() == (0,)


def test_an_import_builds_each_claims_search_rows_once(project: Project, bob: Any) -> None:
    """Claims and their citation links are stored by two statements; the search rows of a
    claim that cites a source are built once, with its citations, not once without them
    and again (migration 0023: PostgreSQL's statement triggers did so). Row ids are
    handed out in order, so rows built once hold a run of ids without a gap."""
    text = (
        "Exercises\n\nThe fleets met near Vladivostok (TASS, August 24, 2020). "
        "The drills ran for a week (RIA, August 30, 2020). Nobody was hurt.\n"
    )
    article = make_article(project, text, actor=bob)
    claims = list(article.claims.order_by("start"))
    assert [c.citations.count() for c in claims] == [1, 1, 0]
    rows = [pk for claim in claims for pk in search_rows(claim)]
    assert len(rows) == 2 * len(claims)  # the team's and the public's: nobody's verdict yet
    assert sorted(rows) == list(range(min(rows), min(rows) + len(rows)))
    me = Member(bob, project, Role.ANALYST)
    assert set(found(me, "TASS")) == {claims[0].pk}


def search_rows(claim: Claim) -> list[int]:
    """The ids of the claim's search rows: a rebuild gives them new ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM claims_searchdoc WHERE claim_id = %s ORDER BY id", [claim.pk]
        )
        return [pk for (pk,) in cursor.fetchall()]


def test_a_change_to_nothing_searched_leaves_the_claims_rows_alone(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    """A verdict's status is not searched: changing it (what analysts do all day) does not
    rebuild the claim's rows (migration 0020); changing its rationale does."""
    claim = by_word(corpus, "Zapad")
    me = Member(bob, project, Role.ANALYST)
    claim.set_verdict(me, "supported", rationale="Satellite images show the camps")
    # Rows written after the claim's: a rebuild of the claim's rows then takes new ids,
    # even on SQLite, which gives a new row the highest id there is plus one.
    by_word(corpus, "Tanks").set_verdict(me, "supported", rationale="Border cameras")

    def rows() -> list[int]:
        return search_rows(claim)

    before = rows()
    assert len(before) == 3  # everything, the public text, bob's own
    mine = "UPDATE claims_verdict SET {} WHERE claim_id = %s"
    run(mine.format("status = 'disputed', version = version + 1"), [claim.pk])
    assert rows() == before
    run(mine.format("rationale = 'Radar tracks show the camps'"), [claim.pk])
    assert rows() != before
    assert found(me, "radar") == [claim.pk] and found(me, "satellite") == []
    run(mine.format("rationale = ''"), [claim.pk])
    assert len(rows()) == 2 and found(me, "radar") == []


def test_evidence_without_text_leaves_the_claims_rows_alone(
    corpus: dict[str, Claim], project: Project, bob: Any, carol: Any
) -> None:
    """A link alone (no title, quote or note) holds nothing searched: adding or deleting
    it does not rebuild the claim's rows (migration 0024), and every search, a blind
    project's included, finds what it found; evidence with text does rebuild them."""
    claim = by_word(corpus, "Zapad")
    me, carols = Member(bob, project, Role.ANALYST), Member(carol, project, Role.ANALYST)
    by_word(corpus, "Tanks").set_verdict(me, "supported", rationale="Border cameras")
    before = search_rows(claim)
    link = claim.add_evidence(me, url="https://example.org/zapad", stance="supports")
    assert search_rows(claim) == before
    Project.objects.filter(pk=project.pk).update(blind=True)
    blind = Member(bob, Project.objects.get(pk=project.pk), Role.ANALYST)
    assert found(blind, "zapad") == found(me, "zapad") == [claim.pk]
    run("DELETE FROM claims_evidence WHERE id = %s", [link.pk])
    assert search_rows(claim) == before
    claim.add_evidence(carols, url="https://example.org/r", stance="supports", title="Drone log")
    assert search_rows(claim) != before
    assert found(carols, "drone") == [claim.pk] and found(me, "drone") == [claim.pk]
    assert found(blind, "drone") == []


def test_a_claim_block_or_citation_update_of_nothing_searched_leaves_the_rows_alone(
    corpus: dict[str, Claim], project: Project, bob: Any
) -> None:
    """What the evidence clock, a version or a citation's date are is not searched:
    changing them (every piece of evidence moves its claim's clock) does not rebuild the
    claim's rows (migration 0021 on PostgreSQL; SQLite's triggers name their columns);
    changing the claim's span or the citation's outlet does (a paragraph's words: see
    ``test_a_paragraph_rewritten_in_sql_is_searched_as_rewritten``)."""
    supplies = by_word(corpus, "supplies")
    by_word(corpus, "Tanks").set_verdict(Member(bob, project, Role.ANALYST), "supported")

    def rows() -> list[int]:
        return search_rows(supplies)

    before = rows()
    assert before
    run(
        "UPDATE claims_claim SET evidence_changed_at = CURRENT_TIMESTAMP,"
        " version = version + 1 WHERE id = %s",
        [supplies.pk],
    )
    run("UPDATE claims_block SET kind = kind WHERE id = %s", [supplies.block_id])
    run("UPDATE claims_citation SET date = date WHERE outlet = 'Reuters'", [])
    assert rows() == before
    me = Member(bob, project, Role.ANALYST)
    # The claim is now "Russia supplies".
    run('UPDATE claims_claim SET "end" = start + 13 WHERE id = %s', [supplies.pk])
    assert rows() != before and found(me, "oil") == []
    run("UPDATE claims_citation SET outlet = 'Interfax' WHERE outlet = 'Reuters'", [])
    assert found(me, "interfax") == [supplies.pk]
