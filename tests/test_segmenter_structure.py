"""Document structure from plain text, Markdown and HTML: what is a title, a byline, a
dateline, a heading, a list, a quote, a footnote, a references section; what holds claims."""

from __future__ import annotations

import datetime as dt

from claims.segmenter import Segmentation, html_to_text, segment


def _kinds(seg: Segmentation) -> list[tuple[str, str]]:
    return [(b.kind, seg.text[b.start : b.end]) for b in seg.blocks]


def _claims(seg: Segmentation) -> list[str]:
    return [seg.text[c.start : c.end] for c in seg.claims]


# ------------------------------------------------------------------------------ header


def test_title_and_byline_on_consecutive_lines_are_no_claim() -> None:
    text = (
        "Russian wheat exports set a record\nBy Jane Doe and Alexei Petrov\n\n"
        "Russia exported 52 million tonnes of wheat."
    )
    seg = segment(text)
    assert _kinds(seg) == [
        ("title", "Russian wheat exports set a record"),
        ("byline", "By Jane Doe and Alexei Petrov"),
        ("body", "Russia exported 52 million tonnes of wheat."),
    ]
    assert _claims(seg) == ["Russia exported 52 million tonnes of wheat."]
    assert (seg.metadata.title, seg.metadata.author) == (
        "Russian wheat exports set a record",
        "Jane Doe and Alexei Petrov",
    )


def test_title_subtitle_byline_and_dated_metadata_line() -> None:
    text = (
        "Chilly Returns: The Northern Sea Route After Sanctions\n"
        "Why Russia's Arctic shipping ambitions are running aground\n\n"
        "By Maria Lindqvist\nPolicy Brief No. 14 | 16 April 2024\n\n"
        "Key Findings\n\nTransit voyages fell to 34 in 2023."
    )
    seg = segment(text)
    assert [k for k, _ in _kinds(seg)] == [
        "title",
        "subtitle",
        "byline",
        "metadata",
        "heading",
        "body",
    ]
    meta = seg.metadata
    assert meta.subtitle == "Why Russia's Arctic shipping ambitions are running aground"
    assert (meta.author, meta.date) == ("Maria Lindqvist", dt.date(2024, 4, 16))
    assert seg.text[slice(*meta.date_at or (0, 0))] == "Policy Brief No. 14 | 16 April 2024"


def test_a_headline_of_two_sentences_above_a_byline_is_the_title() -> None:
    text = "The West Is Losing. It Can Still Win.\n\nBy Thomas Hale\n\nSanctions bite slowly."
    assert [k for k, _ in _kinds(segment(text))] == ["title", "byline", "body"]


def test_dateline_lines() -> None:
    for line, date in [
        ("March 5, 2024", dt.date(2024, 3, 5)),
        ("Tuesday, 5 March 2024, 09:30 GMT", dt.date(2024, 3, 5)),
        ("Updated: 2024-03-05", dt.date(2024, 3, 5)),
    ]:
        seg = segment(f"A Short Title\n\n{line}\n\nMoscow objected.")
        assert _kinds(seg)[1][0] in ("dateline", "metadata")
        assert seg.metadata.date == date


def test_wire_dateline_is_split_off_the_first_paragraph() -> None:
    text = (
        "Wheat exports hit a record\n\n"
        "MOSCOW, April 9 (Reuters) - Russia's wheat exports reached a record, traders said."
    )
    seg = segment(text, dt.date(2024, 4, 9))
    assert _kinds(seg)[1:] == [
        ("dateline", "MOSCOW, April 9 (Reuters) -"),
        ("body", "Russia's wheat exports reached a record, traders said."),
    ]
    assert seg.citations == ()
    assert seg.metadata.publication == "Reuters"
    assert seg.uncertainties == ()


def test_a_wire_dateline_without_a_year_leaves_the_article_date_unknown() -> None:
    seg = segment("MOSCOW, April 9 (Reuters) - Russia's wheat exports reached a record.")
    assert seg.metadata.date is None
    assert [n.kind for n in seg.uncertainties] == ["article_date"]


# ------------------------------------------------------------------------------ Markdown


MARKDOWN = """\
# Five Things We Learned

*A data-driven look at who ships what*

By Priya Natarajan · 12 March 2024

We tracked 14 ports. Here is what stood out.

## Traffic has recovered

Three numbers tell the story:

- Ukraine shipped 28 million tonnes.
* Romania handled less grain [^1].
• Insurance got cheaper^2.
1. Lower tariffs
2) Higher volumes
a. Port calls rose, and the queues grew shorter.

> The corridor works because the ships keep coming. They keep coming.

What each side wants:

- Russia wants a long-term contract.

![Port calls by month](port-calls.png)

Photo: A tanker at Odesa

## Notes

[^1]: Port authority data, February 2024.
^2 Quotes from three London brokers.

Priya Natarajan is a data journalist and the author of a book on shipping.
"""


def test_markdown_blocks() -> None:
    seg = segment(MARKDOWN)
    assert _kinds(seg) == [
        ("title", "Five Things We Learned"),
        ("subtitle", "A data-driven look at who ships what"),
        ("byline", "By Priya Natarajan · 12 March 2024"),
        ("body", "We tracked 14 ports. Here is what stood out."),
        ("heading", "Traffic has recovered"),
        ("body", "Three numbers tell the story:"),
        ("list_item", "Ukraine shipped 28 million tonnes."),
        ("list_item", "Romania handled less grain [^1]."),
        ("list_item", "Insurance got cheaper^2."),
        ("list_item", "Lower tariffs"),
        ("list_item", "Higher volumes"),
        ("list_item", "Port calls rose, and the queues grew shorter."),
        ("quote", "The corridor works because the ships keep coming. They keep coming."),
        ("heading", "What each side wants:"),
        ("list_item", "Russia wants a long-term contract."),
        ("caption", "![Port calls by month](port-calls.png)"),
        ("caption", "Photo: A tanker at Odesa"),
        ("heading", "Notes"),
        ("footnote", "[^1]: Port authority data, February 2024."),
        ("footnote", "^2 Quotes from three London brokers."),
        ("author_bio",
         "Priya Natarajan is a data journalist and the author of a book on shipping."),
    ]  # fmt: skip
    assert (seg.metadata.title, seg.metadata.author, seg.metadata.date) == (
        "Five Things We Learned",
        "Priya Natarajan",
        dt.date(2024, 3, 12),
    )


def test_markdown_claims_come_from_body_quotes_and_sentence_list_items() -> None:
    seg = segment(MARKDOWN)
    assert _claims(seg) == [
        "We tracked 14 ports.",
        "Here is what stood out.",
        "Three numbers tell the story:",
        "Ukraine shipped 28 million tonnes.",
        "Romania handled less grain [^1].",
        "Insurance got cheaper^2.",
        # "Lower tariffs", "Higher volumes": bare phrases, no claims
        "Port calls rose",
        "the queues grew shorter.",
        "The corridor works because the ships keep coming.",
        "They keep coming.",
        "Russia wants a long-term contract.",
    ]
    sections = {seg.text[c.start : c.end]: c.section for c in seg.claims}
    assert sections["Russia wants a long-term contract."] == "What each side wants:"


def test_a_list_item_that_may_be_a_sentence_or_a_phrase_is_reported() -> None:
    text = (
        "Port Report\n\nOutcomes:\n\n- Exports rise\n- Lower tariffs\n- Prices fell\n- Fewer ships"
    )
    seg = segment(text)
    assert [k for k, _ in _kinds(seg)] == ["title", "heading"] + ["list_item"] * 4
    assert _claims(seg) == ["Prices fell"]
    # A plural noun and a verb in -s look alike: the rules do not pick, they report.
    assert [(n.kind, seg.text[n.start : n.end]) for n in seg.uncertainties] == [
        ("phrase_list_item", "Exports rise"),
        ("phrase_list_item", "Lower tariffs"),
        ("phrase_list_item", "Fewer ships"),
    ]


def test_a_references_section_holds_no_claims_and_a_bio_may_follow_it() -> None:
    text = (
        "Arctic Shipping\n\nTransit fell in 2023.\n\nReferences\n\n"
        "Centre for High North Logistics. Transits 2023. Bodø, 2024.\n"
        "Rosatom. Annual Report 2023. Moscow, 2023.\n\n"
        "- IMF. World Economic Outlook, April 2024.\n\n"
        "Maria Lindqvist is a senior fellow at the Nordic Institute."
    )
    seg = segment(text)
    assert [k for k, _ in _kinds(seg)] == [
        "title",
        "body",
        "heading",
        "references",
        "references",
        "author_bio",
    ]
    assert _claims(seg) == ["Transit fell in 2023."]


def test_footnote_markers_do_not_break_sentences() -> None:
    seg = segment("Exports rose.[1] Imports fell.^2 Prices held.[^3] Trade grew¹. It ended.")
    assert _claims(seg) == [
        "Exports rose.[1]",
        "Imports fell.^2",
        "Prices held.[^3]",
        "Trade grew¹.",
        "It ended.",
    ]


def test_a_multi_line_quote_is_one_block() -> None:
    seg = segment("Intro here.\n\n> We are not in a hurry.\n> The market will decide.\n")
    assert _kinds(seg)[1] == ("quote", "We are not in a hurry.\n> The market will decide.")
    assert _claims(seg)[1:] == ["We are not in a hurry.", "The market will decide."]


def test_a_list_run_together_on_one_line_is_split_into_items() -> None:
    seg = segment("Steps:\n\n1. Russia cut prices. 2. Egypt bought more. 3. Turkey waited.")
    assert _kinds(seg)[1:] == [
        ("list_item", "Russia cut prices."),
        ("list_item", "Egypt bought more."),
        ("list_item", "Turkey waited."),
    ]


# ------------------------------------------------------------------------------ HTML

PAGE = """<!DOCTYPE html><html><head><title>Pipeline stalls | The Desk</title>
<meta name="author" content="Meta Author">
<style>p { color: red }</style><script>var x = "<p>not text</p>";</script></head>
<body>
<div class="cookie-banner"><p>We use cookies.</p></div>
<header class="site-header"><a href="/">The Desk</a><nav><a href="/news">News</a></nav></header>
<main><article>
<header><p class="kicker">Energy</p><h1>Pipeline talks stall</h1>
<p>Gazprom needs the deal more than China does.</p>
<p><a rel="author" href="/a/dk">Daniel Kovacs</a></p>
<time datetime="2024-05-21T07:30:00Z">2 hours ago</time></header>
<div class="share-tools"><a href="#">Share</a></div>
<p>Talks made no progress (AP, May 16).<sup>1</sup> Moscow waits.</p>
<h2>What each side wants</h2>
<ol start="3"><li>Russia wants oil-linked prices.</li><li>China wants cheap gas.</li></ol>
<blockquote><p>We are not in a hurry.</p><p>The market will decide.</p></blockquote>
<figure><img src="a.jpg" alt="x"><figcaption>A compressor station in Amur.</figcaption></figure>
<figure><figcaption>Photo: Gazprom</figcaption></figure>
<aside><h2>Related</h2><p>Other story.</p></aside>
<div class="newsletter"><p>Sign up.</p></div>
<footer><p>Topics: Gas</p></footer>
</article></main>
<footer><p>&copy; 2024 The Desk</p></footer>
<script src="/analytics.js"></script>
</body></html>"""


def test_html_is_rendered_with_its_structure_and_without_its_chrome() -> None:
    assert html_to_text(PAGE).split("\n\n") == [
        "Energy",
        "# Pipeline talks stall",
        "Gazprom needs the deal more than China does.",
        "By Daniel Kovacs",
        "2024-05-21",
        "Talks made no progress (AP, May 16).[1] Moscow waits.",
        "## What each side wants",
        "3. Russia wants oil-linked prices.",
        "4. China wants cheap gas.",
        "> We are not in a hurry.\n>\n> The market will decide.",
        "Figure: A compressor station in Amur.",
        "Photo: Gazprom",
    ]


def test_html_structure_reaches_the_segmentation() -> None:
    text = html_to_text(PAGE)
    seg = segment(text)
    assert [k for k, _ in _kinds(seg)] == [
        "metadata",
        "title",
        "subtitle",
        "byline",
        "dateline",
        "body",
        "heading",
        "list_item",
        "list_item",
        "quote",
        "caption",
        "caption",
    ]
    assert (seg.metadata.title, seg.metadata.author, seg.metadata.date) == (
        "Pipeline talks stall",
        "Daniel Kovacs",
        dt.date(2024, 5, 21),
    )
    # The dateline gives the year of "(AP, May 16)"; the quote is one block of two claims.
    assert [c.date for c in seg.citations] == [dt.date(2024, 5, 16)]
    assert _claims(seg)[-2:] == ["We are not in a hurry.", "The market will decide."]


def test_html_metadata_from_meta_tags_when_the_page_shows_none() -> None:
    html = (
        '<html><head><meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head>'
        "<body><article><h1>A Title</h1><p>Moscow objected (TASS, March 3).</p>"
        "</article></body></html>"
    )
    text = html_to_text(html)
    assert (
        text
        == "# A Title\n\nBy Jane Doe\n\nPublished: 2024-03-05\n\nMoscow objected (TASS, March 3)."
    )
    seg = segment(text)
    assert (seg.metadata.author, seg.metadata.date) == ("Jane Doe", dt.date(2024, 3, 5))
    assert [c.date for c in seg.citations] == [dt.date(2024, 3, 3)]


def test_html_page_without_article_keeps_an_h1_in_the_site_header() -> None:
    html = "<body><header><h1>Only Heading</h1><a>Home</a></header><p>Text is here.</p></body>"
    assert html_to_text(html) == "# Only Heading\n\nText is here."


# ------------------------------------------------------------------------------ more layouts


def test_a_text_copied_from_a_pdf() -> None:
    text = (
        "GAS EXPORTS TO TURKEY\n\nResearch Note No. 7 | Centre for Energy Studies | 3 June 2024\n"
        "Author: Elena Sorokina\n\n1. Background\n\nTurkey bought less gas from\nRussia in 2023. "
        "Ankara diversified.\n\nCentre for Energy Studies — Research Note No. 7        Page 2\n\n"
        "2. Outlook\n\nTwo risks could change that:\n\n"
        "- a cold winter in Europe, which would raise demand;\n"
        "- new sanctions on Gazprombank, which handles most payments.\n\n- 3 -\n"
    )
    seg = segment(text)
    assert _kinds(seg) == [
        ("title", "GAS EXPORTS TO TURKEY"),
        ("metadata", "Research Note No. 7 | Centre for Energy Studies | 3 June 2024"),
        ("metadata", "Author: Elena Sorokina"),
        ("heading", "1. Background"),
        ("body", "Turkey bought less gas from\nRussia in 2023. Ankara diversified."),
        ("artifact", "Centre for Energy Studies — Research Note No. 7        Page 2"),
        ("heading", "2. Outlook"),
        ("body", "Two risks could change that:"),
        ("list_item", "a cold winter in Europe, which would raise demand;"),
        ("list_item", "new sanctions on Gazprombank, which handles most payments."),
        ("artifact", "- 3 -"),
    ]
    # The items are phrases: a verb in a relative clause makes no sentence, nor does the
    # full stop that closes a list whose items end in ";". Both are reported.
    assert _claims(seg) == [
        "Turkey bought less gas from\nRussia in 2023.",
        "Ankara diversified.",
        "Two risks could change that:",
    ]
    assert [n.kind for n in seg.uncertainties] == ["phrase_list_item", "phrase_list_item"]
    assert (seg.metadata.author, seg.metadata.date) == ("Elena Sorokina", dt.date(2024, 6, 3))


def test_a_list_whose_items_end_in_semicolons_may_still_hold_sentences() -> None:
    text = "Our method:\n\n1) we took every signal;\n2) we matched each ship;\n3) we dropped calls."
    assert _claims(segment(text))[1:] == [
        "we took every signal;",
        "we matched each ship;",
        "we dropped calls.",
    ]


WORDPRESS = """<html><head><title>Caspian ports &#8211; Steppe Monitor</title></head>
<body class="single single-post"><div id="page" class="site">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<div id="masthead" class="site-header"><p class="site-title">Steppe Monitor</p></div>
<div id="content" class="site-content"><div class="post-182 post type-post">
<h1 class="entry-title">Caspian ports bet on the Middle Corridor</h1>
<div class="entry-meta"><span class="posted-on">Posted on <time datetime="2024-02-14">February
14, 2024</time></span><span class="byline"> by <span class="author vcard"><a>Aigerim
Nurlanova</a></span></span></div>
<div class="entry-content"><p>Aktau handled 6.2 million tonnes (Kazinform, January 20).</p>
<div class="sharedaddy"><h3>Share this:</h3></div></div>
<div class="entry-footer">Posted in <a>Transport</a></div></div>
<div id="comments" class="comments-area"><p>Great article!</p></div></div>
<div id="secondary" class="widget-area"><h2>Recent Posts</h2></div>
<div id="colophon" class="site-footer"><p>Proudly powered by WordPress</p></div>
</div></body></html>"""


def test_a_wordpress_page_without_main_or_article() -> None:
    text = html_to_text(WORDPRESS)
    assert text == (
        "# Caspian ports bet on the Middle Corridor\n\n"
        "Posted on February 14, 2024 by Aigerim Nurlanova\n\n"
        "Aktau handled 6.2 million tonnes (Kazinform, January 20)."
    )
    seg = segment(text)
    assert [k for k, _ in _kinds(seg)] == ["title", "dateline", "body"]
    assert (seg.metadata.author, seg.metadata.date) == ("Aigerim Nurlanova", dt.date(2024, 2, 14))
    assert [c.date for c in seg.citations] == [dt.date(2024, 1, 20)]
