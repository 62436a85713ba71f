"""The segmenter on small texts it was not tuned on: one behaviour per test."""

from __future__ import annotations

import datetime as dt

import pytest

from claims.segmenter import (
    CLAIM_KINDS,
    Block,
    Segmentation,
    SegmentationError,
    html_to_text,
    normalise_newlines,
    segment,
)


def _sentences(text: str, published_on: dt.date | None = None) -> list[str]:
    seg = segment(text, published_on)
    return [text[s.start : s.end] for s in seg.sentences]


def _claims(text: str) -> list[str]:
    seg = segment(text)
    return [text[c.start : c.end] for c in seg.claims]


def _kinds(seg: Segmentation) -> list[tuple[str, str]]:
    return [(b.kind, seg.text[b.start : b.end]) for b in seg.blocks]


def _assert_offsets_consistent(seg: Segmentation) -> None:
    text = seg.text
    spans = [*seg.blocks, *seg.sentences, *seg.claims, *seg.citations]
    for item in spans:
        piece = text[item.start : item.end]
        assert piece and piece == piece.strip(), item
    for sentence in seg.sentences:
        block = seg.blocks[sentence.block]
        assert block.kind in CLAIM_KINDS
        assert block.start <= sentence.start < sentence.end <= block.end
    for claim in seg.claims:
        sentence = seg.sentences[claim.sentence]
        assert sentence.start <= claim.start < claim.end <= sentence.end
        assert claim.section == sentence.section
    for number, sentence in enumerate(seg.sentences):
        # Claims tile their sentence; only a separator (", and", ";") lies between two of them.
        spans = [(c.start, c.end) for c in seg.claims if c.sentence == number]
        assert spans[0][0] == sentence.start and spans[-1][1] == sentence.end
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert len(text[end:start].strip(" ,;").split()) <= 1
    for note in seg.uncertainties:
        assert 0 <= note.start <= note.end <= len(text) and note.message.endswith(".")
    for citation in seg.citations:
        sentence = seg.sentences[citation.sentence]
        assert sentence.start <= citation.group_start < citation.group_end <= sentence.end
        assert citation.raw == text[citation.start : citation.end]
        assert text[citation.group_start] == "(" and text[citation.group_end - 1] == ")"


# ------------------------------------------------------------------------------ sentences


def test_us_abbreviation_ends_a_sentence_only_before_a_sentence_start() -> None:
    text = "The U.S. Navy sent two ships. Inflation rose in the U.S. The Fed reacted."
    assert _sentences(text) == [
        "The U.S. Navy sent two ships.",
        "Inflation rose in the U.S.",
        "The Fed reacted.",
    ]


def test_titles_and_dates_do_not_end_sentences() -> None:
    text = "Dr. Smith met Mr. Jones on Jan. 5 in St. Louis. They talked."
    assert _sentences(text) == ["Dr. Smith met Mr. Jones on Jan. 5 in St. Louis.", "They talked."]


def test_month_abbreviation_at_the_true_end_of_a_sentence() -> None:
    assert _sentences("Talks resumed in Jan. Analysts were calm. Sales rose in Sept. 2021.") == [
        "Talks resumed in Jan.",
        "Analysts were calm.",
        "Sales rose in Sept. 2021.",
    ]


def test_initials_do_not_end_sentences() -> None:
    text = "J. R. R. Tolkien wrote novels. Pavel K. Baev wrote this analysis."
    assert _sentences(text) == [
        "J. R. R. Tolkien wrote novels.",
        "Pavel K. Baev wrote this analysis.",
    ]


def test_decimals_and_dotted_names_do_not_end_sentences() -> None:
    text = "Growth reached 3.5 percent, Kremlin.ru said. Exports fell 0.2 percent."
    assert _sentences(text) == [
        "Growth reached 3.5 percent, Kremlin.ru said.",
        "Exports fell 0.2 percent.",
    ]


def test_other_abbreviations_and_ellipses() -> None:
    text = "Some states, e.g. Peru, objected, i.e. they voted no. He hesitated... and agreed. Fine."
    assert _sentences(text) == [
        "Some states, e.g. Peru, objected, i.e. they voted no.",
        "He hesitated... and agreed.",
        "Fine.",
    ]


def test_a_stop_inside_closing_quotes_ends_the_sentence_after_the_quote() -> None:
    text = "She said “the war is over.” Then she left. He replied “no.” he wrote later."
    assert _sentences(text) == [
        "She said “the war is over.”",
        "Then she left.",
        "He replied “no.” he wrote later.",
    ]


def test_straight_quotes_and_questions() -> None:
    assert _sentences('Is it over? He said "it is over." She agreed!') == [
        "Is it over?",
        'He said "it is over."',
        "She agreed!",
    ]


def test_a_stop_inside_parentheses_does_not_end_the_outer_sentence() -> None:
    text = "The plan (see Fig. 2. It failed.) was dropped. (This is an aside.) Next came talks."
    assert _sentences(text) == [
        "The plan (see Fig. 2. It failed.) was dropped.",
        "(This is an aside.)",
        "Next came talks.",
    ]


def test_sentences_may_run_over_single_line_breaks() -> None:
    assert _sentences("Russia is large\nand cold. China is\nlarger.") == [
        "Russia is large\nand cold.",
        "China is\nlarger.",
    ]


# ------------------------------------------------------------------------------ citations


def test_non_citation_parentheticals_are_not_citations() -> None:
    text = (
        "The Australia, United Kingdom, and United States (AUKUS) pact is new. "
        "The deal (as important as it was) stalled (PRIO). "
        "It ended (see May 5)."
    )
    seg = segment(text, dt.date(2021, 10, 22))
    assert seg.citations == ()
    assert [text[c.start : c.end] for c in seg.claims] == [
        "The Australia, United Kingdom, and United States (AUKUS) pact is new.",
        "The deal (as important as it was) stalled (PRIO).",
        "It ended (see May 5).",
    ]


def test_text_without_citations() -> None:
    seg = segment("Russia and China are partners. The partnership is shallow.")
    assert seg.citations == ()
    assert all(claim.citations == () for claim in seg.claims)


def test_citation_with_explicit_year() -> None:
    text = "Lavrov spoke (Izvestiya, September 5, 2019)."
    (citation,) = segment(text, dt.date(2021, 10, 22)).citations
    assert (citation.outlet, citation.date, citation.year_source) == (
        "Izvestiya",
        dt.date(2019, 9, 5),
        "explicit",
    )
    assert (citation.start, citation.end, citation.raw) == (14, 42, "Izvestiya, September 5, 2019")
    assert (citation.group_start, citation.group_end, citation.sentence) == (13, 43, 0)


def test_missing_year_resolves_across_a_year_boundary() -> None:
    text = "Talks failed (Reuters, December 30). They resumed (AP, Jan. 4)."
    seg = segment(text, dt.date(2022, 1, 10))
    assert [(c.outlet, c.date, c.year_source, c.sentence) for c in seg.citations] == [
        ("Reuters", dt.date(2021, 12, 30), "publication_date", 0),
        ("AP", dt.date(2022, 1, 4), "publication_date", 1),
    ]


def test_missing_year_without_publication_date_is_undated_not_guessed() -> None:
    seg = segment("Talks failed (Reuters, January 1).")
    (citation,) = seg.citations
    assert (citation.outlet, citation.date, citation.precision, citation.year_source) == (
        "Reuters",
        None,
        "none",
        "none",
    )
    (note,) = seg.uncertainties
    assert (note.kind, note.start, note.end) == ("undated_citation", 14, 32)


def test_several_sources_in_one_group_belong_to_every_claim_of_the_sentence() -> None:
    text = "Russia hesitated, but China acted (TASS, August 10; Financial times, October 17)."
    seg = segment(text, dt.date(2021, 10, 22))
    assert [c.raw for c in seg.citations] == ["TASS, August 10", "Financial times, October 17"]
    assert {(c.group_start, c.group_end) for c in seg.citations} == {(34, 80)}
    assert [(text[c.start : c.end], c.citations) for c in seg.claims] == [
        ("Russia hesitated", (0, 1)),
        ("China acted (TASS, August 10; Financial times, October 17).", (0, 1)),
    ]


def test_an_invalid_date_is_not_a_citation() -> None:
    seg = segment("The meeting happened (Kommersant, February 30).", dt.date(2021, 10, 22))
    assert seg.citations == ()


def test_a_citation_after_the_final_stop_stays_with_its_sentence() -> None:
    text = "Moscow objected. (TASS, March 3) Beijing agreed."
    seg = segment(text, dt.date(2021, 10, 22))
    assert _sentences(text) == ["Moscow objected. (TASS, March 3)", "Beijing agreed."]
    assert [c.sentence for c in seg.citations] == [0]


# ------------------------------------------------------------------------------ claims


def test_coordinated_clauses_with_their_own_subjects_are_split() -> None:
    text = (
        "Moscow wants talks, but Kyiv refuses; Washington is silent. "
        "Its ties with Japan have hit a rock, the old friendship has weakened, "
        "and arms sales are curtailed. "
        "Oil is cheap, so Russia has cut output, whereas China buys more."
    )
    assert _claims(text) == [
        "Moscow wants talks",
        "Kyiv refuses",
        "Washington is silent.",
        "Its ties with Japan have hit a rock",
        "the old friendship has weakened",
        "arms sales are curtailed.",
        "Oil is cheap",
        "Russia has cut output",
        "China buys more.",
    ]


def test_fronted_adverbials_after_the_conjunction_still_split() -> None:
    text = (
        "Exporting graft may work in Europe, but in China, his courtiers cannot find partners. "
        "Putin made a promise, but since then only vague statements have been issued."
    )
    assert _claims(text) == [
        "Exporting graft may work in Europe",
        "in China, his courtiers cannot find partners.",
        "Putin made a promise",
        "since then only vague statements have been issued.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        # shared-subject verb phrases
        "Russia used to compare itself to the US, but now finds only frustration.",
        "The Kremlin may have no such doubts, but is anxious about the contrast.",
        "China is cautious, and abstains from providing any support.",
        "China launched a module, and deployed the BeiDou system.",
        # correlatives, reported speech, adjectives, noun lists, subordinate clauses
        "The choice is driven not only by fear, but also by doubts over stability.",
        "The ministry clarified that its position is unchanged, and that it takes no sides.",
        "This minor but embarrassing misunderstanding signals a lingering estrangement.",
        "Officials from Australia, the United Kingdom, and the United States met in Canberra.",
        "His problem is that the ideals are foreign, so much so that he calls them tragic.",
        "The efforts are hardly in the cards as China invests, while Russia stages exercises.",
    ],
)
def test_no_split_without_an_independent_clause_on_both_sides(sentence: str) -> None:
    assert _claims(sentence) == [sentence]


def test_leading_discourse_marker_stays_with_the_first_claim() -> None:
    text = "However, the buildup has not slowed, and the new data has been a shock."
    seg = segment(text)
    assert [(c.start, c.end) for c in seg.claims] == [(0, 35), (41, 71)]
    assert _claims(text) == [
        "However, the buildup has not slowed",
        "the new data has been a shock.",
    ]


# ------------------------------------------------------------------------------ blocks, Markdown


def test_article_layout_blocks_and_metadata() -> None:
    text = (
        "Placeholder canvas\n\nA Partnership in Name Only?\n\n"
        "Publication: China Brief Volume: 22 Issue: 3\n\nIntroduction\n\n"
        "Russia and China praise each other. Their trade is small.\n\nConclusion\n\n"
        "The partnership has peaked.\n\nJane Q. Doe is a senior fellow at the Institute."
    )
    seg = segment(text)
    assert _kinds(seg) == [
        ("artifact", "Placeholder canvas"),
        ("title", "A Partnership in Name Only?"),
        ("metadata", "Publication: China Brief Volume: 22 Issue: 3"),
        ("heading", "Introduction"),
        ("body", "Russia and China praise each other. Their trade is small."),
        ("heading", "Conclusion"),
        ("body", "The partnership has peaked."),
        ("author_bio", "Jane Q. Doe is a senior fellow at the Institute."),
    ]
    assert seg.blocks[0] == Block("artifact", 0, 18)
    assert [s.section for s in seg.sentences] == ["Introduction", "Introduction", "Conclusion"]
    assert (seg.metadata.title, seg.metadata.publication) == (
        "A Partnership in Name Only?",
        "China Brief",
    )
    assert (seg.metadata.volume, seg.metadata.issue, seg.metadata.author) == (22, 3, "Jane Q. Doe")
    _assert_offsets_consistent(seg)


def test_plain_sentences_without_a_title() -> None:
    text = "The war is not over.\n\nTalks will resume in May."
    seg = segment(text)
    assert [b.kind for b in seg.blocks] == ["body", "body"]
    assert seg.metadata.title == ""
    assert [s.block for s in seg.sentences] == [0, 1]


def test_a_lone_short_line_is_still_a_claim() -> None:
    assert _claims("Moscow is worried") == ["Moscow is worried"]


def test_markdown_headings_and_lists() -> None:
    text = (
        "# The Title\n\nIntro sentence here.\n\n## Findings ##\n"
        "- Russia is big, and China is bigger.\n"
        "* Trade is small\n"
        "  and shrinking. It may recover.\n"
        "1. **Moscow** hesitated\n"
        "2) _Beijing_ has waited\n"
    )
    seg = segment(text)
    assert _kinds(seg)[:3] == [
        ("title", "The Title"),
        ("body", "Intro sentence here."),
        ("heading", "Findings"),
    ]
    assert (seg.blocks[0].start, seg.blocks[0].end) == (2, 11)
    assert seg.metadata.title == "The Title"
    assert [b.kind for b in seg.blocks[3:]] == ["list_item"] * 4
    assert [(text[s.start : s.end], s.section) for s in seg.sentences] == [
        ("Intro sentence here.", ""),
        ("Russia is big, and China is bigger.", "Findings"),
        ("Trade is small\n  and shrinking.", "Findings"),
        ("It may recover.", "Findings"),
        ("**Moscow** hesitated", "Findings"),
        ("_Beijing_ has waited", "Findings"),
    ]
    assert _claims(text)[1:3] == ["Russia is big", "China is bigger."]
    _assert_offsets_consistent(seg)


# ------------------------------------------------------------------------------ input formats


def test_html_to_text_keeps_the_main_text_only() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>Site | Page</title><style>p {color: red}</style>"
        "<script>var x = '<p>not text</p>';</script></head><body>"
        "<nav><a href='/'>Home</a></nav><article><h1>Tom &amp; Jerry</h1>"
        "<p>Tom&nbsp;chased   Jerry&#8217;s\n   cousin. <!-- hidden -->It failed.</p>"
        "<ul><li>One item</li><li><p>Two items</p></li></ul><noscript>Enable JS</noscript>"
        "</article><aside>Related</aside><footer>Copyright</footer></body></html>"
    )
    text = html_to_text(html)
    assert text == (
        "# Tom & Jerry\n\nTom\xa0chased Jerry’s cousin. It failed.\n\n- One item\n\n- Two items"
    )
    seg = segment(text)
    assert seg.metadata.title == "Tom & Jerry"
    # List items that are bare phrases are list items, not sentences.
    assert [text[s.start : s.end] for s in seg.sentences] == [
        "Tom\xa0chased Jerry’s cousin.",
        "It failed.",
    ]
    assert [b.kind for b in seg.blocks] == ["title", "body", "list_item", "list_item"]
    _assert_offsets_consistent(seg)


def test_html_without_article_keeps_body_blocks_and_uses_the_page_title() -> None:
    html = "<title>Moscow  Times</title><div>First <b>bold</b> line<br>Second line.</div>"
    assert html_to_text(html) == "# Moscow Times\n\nFirst bold line\n\nSecond line."


def test_crlf_line_endings_are_normalised_and_nothing_else() -> None:
    raw = "Title Line\r\n\r\nRussia\xa0is  big.\rChina is bigger.\r\n"
    text = normalise_newlines(raw)
    assert text == "Title Line\n\nRussia\xa0is  big.\nChina is bigger.\n"
    seg = segment(text)
    assert _kinds(seg)[0] == ("title", "Title Line")
    assert [text[s.start : s.end] for s in seg.sentences] == [
        "Russia\xa0is  big.",
        "China is bigger.",
    ]


@pytest.mark.parametrize("text", ["", "   \n\n\t ", "Placeholder canvas", "---\n\n***"])
def test_nothing_to_claim_raises(text: str) -> None:
    with pytest.raises(SegmentationError, match=r"^No sentences found in the text\.$"):
        segment(text)


def test_offsets_invariant_on_a_mixed_text() -> None:
    text = (
        "  Placeholder canvas  \n\n  A Title Here  \n\n"
        "First para , but it is odd;  still, it works (Reuters, May 5).  \n"
        "Second line of it.\xa0\n\n  Heading Two\xa0\n\n"
        "- item one, and item two is here\n- “Quoted.” Then more (AP, June 1, 2020).\n"
    )
    seg = segment(text, dt.date(2021, 6, 1))
    _assert_offsets_consistent(seg)
    assert len(seg.citations) == 2


# ------------------------------------------------------------------------------ long texts

_MIXED = (
    "Moscow said “the talks went well. They will go on.” Beijing agreed (Xinhua, May 5). "
    "The envoy (who arrived late. Really late.) spoke first, and the hosts listened; "
    "trade grew by 3.5 percent in the U.S. market? It did (TASS, June 1)."
)


def _split(text: str) -> tuple[list[str], list[str], list[str]]:
    seg = segment(text, dt.date(2021, 10, 22))
    return (
        [text[s.start : s.end] for s in seg.sentences],
        [text[c.start : c.end] for c in seg.claims],
        [c.raw for c in seg.citations],
    )


def test_a_long_paragraph_splits_as_its_parts_do() -> None:
    parts = [_MIXED] * 50
    assert _split(" ".join(parts)) == _split("\n\n".join(parts))
    sentences, claims, citations = _split(_MIXED)
    assert len(sentences) == 4 and len(claims) == 6 and len(citations) == 2


def test_stray_closers_leave_the_sentences_alone() -> None:
    # Mismatched brackets are ignored, however many: one sentence each time. (How fast a
    # long run of them goes is the benchmark's business, not a test's.)
    assert _split("He came (late] and left. " * 3)[0] == ["He came (late] and left."] * 3
    text = "It was (" * 500 + "so] " * 500 + "done."
    assert _split(text)[0] == [text]


def test_a_sentence_too_long_for_prose_stays_one_claim() -> None:
    # Thousands of clauses in one "sentence" (a hostile or broken file) are not weighed
    # against each other, which would take quadratic time: the sentence is one claim.
    text = "Moscow agreed; " * 5000 + "Delhi waited."
    sentences, claims, _citations = _split(text)
    assert len(sentences) == 1 and claims == [text]
    # Prose-length sentences still split.
    assert _split("Moscow agreed; " * 3 + "Delhi waited.")[1] == ["Moscow agreed"] * 3 + [
        "Delhi waited."
    ]


# ------------------------------------------------------------------------------ hard cases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An ambiguous abbreviation ends a sentence after a clause and before a clause.
        (
            "The plan was welcomed by the U.S. Moscow disagreed.",
            ["The plan was welcomed by the U.S.", "Moscow disagreed."],
        ),
        (
            "It buys gas from Qatar and the U.S. Turkmenistan, meanwhile, is ready.",
            ["It buys gas from Qatar and the U.S.", "Turkmenistan, meanwhile, is ready."],
        ),
        (
            "He left the bank at 6 P.M. Mr. Smith then went home.",
            ["He left the bank at 6 P.M.", "Mr. Smith then went home."],
        ),
        (
            "Sanctions were imposed by the E.U. Russia responded in kind.",
            ["Sanctions were imposed by the E.U.", "Russia responded in kind."],
        ),
        # ... and not where it only precedes a name or a verb.
        ("The E.U. has adopted sanctions.", ["The E.U. has adopted sanctions."]),
        ("The U.S. Navy sent two ships.", ["The U.S. Navy sent two ships."]),
        ("At 5 a.m. Mr. Smith went to the bank.", ["At 5 a.m. Mr. Smith went to the bank."]),
        (
            "A statement released at 6 p.m. Moscow time gave no figures.",
            ["A statement released at 6 p.m. Moscow time gave no figures."],
        ),
        (
            "Jones said that Robert F. Kennedy Jr. opposed the plan.",
            ["Jones said that Robert F. Kennedy Jr. opposed the plan."],
        ),
        # A full stop with no space after it, but not in an address.
        (
            "Re-exports surged in 2023.Customs data are incomplete.",
            ["Re-exports surged in 2023.", "Customs data are incomplete."],
        ),
        (
            "Write to Jane.Doe@example.com. Kremlin.ru said so.",
            ["Write to Jane.Doe@example.com.", "Kremlin.ru said so."],
        ),
        # Ellipses: three spaced dots leave the sentence open, four may close it.
        (
            "Not quite . . . The story is complicated.",
            ["Not quite . . . The story is complicated."],
        ),
        ("He paused . . . . Then he spoke.", ["He paused . . . .", "Then he spoke."]),
        ("He paused... Then he spoke.", ["He paused...", "Then he spoke."]),
        ("He paused…and spoke.", ["He paused…and spoke."]),
        # Quotations and brackets that hold whole sentences.
        (
            'He said: "We can buy anything. We cannot buy it cheaply." Then he left.',
            ['He said: "We can buy anything. We cannot buy it cheaply."', "Then he left."],
        ),
        (
            "Moscow objected. (The remark was made in private.) Beijing agreed.",
            ["Moscow objected.", "(The remark was made in private.)", "Beijing agreed."],
        ),
        # Every Unicode space separates, and Unicode quotes close.
        (
            "Russia\xa0is big.\u2009China is bigger.\u202fIndia waits.\u3000Brazil\u2003watches.",
            ["Russia\xa0is big.", "China is bigger.", "India waits.", "Brazil\u2003watches."],
        ),
        ("«Fine.» He left. ‘Good.’ She stayed.", ["«Fine.»", "He left.", "‘Good.’", "She stayed."]),
    ],
)
def test_hard_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert _sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Analysts expect a smaller crop, yet they see exports above 45 million tonnes.",
            ["Analysts expect a smaller crop", "they see exports above 45 million tonnes."],
        ),
        (
            "Growth was driven by the military, so it says little about industry.",
            ["Growth was driven by the military", "it says little about industry."],
        ),
        (
            "The ministry has not published a quota, nor has it said when it will.",
            ["The ministry has not published a quota", "has it said when it will."],
        ),
        (
            "The associations want the duty scrapped, for they say it costs $10 billion.",
            ["The associations want the duty scrapped", "they say it costs $10 billion."],
        ),
        (
            "(The remark was made in private; I have no reason to doubt it.)",
            ["(The remark was made in private", "I have no reason to doubt it.)"],
        ),
    ],
)
def test_more_coordinators_between_independent_clauses(text: str, expected: list[str]) -> None:
    assert _claims(text) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The plan is bold, yet risky.",
        "Moscow moved the troops in February, so that the Kremlin could claim a victory.",
        "Moscow cut prices, so as to keep its market share.",
        "Moscow paid, for the first time, in yuan.",
        "Prices rose, for example in March and April.",
        "Trade grew, for years the ministry said otherwise.",
        "Neither Moscow, nor Beijing, objected.",
        "The deal holds, for all the talk of its collapse.",
    ],
)
def test_purpose_clauses_and_prepositions_stay_whole(sentence: str) -> None:
    assert _claims(sentence) == [sentence]


# ------------------------------------------------------------------------------ uncertainties


def test_a_long_sentence_is_reported() -> None:
    text = "Moscow said " + "that the talks went on " * 20 + "for days."
    seg = segment(text)
    (note,) = seg.uncertainties
    assert (note.kind, note.start, note.end) == ("long_sentence", 0, len(text))
    assert note.message == (
        "This sentence has 104 words; it may be several sentences run together, or a list."
    )


def test_a_paragraph_without_a_verb_and_a_heading_that_reads_like_a_clause_are_reported() -> None:
    text = (
        "Grain Report\n\nRussia exported more wheat.\n\nWhy the corridor still matters\n\n"
        "Wheat, barley, maize and sunflower oil from the ports of Odesa, Chornomorsk and "
        "Pivdennyi.\n\nIt held."
    )
    seg = segment(text)
    assert [(n.kind, text[n.start : n.end][:22]) for n in seg.uncertainties] == [
        ("possible_heading", "Why the corridor still"),
        ("unclassified_paragraph", "Wheat, barley, maize a"),
    ]
    assert [b.kind for b in seg.blocks] == ["title", "body", "heading", "body", "body"]


def test_uncertainties_are_in_text_order_with_known_kinds_and_sentence_messages() -> None:
    from claims.segmenter import UNCERTAINTY_KINDS

    text = (
        "Why the corridor still matters\n\nTalks failed (ibid.). They failed (Reuters, May 5). "
        "Moscow said " + "that talks went on " * 20 + "for days.\n\n- Exports rise"
    )
    seg = segment(text)
    kinds = [n.kind for n in seg.uncertainties]
    assert kinds == ["back_reference", "undated_citation", "long_sentence", "phrase_list_item"]
    assert set(kinds) <= set(UNCERTAINTY_KINDS)
    assert [n.start for n in seg.uncertainties] == sorted(n.start for n in seg.uncertainties)
    assert all(n.message[0].isupper() and n.message.endswith(".") for n in seg.uncertainties)


def test_a_plural_noun_before_an_auxiliary_is_a_subject() -> None:
    assert _claims("The sea has fallen, so ships must sail with lighter loads.") == [
        "The sea has fallen",
        "ships must sail with lighter loads.",
    ]
