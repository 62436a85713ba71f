"""Parenthetical citations in the forms outlets and authors write them, and what the
segmenter does when it cannot know a date: it says so, and never picks a year."""

from __future__ import annotations

import datetime as dt

import pytest

from claims.segmenter import Citation, Segmentation, segment

PUBLISHED = dt.date(2024, 4, 16)


def _cited(group: str, published_on: dt.date | None = PUBLISHED) -> list[Citation]:
    return list(segment(f"Moscow objected ({group}).", published_on).citations)


def _summary(citation: Citation) -> tuple[str, dt.date | None, str, str]:
    return citation.outlet, citation.date, citation.precision, citation.year_source


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("Interfax, 4 April 2024", ("Interfax", dt.date(2024, 4, 4), "day", "explicit")),
        ("Interfax, 4th April, 2024", ("Interfax", dt.date(2024, 4, 4), "day", "explicit")),
        ("Reuters, March 3 2024", ("Reuters", dt.date(2024, 3, 3), "day", "explicit")),
        ("Reuters, March 3, 2024", ("Reuters", dt.date(2024, 3, 3), "day", "explicit")),
        ("Reuters, Sept. 3rd, 2023", ("Reuters", dt.date(2023, 9, 3), "day", "explicit")),
        ("Bloomberg, Tuesday, March 5, 2024",
         ("Bloomberg", dt.date(2024, 3, 5), "day", "explicit")),
        ("AP, 2024-03-03", ("AP", dt.date(2024, 3, 3), "day", "explicit")),
        ("AP, 2024-03", ("AP", dt.date(2024, 3, 1), "month", "explicit")),
        ("IMF, April 2024", ("IMF", dt.date(2024, 4, 1), "month", "explicit")),
        ("IMF, Apr. 2024", ("IMF", dt.date(2024, 4, 1), "month", "explicit")),
        ("TASS, 2024", ("TASS", dt.date(2024, 1, 1), "year", "explicit")),
        ("The Barents Observer, 2019",
         ("The Barents Observer", dt.date(2019, 1, 1), "year", "explicit")),
        # No year: the latest on or before the publication date.
        ("Kremlin.ru, August 25", ("Kremlin.ru", dt.date(2023, 8, 25), "day", "publication_date")),
        ("Kremlin.ru, 2 April", ("Kremlin.ru", dt.date(2024, 4, 2), "day", "publication_date")),
        ("IMF, May", ("IMF", dt.date(2023, 5, 1), "month", "publication_date")),
        # A URL names its host, and its date when the path holds one.
        (
            "https://www.reuters.com/world/europe/grain-2024-03-03/",
            ("reuters.com", dt.date(2024, 3, 3), "day", "explicit"),
        ),
        (
            "http://kremlin.ru/events/president/news/2024/05/",
            ("kremlin.ru", dt.date(2024, 5, 1), "month", "explicit"),
        ),
        (
            "Kremlin.ru, http://kremlin.ru/events/2024/05/17/statement",
            ("Kremlin.ru", dt.date(2024, 5, 17), "day", "explicit"),
        ),
    ],
)  # fmt: skip
def test_citation_forms(group: str, expected: tuple[str, dt.date, str, str]) -> None:
    (citation,) = _cited(group)
    assert _summary(citation) == expected
    assert citation.raw == group


@pytest.mark.parametrize(
    "group",
    [
        "AUKUS",
        "see May 5",
        "as of March 2024",
        "up 5%, 2024",
        "in Russian, 2024",
        "$195, 2023",
        "1999, 2001",
        "born 1952",
        "Kommersant, February 30",
        "Kommersant, February 30, 2024",
        "Reuters",
    ],
)
def test_asides_are_not_citations(group: str) -> None:
    assert _cited(group) == []


def test_several_sources_in_one_group_each_with_its_precision() -> None:
    text = (
        "Moscow objected (Kommersant, March 28; RBC, 2023; "
        "https://www.tass.com/economy/2024/03/29/grain)."
    )
    seg = segment(text, PUBLISHED)
    assert [_summary(c) for c in seg.citations] == [
        ("Kommersant", dt.date(2024, 3, 28), "day", "publication_date"),
        ("RBC", dt.date(2023, 1, 1), "year", "explicit"),
        ("tass.com", dt.date(2024, 3, 29), "day", "explicit"),
    ]
    assert {(c.group_start, c.group_end) for c in seg.citations} == {(16, len(text) - 1)}


def test_ibid_takes_the_outlet_and_date_of_the_citation_before() -> None:
    text = (
        "Cargo grew (Rosatom, 2023-12-18). Most of it was gas (ibid.).\n\n"
        "Transit fell (Ibid., May 2). Tankers left (ibid)."
    )
    seg = segment(text, PUBLISHED)
    assert [(c.raw, *_summary(c)) for c in seg.citations] == [
        ("Rosatom, 2023-12-18", "Rosatom", dt.date(2023, 12, 18), "day", "explicit"),
        ("ibid.", "Rosatom", dt.date(2023, 12, 18), "day", "explicit"),
        ("Ibid., May 2", "Rosatom", dt.date(2023, 5, 2), "day", "publication_date"),
        ("ibid", "Rosatom", dt.date(2023, 5, 2), "day", "publication_date"),
    ]


def test_ibid_with_nothing_before_it_is_no_citation_and_is_reported() -> None:
    seg = segment("Cargo grew (ibid.). It fell (TASS, 2024).", PUBLISHED)
    assert [c.outlet for c in seg.citations] == ["TASS"]
    (note,) = seg.uncertainties
    assert (note.kind, seg.text[note.start : note.end]) == ("back_reference", "(ibid.)")


# ------------------------------------------------------------------------------ undated


def test_without_a_publication_date_a_citation_without_a_year_is_undated() -> None:
    seg = segment("Talks failed (Reuters, December 30). They resumed (AP, 2022-01-04).")
    assert [_summary(c) for c in seg.citations] == [
        ("Reuters", None, "none", "none"),
        ("AP", dt.date(2022, 1, 4), "day", "explicit"),
    ]
    (note,) = seg.uncertainties
    assert note.kind == "undated_citation"
    assert seg.text[note.start : note.end] == "Reuters, December 30"
    assert note.message == (
        "The citation “Reuters, December 30” is undated: it gives no year and the article's "
        "publication date is not known."
    )


@pytest.mark.parametrize(
    "group", ["Reuters, n.d.", "Reuters, undated", "https://example.org/reports/grain"]
)
def test_a_citation_that_gives_no_date_is_undated_even_with_a_publication_date(
    group: str,
) -> None:
    seg = segment(f"Moscow objected ({group}).", PUBLISHED)
    (citation,) = seg.citations
    assert (citation.date, citation.precision, citation.year_source) == (None, "none", "none")
    assert [n.kind for n in seg.uncertainties] == ["undated_citation"]


def test_the_text_s_own_date_resolves_years_when_none_is_given() -> None:
    text = "A Title\n\nPublished: 5 March 2024\n\nTalks failed (Reuters, March 3)."
    seg = segment(text)
    assert seg.metadata.date == dt.date(2024, 3, 5)
    assert [_summary(c) for c in seg.citations] == [
        ("Reuters", dt.date(2024, 3, 3), "day", "publication_date")
    ]
    assert seg.uncertainties == ()


def test_a_given_date_wins_over_the_text_s() -> None:
    text = "A Title\n\nPublished: 5 March 2024\n\nTalks failed (Reuters, March 3)."
    (citation,) = segment(text, dt.date(2021, 6, 1)).citations
    assert citation.date == dt.date(2021, 3, 3)


def test_a_partly_readable_group_keeps_what_it_reads_and_reports_the_rest() -> None:
    seg = segment("Moscow objected (TASS, 2024; see the ministry's site).", PUBLISHED)
    assert [c.raw for c in seg.citations] == ["TASS, 2024"]
    (note,) = seg.uncertainties
    assert note.kind == "citation_part"
    assert seg.text[note.start : note.end] == "see the ministry's site"


# ------------------------------------------------------------------------------ attachment


def _attached(seg: Segmentation) -> list[tuple[str, list[str]]]:
    return [
        (seg.text[c.start : c.end], [seg.citations[i].outlet for i in c.citations])
        for c in seg.claims
    ]


def test_a_citation_inside_a_clause_supports_that_clause_only() -> None:
    text = "Strikes peaked in August (ACLED, 2023), yet insurers kept writing cover."
    assert _attached(segment(text, PUBLISHED)) == [
        ("Strikes peaked in August (ACLED, 2023)", ["ACLED"]),
        ("insurers kept writing cover.", []),
    ]


def test_each_clause_keeps_its_own_citation() -> None:
    text = "Moscow objected (TASS, March 3), but Beijing agreed (Xinhua, March 4)."
    assert _attached(segment(text, PUBLISHED)) == [
        ("Moscow objected (TASS, March 3)", ["TASS"]),
        ("Beijing agreed (Xinhua, March 4).", ["Xinhua"]),
    ]


def test_a_citation_closing_the_sentence_supports_every_claim_without_its_own() -> None:
    text = "Egypt remained the largest buyer, but Turkey doubled its purchases (TASS, 2024)."
    assert _attached(segment(text, PUBLISHED)) == [
        ("Egypt remained the largest buyer", ["TASS"]),
        ("Turkey doubled its purchases (TASS, 2024).", ["TASS"]),
    ]


def test_a_citation_group_counts_once_however_deeply_it_nests() -> None:
    seg = segment("Moscow objected (as reported (TASS, 2024) and denied).", PUBLISHED)
    assert [c.raw for c in seg.citations] == ["TASS, 2024"]
