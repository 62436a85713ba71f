"""Split an article into blocks, sentences, claims and citations.

Pure standard library: reading files and storing results live elsewhere. Every offset is a
code-point index into the text handed to :func:`segment`, end exclusive, and every span is
stripped of surrounding whitespace. The rules are deliberately conservative heuristics: when
unsure, a sentence stays one claim, because analysts can split and merge in the browser but
cannot easily spot a wrong split. Nothing is guessed silently: what the rules could not
decide is listed in ``Segmentation.uncertainties``, and a citation whose year cannot be
known is returned undated rather than placed in some year.

Structure comes from plain text and Markdown (``html_to_text`` renders HTML as such):
blocks are paragraphs, and also each list item, block quote, footnote definition and each
line of the header (title, subtitle, byline, dateline). Claims come from body paragraphs,
block quotes and list items that are sentences (a finite verb, or a final full stop); a
list item that is a bare phrase ("Lower tariffs") is a ``list_item`` block without claims.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, NamedTuple


class SegmentationError(ValueError):
    """The text holds nothing that could become a claim."""


# Block kinds. Claims come from the first three only.
CLAIM_KINDS = frozenset({"body", "list_item", "quote"})
BLOCK_KINDS = (
    *("body", "list_item", "quote", "artifact", "title", "subtitle", "byline", "dateline"),
    *("metadata", "heading", "caption", "footnote", "references", "author_bio"),
)
# Past this many words a sentence is reported: it may be several run together, or a list.
LONG_SENTENCE_WORDS = 80


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # one of BLOCK_KINDS
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Citation:
    outlet: str
    date: dt.date | None  # the first day of the period it names; None when undated
    raw: str
    year_source: str  # explicit, publication_date or none
    start: int
    end: int
    group_start: int
    group_end: int
    sentence: int
    precision: str = "day"  # day, month, year or none (undated)


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    section: str
    block: int


@dataclass(frozen=True, slots=True)
class Claim:
    start: int
    end: int
    sentence: int
    section: str
    citations: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Uncertainty:
    """Something the rules decided without being sure, or could not decide, for a person
    to look at: ``kind`` is a key (see UNCERTAINTY_KINDS), ``message`` one sentence."""

    kind: str
    start: int
    end: int
    message: str


UNCERTAINTY_KINDS = {
    "undated_citation": "a citation whose year cannot be known; it has no date",
    "citation_part": "part of a citation group that names no outlet and date",
    "back_reference": "an ibid. with no citation before it; not made a citation",
    "long_sentence": f"a sentence of more than {LONG_SENTENCE_WORDS} words",
    "unclassified_paragraph": "a body paragraph without a finite verb, kept as claims",
    "possible_heading": "a short line without a full stop read as a heading, though it "
    "reads like a clause",
    "article_date": "a dateline without a year: the article's date stays unknown",
    "phrase_list_item": "a list item read as a phrase (no claims) that may be a sentence",
}


@dataclass(frozen=True, slots=True)
class Metadata:
    title: str = ""
    subtitle: str = ""
    publication: str = ""
    volume: int | None = None
    issue: int | None = None
    author: str = ""
    date: dt.date | None = None  # from a dateline, byline or metadata line, with its year
    date_at: tuple[int, int] | None = None  # the span of the block it was read from


@dataclass(frozen=True, slots=True)
class Segmentation:
    text: str
    blocks: tuple[Block, ...]
    sentences: tuple[Sentence, ...]
    claims: tuple[Claim, ...]
    citations: tuple[Citation, ...]
    metadata: Metadata
    uncertainties: tuple[Uncertainty, ...] = ()


# ------------------------------------------------------------------------------ word lists


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_AUX = _words(
    "is are was were am has have had do does did can could may might must shall should will "
    "would cannot"
)
_SUBJECT_PRONOUNS = _words(
    "i we you he she it they there this these those what one everything nothing everyone "
    "someone something nobody anyone anything everybody somebody none neither either"
)
_DETERMINERS = _words(
    "the a an its their his her our my your no every each this these those such another some "
    "many few both all any several most other"
)
_OBJECT_PRONOUNS = _words(
    "it them him her us me you itself themselves himself herself ourselves myself"
)
_PREPOSITIONS = _words(
    "of in on at by for with from to into onto upon over under about against between among "
    "through during without within across along around behind beyond despite toward towards "
    "via per than like unlike amid regarding off out up down including"
)
_SUBORDINATORS = _words(
    "while when whenever since although though because as if unless until once after before "
    "whereas whether where wherever"
)
_RELATIVES = _words("that which who whom whose whereby")
_CONJUNCTIONS = _words("and or but nor yet so")
_ADVERBS = _words(
    "also now then still yet even only just already thus hence therefore however moreover "
    "furthermore instead rather hardly never always often sometimes later soon too again "
    "further perhaps maybe not much far very quite almost nearly hitherto thereby meanwhile "
    "nevertheless nonetheless accordingly consequently likewise similarly otherwise indeed "
    "today ago"
)
# Adverbs that may open a coordinated clause without being its subject ("but now China ...").
_LEADING_ADVERBS = _words(
    "now then later still yet meanwhile today however therefore thus hence instead moreover "
    "furthermore nevertheless nonetheless indeed perhaps consequently accordingly likewise "
    "similarly"
)
_LEADING_PHRASES = (("since", "then"), ("by", "then"), ("until", "then"), ("even", "so"))
_FOCUS = _words("only even just not almost nearly")
# After these a lowercase open-class word is a verb: "they work", "the two rarely agree".
_PLAIN_SUBJECTS = _words("i we you they")
_FREQUENCY = _words("rarely seldom never often always usually sometimes also still now")
_PARTICLES = _words("off out up down on back away over")
_NUMBERS = _words("one two three four five six seven eight nine ten dozens hundreds")
_IRREGULAR_PAST = _words(
    "took found made said saw gave got held met sent sought spent stood told thought won wrote "
    "began brought built caught chose fell felt kept knew lost meant paid rose spoke struck "
    "taught went came became grew drew ran sat bought fought heard understood drove broke "
    "forgot threw shook sold slept"
)
_VERB_WORDS = _AUX | _IRREGULAR_PAST  # verbs whatever their place in the sentence
_CLOSED = (
    _AUX | _SUBJECT_PRONOUNS | _DETERMINERS | _OBJECT_PRONOUNS | _PREPOSITIONS | _SUBORDINATORS
) | (_RELATIVES | _CONJUNCTIONS | _ADVERBS | _NUMBERS | frozenset({"be", "been", "being"}))
_CONTRACTED_IS = frozenset(f"{w}{a}s" for w in ("it", "that", "there", "what") for a in "’'")
# Words that open sentences, so that "the U.S. The Fed ..." ends after "U.S."; an auxiliary
# opens one only after a clause ("... you and I. Did you ...", not "The E.U. has ...").
_SENTENCE_STARTERS = (_CLOSED - _AUX) | _words("how why according")
# Conjunctions that join two independent clauses after a comma.
_CLAUSE_CONJUNCTIONS = _words("and but whereas so yet nor for")
# "..., for years Moscow ...", "..., for example": "for" as a preposition, not a conjunction.
_FOR_PHRASES = _words("time times example instance years decades months weeks days now once")

_TITLE_ABBREVIATIONS = _words(
    "mr mrs ms dr prof st gen col lt sgt capt cmdr adm sen rep gov rev hon mt fr messrs "
    "e.g i.e cf vs viz approx"
)
_NUMBER_ABBREVIATIONS = _words("no nos vol vols pp p fig figs art sec ch n° nº")
_MONTH_ABBREVIATIONS = _words("jan feb mar apr jun jul aug sep sept oct nov dec")
_AMBIGUOUS_ABBREVIATIONS = _words("etc inc ltd co corp jr sr al bros")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")

_MONTHS = {
    name: number
    for number, names in enumerate(
        [(), ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr")]
        + [("may",), ("june", "jun"), ("july", "jul"), ("august", "aug")]
        + [("september", "sep", "sept"), ("october", "oct"), ("november", "nov")]
        + [("december", "dec")]
    )
    for name in names
}

# Page-capture leftovers seen in saved articles; a whole paragraph must read exactly so.
_ARTIFACTS = frozenset(
    {
        "placeholder canvas",
        "advertisement",
        "skip to content",
        "skip to main content",
        "share",
        "share this article",
        "read more",
        "continue reading",
        "back to top",
    }
)
_REFERENCE_HEADINGS = _words(
    "references notes endnotes footnotes sources bibliography citations literature"
) | frozenset({"works cited", "further reading", "sources and notes", "notes and references"})

# ------------------------------------------------------------------------------ dates

_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:1[89]|2[01])\d{2})"
_DATE_FORMS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rf"{_YEAR}-(?P<month>\d{{2}})(?:-(?P<day>\d{{2}}))?",  # 2024-03-03, 2024-03
        rf"(?P<name>{_MONTH_NAME})\s+{_DAY}(?:,?\s+{_YEAR})?",  # March 3, 2024 / March 3
        rf"{_DAY}\s+(?P<name>{_MONTH_NAME})(?:,?\s+{_YEAR})?",  # 3 March 2024 / 3 March
        rf"(?P<name>{_MONTH_NAME}),?\s+{_YEAR}",  # April 2024
        rf"(?P<name>{_MONTH_NAME})",  # April
        _YEAR,  # 2024
    )
)
_DIGIT_FORMS = (_DATE_FORMS[0], _DATE_FORMS[2], _DATE_FORMS[5])
_NAME_FORMS = (_DATE_FORMS[1], _DATE_FORMS[3], _DATE_FORMS[4])
_WEEKDAY = re.compile(
    r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+", re.IGNORECASE
)
_CLOCK = re.compile(
    r",?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,5}(?:[+-]\d{1,2})?)?$",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(
    r"(?:(?:first\s+)?published|updated|last\s+updated|posted|date|filed)(?:\s+on)?\s*:?\s+",
    re.IGNORECASE,
)

_DateParts = tuple[int | None, int | None, int | None]  # year, month, day


def _parse_date(value: str) -> _DateParts | None:
    """Year, month and day of a date as written, each None when not given; None if no date."""
    value = value.strip()
    if not value:
        return None
    if value[0].isalpha() and (weekday := _WEEKDAY.match(value)):
        value = value[weekday.end() :]
    for form in _DIGIT_FORMS if value[:1].isdigit() else _NAME_FORMS:
        match = form.fullmatch(value)
        if not match:
            continue
        found = match.groupdict()
        year = int(found["year"]) if found.get("year") else None
        name = found.get("name")
        month = _MONTHS[name.lower().rstrip(".")] if name else None
        if found.get("month"):
            month = int(found["month"])
        day = int(found["day"]) if found.get("day") else None
        if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
            return None
        return year, month, day
    return None


def _precision(parts: _DateParts) -> str:
    return "day" if parts[2] else "month" if parts[1] else "year"


def _resolve(
    parts: _DateParts, reference: dt.date | None
) -> tuple[dt.date | None, str, str] | None:
    """(date, precision, year_source) of a cited date, or None if it is no date at all.

    A year left out is the latest that puts the date on or before ``reference``; without a
    reference the date is unknown: (None, "none", "none").
    """
    year, month, day = parts
    if year is not None:
        try:
            return dt.date(year, month or 1, day or 1), _precision(parts), "explicit"
        except ValueError:
            return None  # "February 30, 2021"
    if month is None:
        return None
    try:
        dt.date(2000, month, day or 1)  # a leap year: is there any year with this day?
    except ValueError:
        return None
    if reference is None:
        return None, "none", "none"
    for candidate in range(reference.year, reference.year - 9, -1):  # nine years hold a leap
        try:
            date = dt.date(candidate, month, day or 1)
        except ValueError:
            continue
        if date <= reference:
            return date, _precision(parts), "publication_date"
    return None, "none", "none"


def _date_line(raw: str) -> _DateParts | None:
    """The date of a line that is only a date: "Published: Tuesday, 5 March 2024, 09:30 GMT"."""
    value = raw.strip()
    if len(value) > 80:
        return None
    if label := _DATE_LABEL.match(value):
        value = value[label.end() :]
    value = _CLOCK.sub("", value)
    parts = _parse_date(value)
    # A bare year or month ("2024", "May") is no dateline.
    return parts if parts and parts[1] and (parts[0] or parts[2]) else None


# ------------------------------------------------------------------------------ text input


def normalise_newlines(text: str) -> str:
    """Turn CRLF and lone CR into LF; everything else (tabs, NBSP, runs of spaces) stays."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


_SKIPPED_TAGS = _words(
    "script style noscript template iframe head nav footer aside form button select svg "
    "canvas dialog"
)
_BLOCK_TAGS = _words(
    "p div h1 h2 h3 h4 h5 h6 li br hr section article main header blockquote tr ul ol dl dt dd "
    "pre figure figcaption table thead tbody tfoot caption address details summary"
)
_VOID_TAGS = _words("br hr img meta link input area base col embed source track wbr")
# Site furniture by class, id or role: dropped with everything inside. Never applied to
# <html>, <body>, <main> or <article>, which would drop the text itself.
_CHROME_TOKENS = _words(
    "cookie cookies consent share sharing social newsletter subscribe subscription related "
    "advert adverts advertisement adslot sponsored promo breadcrumb breadcrumbs comments "
    "sidebar popup modal paywall"
)
_CHROME_ROLES = _words("navigation banner contentinfo complementary dialog alertdialog search")
# Whole class names or ids of site furniture in common themes (WordPress, Bootstrap).
_CHROME_NAMES = _words(
    "site-header site-footer site-title site-description site-branding masthead colophon "
    "entry-footer post-footer skip-link screen-reader-text sr-only visually-hidden "
    "widget-area widget secondary post-navigation nav-links sharedaddy"
)
# Containers that hold the article on pages without <main> or <article>.
_MAIN_NAMES = _words(
    "post hentry type-post entry-content post-content article-body article-content story-body"
)
_CONTENT_TAGS = _words("html body main article")
# HTML collapses ASCII whitespace only; a no-break space is content and must survive.
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_CAPTION_LABEL = re.compile(
    r"(?:photo|image|picture|figure|fig\.|chart|graphic|map|illustration|caption|credit|video)"
    r"(?:\s+\d+)?\s*[:.|—–-]\s",
    re.IGNORECASE,
)


def _is_chrome(tag: str, attrs: dict[str, str]) -> bool:
    if tag in _CONTENT_TAGS:
        return False
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    if attrs.get("role", "").lower() in _CHROME_ROLES:
        return True
    names = f"{attrs.get('class', '')} {attrs.get('id', '')}".lower()
    if any(name in _CHROME_NAMES for name in names.split()):
        return True
    return any(token in _CHROME_TOKENS for token in re.split(r"[\s_-]+", names))


def _is_main(tag: str, attrs: dict[str, str]) -> bool:
    if tag in ("main", "article"):
        return True
    if tag not in ("div", "section"):
        return False
    names = attrs.get("class", "").lower().split()
    return (
        attrs.get("role") == "main"
        or attrs.get("itemprop") == "articleBody"
        or any(name in _MAIN_NAMES for name in names)
    )


@dataclass
class _HtmlParagraph:
    text: str
    in_main: bool
    in_site_header: bool
    is_h1: bool
    quote: int = 0  # which <blockquote> it is in, numbered from 1


class _TextExtractor(HTMLParser):
    """The page's paragraphs, rendered as the Markdown-like text ``segment`` reads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[_HtmlParagraph] = []
        self.title = ""
        self.meta: dict[str, str] = {}
        self.saw_main = False
        self._skip: list[list[Any]] = []  # [tag, nesting] of the dropped elements
        self._parts: list[str] = []
        # [tag, "main" or "site_header", nesting] of the open regions, innermost last.
        self._regions: list[list[Any]] = []
        self._quote_depth = 0
        self._quotes = 0  # <blockquote> elements opened so far
        self._lists: list[list[Any]] = []  # [tag, next number]
        self._in_title = False
        self._heading = 0
        self._prefix = ""
        self._caption = False
        self._byline = False
        self._time: tuple[int, str] | None = None  # where its text starts, its datetime
        self._sup: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "body" and any(entry[0] == "head" for entry in self._skip):
            # A missing </head> must not hide the whole page.
            del self._skip[[entry[0] for entry in self._skip].index("head") :]
        if tag == "title":
            self._in_title = True
            return
        if tag == "meta":
            key = (attr.get("name") or attr.get("property") or attr.get("itemprop", "")).lower()
            self.meta.setdefault(key, attr.get("content", ""))
            return
        if self._skip:
            if tag == self._skip[-1][0] and tag not in _VOID_TAGS:
                self._skip[-1][1] += 1
            return
        if tag in _SKIPPED_TAGS or _is_chrome(tag, attr):
            if tag not in _VOID_TAGS:
                self._skip.append([tag, 0])
            return
        if tag in _BLOCK_TAGS:
            self._flush()
        if _is_main(tag, attr):
            self.saw_main = True
            self._regions.append([tag, "main", 0])
        elif tag == "header" and not self._in_main():
            self._regions.append([tag, "site_header", 0])
        elif self._regions and tag == self._regions[-1][0] and tag not in _VOID_TAGS:
            self._regions[-1][2] += 1
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = int(tag[1])
        elif tag in ("ul", "ol"):
            start = attr.get("start", "1")
            self._lists.append([tag, int(start) if start.isdigit() else 1])
        elif tag == "li":
            if self._lists and self._lists[-1][0] == "ol":
                self._prefix = f"{self._lists[-1][1]}. "
                self._lists[-1][1] += 1
            else:
                self._prefix = "- "
        elif tag == "blockquote":
            self._quote_depth += 1
            self._quotes += 1
        elif tag == "figcaption":
            self._caption = True
        elif tag == "address" or (
            tag == "a" and "author" in attr.get("rel", "").split() and not "".join(self._parts)
        ):
            self._byline = True
        elif tag == "time" and attr.get("datetime"):
            self._time = (len(self._parts), attr["datetime"])
        elif tag == "sup":
            self._sup = len(self._parts)
        elif tag in ("td", "th"):
            self._parts.append(" ")

    def _in_main(self) -> bool:
        return any(region[1] == "main" for region in self._regions)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if self._skip:
            names = [entry[0] for entry in self._skip]
            if tag == names[-1] and self._skip[-1][1]:
                self._skip[-1][1] -= 1
            elif tag in names:  # close it, and any stray element left open inside it
                del self._skip[len(names) - 1 - names[::-1].index(tag) :]
            return
        if tag == "time" and self._time is not None:
            at, value = self._time
            # "2 hours ago" means nothing in a stored text: the machine-readable date does.
            if _date_line("".join(self._parts[at:])) is None and _parse_date(value[:10]):
                self._parts[at:] = [value[:10]]
            self._time = None
        elif tag == "sup" and self._sup is not None:
            marker = "".join(self._parts[self._sup :]).strip()
            if marker.isdigit() and len(marker) <= 3:
                self._parts[self._sup :] = [f"[{marker}]"]
            self._sup = None
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = 0
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()
        elif tag == "blockquote" and self._quote_depth:
            self._quote_depth -= 1
        elif tag == "figcaption":
            self._caption = False
        elif tag == "address":
            self._byline = False
        if self._regions and tag == self._regions[-1][0]:
            if self._regions[-1][2]:
                self._regions[-1][2] -= 1
            else:
                self._regions.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = _HTML_SPACE.sub(" ", "".join(self._parts)).strip(" ")
        self._parts = []
        if not text.strip():
            return
        if self._heading:
            text = "#" * self._heading + " " + text
        elif self._caption and not _CAPTION_LABEL.match(text):
            text = "Figure: " + text
        elif self._byline and not text.lower().startswith("by "):
            text = "By " + text
        else:
            text = self._prefix + text
        if self._quote_depth:
            text = "> " + text
        self.paragraphs.append(
            _HtmlParagraph(
                text,
                self._in_main(),
                any(region[1] == "site_header" for region in self._regions),
                self._heading == 1,
                self._quotes if self._quote_depth else 0,
            )
        )
        self._prefix = ""
        self._byline = False


def html_to_text(html: str) -> str:
    """The main text of an HTML page as Markdown-like paragraphs separated by a blank line.

    Headings become ``#`` lines, list items ``- `` or ``1. `` lines, block quotes ``> ``
    lines, figure captions ``Figure: `` lines and an author link or ``<address>`` a
    ``By `` line, so that ``segment`` finds the structure in the stored text itself (the
    text is what is stored and segmented again). A ``<time>`` whose text is no date
    ("2 hours ago") shows its ``datetime``. Scripts, styles, navigation, asides, forms,
    footers, the site header and furniture marked by class or role (cookie banners, share
    tools, newsletter boxes, related links) are dropped.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    kept = [
        p
        for p in parser.paragraphs
        if (p.in_main or not parser.saw_main) and (p.is_h1 or not p.in_site_header)
    ]
    texts: list[str] = []
    for n, p in enumerate(kept):
        if n and p.quote and p.quote == kept[n - 1].quote:
            texts[-1] += "\n>\n" + p.text  # one quote of several paragraphs, as Markdown has it
        else:
            texts.append(p.text)
    title = _HTML_SPACE.sub(" ", parser.title).strip(" ")
    # The <title> usually repeats the <h1>; it only stands in when the page has none.
    if title.strip() and not any(p.is_h1 for p in kept):
        texts.insert(0, "# " + title)
    after_title = 1 if texts and texts[0].startswith("# ") else 0
    # Metadata the page gives only in <meta>: shown after the title, as a text would.
    author = _HTML_SPACE.sub(" ", parser.meta.get("author", "")).strip(" ")
    published = parser.meta.get("article:published_time") or parser.meta.get("datepublished")
    if published and _parse_date(published[:10]) and not any(_date_line(t) for t in texts):
        texts.insert(after_title, f"Published: {published[:10]}")
    if author and not any(t.lower().startswith("by ") for t in texts):
        texts.insert(after_title, f"By {author}")
    return "\n\n".join(texts)


# ------------------------------------------------------------------------------ blocks

_ALNUM = re.compile(r"[^\W_]")  # a character that str.isalnum() accepts
_MD_HEADING = re.compile(r"[ \t]{0,3}(#{1,6})[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")
_QUOTE_LINE = re.compile(r"[ \t]{0,3}>[ \t]?")
_LIST_MARKER = re.compile(
    r"[ \t]*(?:(?P<bullet>[-*+•⁃‣◦▪●–])[ \t]*)?"
    r"(?:(?P<number>\d{1,3})(?P<nsep>\.\)|[.)])|\((?P<paren>\d{1,3}|[a-z])\)"
    r"|(?P<letter>[a-z])(?P<lsep>[.)]))?"
    r"[ \t]+(?=\S)"
)
_FOOTNOTE_LINE = re.compile(r"[ \t]*(?:\[\^?\d{1,3}\]:?|\^\d{1,3})[ \t]+(?=\S)")
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_METADATA = re.compile(
    r"(?:publication|published|volume|issue|date|author|authors|source|sources|publisher|"
    r"updated|posted|filed|tags|topics|keywords)\s*:",
    re.IGNORECASE,
)
_CREDITS = re.compile(
    r"(?:additional\s+)?(?:reporting|editing|writing|compiled|translated|research)\s+by\b",
    re.IGNORECASE,
)
_CURRENCY_NOTE = re.compile(r"\(\s*[$€£¥₽]?\s?1\s*=\s*[^()\n]{1,40}\)")
_HEADER_SEPARATOR = re.compile(r"\s+[|·•—–]\s+|\s+-\s+")
_WIRE_DATELINE = re.compile(
    r"(?P<place>[A-Z][A-Z'’.\-]{2,}(?:[ /][A-Z][A-Z'’.\-]+)*(?:,\s+[A-Z][A-Za-z.]+"
    r"(?:\s[A-Z][A-Za-z.]+)*)?)"
    r"(?:,\s+(?P<date>[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s+\d{4})?))?"
    r"\s*(?:\((?P<agency>[A-Z][\w.&' ]{0,40})\))?"
    r"\s*(?:--|-|–|—)\s+(?=\S)"
)
_DATED_BYLINE = re.compile(r"(?P<date>.+?),?\s+by\s+(?P<names>[A-Z].*)")  # "Posted on ... by ..."
_PAGE_LINE = re.compile(
    r"(?:.*(?:\s{3,}|\t|\s[|—–]\s))?(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"
    r"|\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|[-–—]\s*\d{1,4}\s*[-–—]",
    re.IGNORECASE,
)  # "Page 2", "2 of 14", "- 3 -", and a running header with its page number
_NAME_PARTICLES = _words("and & de van von der da di du la le bin al y")
_BIO = re.compile(
    r"[*_]*(?P<name>[A-Z][\w’'\-]*\.?(?:\s+[A-Z][\w’'\-]*\.?){1,4})\s+(?:is|was|has been|serves as)"
    r"\s+(?:a|an|the)\b[^.]*?\b(?:researcher|fellow|professor|analyst|editor|journalist|"
    r"director|scholar|writer|author|correspondent|lecturer|expert|consultant|scientist|"
    r"reporter|columnist|economist|historian|adviser|advisor|specialist|founder|associate|"
    r"officer|diplomat|candidate|student)s?\b"
)


def _is_page_line(line: str) -> bool:
    return len(line) <= 160 and line[-1:] in "0123456789-–—" and bool(_PAGE_LINE.fullmatch(line))


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _unwrap(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without wrapping emphasis: "*A look at ports*" -> "A look at ports"."""
    while end - start > 2 and text[start] in "*_" and text[end - 1] == text[start]:
        start, end = _strip(text, start + 1, end - 1)
    return start, end


@dataclass
class _Part:
    """A block in the making: its span, its lines and the markup it came with."""

    start: int
    end: int
    lines: list[tuple[int, int]]
    form: str = "text"  # text, heading, list_item, quote or footnote
    level: int = 0  # of a Markdown heading
    header_line: bool = False  # a line split off a header paragraph (title, then subtitle)
    kind: str = "body"
    dateline: tuple[str, str] = ("", "")  # date and agency of a wire dateline
    marker: int = -1  # where the list marker of a list item starts


def _list_marker(text: str, start: int, end: int) -> re.Match[str] | None:
    match = _LIST_MARKER.match(text, start, end)
    if match and any(match.group(g) for g in ("bullet", "number", "paren", "letter")):
        return match
    return None


def _successor(match: re.Match[str]) -> re.Pattern[str]:
    """The marker of the next item of the same list, after a space: "2." after "1."."""
    bullet = re.escape(match.group("bullet") or "")
    if match.group("number"):
        value = re.escape(str(int(match.group("number")) + 1) + match.group("nsep"))
    elif match.group("paren"):
        paren = match.group("paren")
        following = str(int(paren) + 1) if paren.isdigit() else chr(ord(paren) + 1)
        value = re.escape(f"({following})")
    elif match.group("letter"):
        value = re.escape(chr(ord(match.group("letter")) + 1) + match.group("lsep"))
    else:
        value = ""
    between = r"[ \t]*" if bullet and value else ""
    return re.compile(rf"(?<=\s){bullet}{between}{value}[ \t]+(?=\S)")


def list_items(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(marker start, content start, end) of the items of a list starting at ``start``,
    including those run together on one line ("1. The first 2. The second"); [] when the
    span does not open with a list marker."""
    match = _list_marker(text, start, end)
    if match is None:
        return []
    items = []
    marker_start = match.start() + len(match.group()) - len(match.group().lstrip())
    while True:
        following = _successor(match).search(text, match.end(), end)
        stop = following.start() if following else end
        items.append((marker_start, match.end(), _strip(text, match.end(), stop)[1]))
        again = _list_marker(text, following.start(), end) if following else None
        if again is None:
            return items
        match, marker_start = again, again.start()


def _parts(text: str) -> list[_Part]:
    """Blocks from the markup: blank lines end paragraphs; Markdown headings, list items,
    quoted lines and footnote definitions are blocks of their own."""
    parts: list[_Part] = []
    current: _Part | None = None
    pos = paragraph = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            _numbered_heading(text, parts, paragraph)
            current, paragraph = None, len(parts)
            continue
        heading = _MD_HEADING.match(text, start, end)
        quote = _QUOTE_LINE.match(text, start, end)
        footnote = _FOOTNOTE_LINE.match(text, start, end)
        if heading:
            span = _strip(text, heading.start(2), heading.end(2))
            parts.append(_Part(*span, [span], "heading", len(heading.group(1))))
            current = None
        elif quote:
            content = _strip(text, quote.end(), end)
            if content[0] >= content[1]:
                continue
            if current is not None and current.form == "quote":
                current.end = content[1]
                current.lines.append(content)
            else:
                current = _Part(*content, [content], "quote")
                parts.append(current)
        elif footnote:
            span = _strip(text, start, end)
            current = _Part(*span, [span], "footnote")
            parts.append(current)
        elif not _is_page_line(line.strip()) and (items := list_items(text, start, end)):
            for marker, item_start, item_end in items:
                current = _Part(item_start, item_end, [(item_start, item_end)], "list_item")
                current.marker = marker
                parts.append(current)
        elif current is not None:  # a line continuing the block above
            span = _strip(text, start, end)
            current.end = span[1]
            current.lines.append(span)
        else:
            span = _strip(text, start, end)
            current = _Part(*span, [span])
            parts.append(current)
    _numbered_heading(text, parts, paragraph)
    return parts


def _numbered_heading(text: str, parts: list[_Part], paragraph: int) -> None:
    """ "1. Background" alone in its paragraph is a numbered heading, not a list of one."""
    if len(parts) - paragraph != 1 or parts[-1].form != "list_item":
        return
    part = parts[-1]
    numbered = part.marker >= 0 and text[part.marker].isalnum()
    if numbered and len(part.lines) == 1 and _looks_like_heading(text[part.start : part.end], 12):
        part.form, part.level, part.start = "heading", 2, part.marker
        part.lines = [(part.start, part.end)]


def _looks_like_heading(text: str, max_words: int) -> bool:
    # Short, one line, no sentence inside: titles may end in "?", sentences end in ".".
    # The cheap tests first: every paragraph of the body is asked.
    return (
        "\n" not in text
        and len(text) <= 200
        and text[-1] not in ".!,;:"
        and len(text.split()) <= max_words
        and (text[0].isupper() or text[0].isdigit())
        and not re.search(r"[.!?]\s", text)
        and _list_marker(text, 0, len(text)) is None
    )


def _byline(raw: str) -> str | None:
    """The names of a byline ("By Jane Doe and John Roe, Moscow | 5 March 2024"), or None."""
    match = re.match(r"(?:by|words by|written by|text by)\s+", raw, re.IGNORECASE)
    if match is None or "\n" in raw or len(raw) > 200 or raw.rstrip()[-1] in ".!?:;":
        return None
    names = _HEADER_SEPARATOR.split(raw[match.end() :])[0].split(",")[0].strip()
    words = names.split()
    if not 1 <= len(words) <= 12 or not words[0][0].isupper():
        return None
    if all(w[0].isupper() or w.lower() in _NAME_PARTICLES for w in words):
        return names
    return None


def _dated_byline(raw: str) -> tuple[str, str] | None:
    """Date and names of "Posted on February 14, 2024 by Aigerim Nurlanova", or None."""
    match = _DATED_BYLINE.fullmatch(raw)
    if match and _date_line(match.group("date")) and (names := _byline("By " + match["names"])):
        return match.group("date"), names
    return None


def _header_date(raw: str) -> _DateParts | None:
    """The date a header line gives, alone or among "|"-separated parts."""
    dated = _dated_byline(raw)
    for piece in [raw, *_HEADER_SEPARATOR.split(raw), *(dated[:1] if dated else ())]:
        if parts := _date_line(piece):
            return parts
    return None


def _header_kind(raw: str) -> str:
    """byline, dateline or metadata for a header line that is one of them, else ""."""
    if "\n" in raw or len(raw) > 300:
        return ""
    if _METADATA.match(raw) or _CREDITS.match(raw) or _CURRENCY_NOTE.fullmatch(raw):
        return "metadata"
    if _byline(raw):
        return "byline"
    if _date_line(raw) or _dated_byline(raw):
        return "dateline"
    pieces = _HEADER_SEPARATOR.split(raw)
    if len(pieces) > 1 and _header_date(raw) and all(len(p.split()) <= 8 for p in pieces):
        return "metadata"  # "Policy Brief No. 14 | 16 April 2024"
    return ""


def _is_prose(text: str, part: _Part) -> bool:
    """Does this block end the header: not a heading-like line, a header line or chrome?"""
    raw = text[part.start : part.end]
    return part.form != "text" or not (
        _looks_like_heading(raw, 25) or _header_kind(raw) or not _ALNUM.search(raw)
    )


def _split_header(text: str, parts: list[_Part]) -> list[_Part]:
    """Lines of the header stand alone ("Title\\nBy Jane Doe"), and a wire dateline
    ("MOSCOW, April 9 (Reuters) - ") leaves the first paragraph as a block of its own."""
    result: list[_Part] = []
    in_header = True
    for part in parts:
        if in_header and part.form == "text" and len(part.lines) > 1:
            raws = [text[s:e] for s, e in part.lines]
            if all(len(r.split()) <= 30 for r in raws) and (
                any(_header_kind(r) for r in raws)
                or (not result and all(_looks_like_heading(r, 25) for r in raws))
            ):
                result += [_Part(s, e, [(s, e)], header_line=True) for s, e in part.lines]
                continue
        if in_header and _is_prose(text, part) and part.form == "text":
            in_header = False
            wire = _WIRE_DATELINE.match(text, part.start, part.end)
            if wire and (wire.group("date") or wire.group("agency")):
                dash_end = _strip(text, wire.start(), wire.end())[1]
                dateline = _Part(part.start, dash_end, [(part.start, dash_end)], kind="dateline")
                dateline.dateline = (wire.group("date") or "", wire.group("agency") or "")
                result.append(dateline)
                part.start = wire.end()
                part.lines[0] = (wire.end(), part.lines[0][1])
        in_header = in_header and part.form != "list_item"
        result.append(part)
    return result


def _classify(text: str, parts: list[_Part]) -> None:
    seen_title = seen_content = seen_body = in_references = False
    content = [p for p in parts if _ALNUM.search(text, p.start, p.end)]
    following = {id(a): b for a, b in zip(content, content[1:], strict=False)}
    for part in parts:
        raw = text[part.start : part.end]
        nxt = following.get(id(part))
        next_raw = text[nxt.start : nxt.end] if nxt else ""
        if part.kind == "dateline":
            pass
        elif not _ALNUM.search(raw) or raw.lower() in _ARTIFACTS:
            part.kind = "artifact"
        elif part.form == "text" and "\n" not in raw and _is_page_line(raw):
            part.kind = "artifact"  # a page number, alone or closing a running header
        elif part.form == "heading":
            first = part.level == 1 and not seen_title and not seen_body
            part.kind = "title" if first else "heading"
        elif part.form in ("quote", "footnote"):
            part.kind = part.form
        elif part.form == "list_item":
            part.kind = "references" if in_references else "list_item"
        elif _MD_IMAGE.fullmatch(raw) or (_CAPTION_LABEL.match(raw) and len(raw) <= 400):
            part.kind = "caption"
        elif header := _header_kind(raw):
            part.kind = header
        elif in_references:
            part.kind = "references"
        elif not seen_content:
            if nxt and nxt.form == "heading" and nxt.level == 1 and _looks_like_heading(raw, 6):
                part.kind = "metadata"  # a kicker above the headline: "Energy"
            elif _looks_like_heading(raw, 25) or (
                "\n" not in raw and len(raw.split()) <= 30 and _header_kind(next_raw)
            ):
                part.kind = "title"
        elif (
            seen_title
            and not seen_body
            and "\n" not in raw
            and len(raw.split()) <= 40
            and (
                part.header_line
                or _unwrap(text, part.start, part.end) != (part.start, part.end)
                or _header_kind(next_raw)
            )
        ):
            part.kind = "subtitle"
        elif _looks_like_heading(raw, 12) or _is_lead_in_heading(raw, nxt):
            part.kind = "heading"
        if part.kind == "heading":
            in_references = raw.rstrip(":").strip().lower() in _REFERENCE_HEADINGS
        seen_title = seen_title or part.kind == "title"
        seen_content = seen_content or part.kind in ("title", "heading") or seen_body
        seen_body = seen_body or part.kind in CLAIM_KINDS
        seen_content = seen_content or seen_body
    _classify_bio(text, parts)
    if not any(p.kind in CLAIM_KINDS for p in parts):
        # A lone short statement ("Moscow is worried") is still something to annotate, but
        # a text of verbless lines ("Introduction") holds headings only, and no sentences.
        for part in parts:
            words = text[part.start : part.end].split()
            if part.kind in ("title", "heading", "author_bio") and _has_finite_verb(words):
                part.kind = "body"


def _is_lead_in_heading(raw: str, nxt: _Part | None) -> bool:
    """ "What each side wants:" above a list names it and asserts nothing."""
    if not raw.endswith(":") or nxt is None or nxt.form != "list_item":
        return False
    words = raw.rstrip(":").split()
    return len(words) <= 8 and (
        words[0].lower() in ("what", "which", "how", "why", "where", "who", "key")
        or not _has_finite_verb(words)
    )


def _classify_bio(text: str, parts: list[_Part]) -> None:
    """The last paragraph is an author bio if it reads like one, or opens with the byline's
    name ("Daniel Kovacs covers energy ..."); it may follow a references section."""
    content = [p for p in parts if p.kind not in ("artifact", "caption", "footnote")]
    if not content or content[-1].form != "text" or content[-1].kind not in ("body", "references"):
        return
    last = content[-1]
    raw = text[last.start : last.end]
    names = [_byline(text[p.start : p.end]) for p in parts if p.kind == "byline"]
    author = next((n for n in names if n and " and " not in n), "")
    plain = raw.lstrip("*_ ")
    if _BIO.match(raw) or (author and plain.startswith(author + " ") and len(raw) <= 400):
        last.kind = "author_bio"


def _units(text: str, part: _Part) -> list[tuple[int, int]]:
    """Spans read as running text: the block, or each line of a block of lines none of
    which ends a sentence ("features\\ncontact manager\\nevents, activities")."""
    if len(part.lines) > 1 and not _TERMINAL.search(text, part.start, part.end):
        return [line for line in part.lines if line[0] < line[1]]
    if part.form == "quote" and len(part.lines) > 1:
        # Quoted lines carry their "> ": a line that ends a sentence ends a unit.
        units = [list(part.lines[0])]
        for start, end in part.lines[1:]:
            last = _strip(text, units[-1][0], units[-1][1])[1]
            while last > units[-1][0] and text[last - 1] in _CLOSERS:
                last -= 1
            if text[last - 1] in _TERMINALS:
                units.append([start, end])
            else:
                units[-1][1] = end
        return [(s, e) for s, e in units]
    return [(part.start, part.end)]


# ------------------------------------------------------------------------------ sentences

_WORD = re.compile(r"\w+(?:[’'\-./+]\w+)*\+?|[,;:]")
_TERMINALS = ".!?…‼⁇⁈⁉"
_TERMINAL = re.compile(f"[{_TERMINALS}]")
_BRACKET = re.compile(r'[()\[\]“”"]')  # what _pairs matches
_OPENER_OF = {")": "(", "]": "[", "”": "“"}
_NEXT_WORD = re.compile(r"[“‘\"'(\[*_«‹„]*([\w’'.\-°]*)")
_NEXT_TOKENS = re.compile(r"[\w’'\-]+|[,.]")
_CLOSERS = "”’\"')]»›」』"
_TRAILING = _TERMINALS + _CLOSERS  # what may follow a citation group that ends its sentence
_OPENERS = "“‘\"'([«‹„‚「『*_"
_FOOTNOTE_MARK = re.compile(r"\[\^?\d{1,3}\]|\^\d{1,3}|[¹²³⁴⁵⁶⁷⁸⁹⁰]+")
_FOOTNOTE_MARK_OPENERS = "[^¹²³⁴⁵⁶⁷⁸⁹⁰"  # how a _FOOTNOTE_MARK can begin


def _pairs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Matched (open, close) positions of brackets and double quotes; strays are ignored.

    Pairs never cross: of any two, one holds the other or they lie apart.
    """
    pairs: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    on_stack = dict.fromkeys('([“"', 0)  # so that a stray closer never searches the stack
    for match in _BRACKET.finditer(text, start, end):
        ch, i = match.group(), match.start()
        if ch == '"' and stack and stack[-1][0] == '"':
            pairs.append((stack.pop()[1], i))
            on_stack['"'] -= 1
        elif ch in on_stack:
            stack.append((ch, i))
            on_stack[ch] += 1
        elif on_stack[_OPENER_OF[ch]]:
            # Close the innermost opener of this kind; the strays opened inside it go.
            while True:
                opener, position = stack.pop()
                on_stack[opener] -= 1
                if opener == _OPENER_OF[ch]:
                    pairs.append((position, i))
                    break
    return pairs


def _next_word(text: str, pos: int) -> str:
    match = _NEXT_WORD.match(text, pos, pos + 60)
    return match.group(1).rstrip(".") if match else ""


def _left_has_verb(text: str, sentence_start: int, pos: int) -> bool:
    """Does the sentence so far hold a finite verb? (The last 300 characters, so that a
    sentence full of abbreviations costs linear time.)"""
    words = _WORD.findall(text, max(sentence_start, pos - 300), pos)
    return _has_finite_verb(words)


def _clause_follows(text: str, pos: int) -> bool:
    """Does a clause start at pos: a name ("Moscow", "Mr. Smith") and then a verb?"""
    tokens = _NEXT_TOKENS.findall(text, pos, pos + 120)[:10]
    j = 0
    if tokens and tokens[0].lower() in _TITLE_ABBREVIATIONS:
        j = 2 if len(tokens) > 1 and tokens[1] == "." else 1
    names = 0
    while j < len(tokens) and tokens[j][0].isupper() and names < 4:
        j, names = j + 1, names + 1
    while j < len(tokens) and (tokens[j] == "," or tokens[j].lower() in _ADVERBS):
        j += 1
    if not names or j >= len(tokens):
        return False
    word = tokens[j].lower()
    after = tokens[j + 1].lower() if j + 1 < len(tokens) else ""
    return (
        word in _AUX
        or word in _IRREGULAR_PAST
        or (word.endswith("ed") and after != "by")
        or (len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")))
    )


def _is_abbreviation(text: str, dot: int, next_pos: int, sentence_start: int) -> bool:
    before = text[max(0, dot - 40) : dot]
    if not before or before[-1].isspace():
        return False
    token = before.rsplit(None, 1)[-1]
    start = dot - len(token)
    word = token.lstrip(_OPENERS)
    dotted = "." in word and _DOTTED.fullmatch(word) is not None
    if "." in word and not dotted:
        word = word.rsplit(".", 1)[1]  # "Tuesday.Mr": the word is "Mr"
    lower = word.lower()
    if not word or word.endswith("."):  # an ellipsis, not an abbreviation
        return False
    if lower in _TITLE_ABBREVIATIONS:
        return True
    if lower in _NUMBER_ABBREVIATIONS or lower in _MONTH_ABBREVIATIONS:
        return _next_word(text, next_pos)[:1].isdigit()  # "No. 5", "Jan. 5"; "in Jan. Talks"
    initial = len(word) == 1 and word.isupper()  # "Pavel K. Baev"
    if not (initial or dotted or lower in _AMBIGUOUS_ABBREVIATIONS):
        return False
    following = _next_word(text, next_pos).lower()
    if following in _AUX:  # "The E.U. has ...", but "... you and I. Did you ..."
        return not _left_has_verb(text, sentence_start, start)
    if following in _SENTENCE_STARTERS:  # "the U.S. The ..." ends; "the U.S. Navy" does not
        return False
    if initial:
        return True  # "Robert F. Kennedy opposed ...": a name goes on
    # After a clause, before a clause, "U.S." ends it: "... welcomed by the U.S. Moscow
    # disagreed", "... at 6 P.M. Mr. Smith then went ...", but not "At 5 a.m. Mr. Smith".
    return not (_clause_follows(text, next_pos) and _left_has_verb(text, sentence_start, start))


def _glued(text: str, i: int, end: int) -> bool:
    """A full stop with no space before the next sentence: "world.Today", "1,000.That"."""
    if i < 2 or i + 2 >= end:
        return False
    before, after = text[i - 1], text[i + 1]
    if not (before.islower() or before.isdigit()) or not text[i - 2].isalnum():
        return False
    if not (after.isupper() and text[i + 2].islower()):
        return False
    start = i
    while start > max(0, i - 60) and not text[start - 1].isspace():
        start -= 1
    stop = i
    while stop < min(end, i + 60) and not text[stop].isspace():
        stop += 1
    token = text[start:stop]
    if any(mark in token for mark in ("@", "/", "_", "www.")):
        return False  # an address: "Jane.Doe@example.com", "site.Com/Page"
    word = re.split(r"\W", text[start:i])[-1].lower()
    return word not in _TITLE_ABBREVIATIONS and word not in _AMBIGUOUS_ABBREVIATIONS


class _Around:
    """The pairs around a position that only moves forward, outermost first.

    A sweep, because looking through every pair of a paragraph at every full stop would
    make a long paragraph quadratic. Pairs nest (see :func:`_pairs`), so those around the
    position form a stack.
    """

    def __init__(self, pairs: list[tuple[int, int]]) -> None:
        self._ahead = sorted(pairs, reverse=True)  # by opening, the next one last
        self._around: list[tuple[int, int]] = []

    def at(self, i: int) -> list[tuple[int, int]]:
        """The pairs with open < i < close; i is never less than at the call before."""
        while self._ahead and self._ahead[-1][0] < i:
            pair = self._ahead.pop()
            while self._around and self._around[-1][1] < pair[0]:
                self._around.pop()  # closed before this pair opened
            self._around.append(pair)
        while self._around and self._around[-1][1] <= i:
            self._around.pop()  # closed before i
        return self._around


def _dot_run(text: str, i: int, end: int) -> tuple[int, int]:
    """Count and end of a spaced ellipsis ". . ." starting with the full stop at i."""
    j, count = i, 1
    while j + 2 < end and text[j + 1] == " " and text[j + 2] == ".":
        j, count = j + 2, count + 1
    return count, j + 1


def _after_stop(text: str, k: int, end: int) -> int:
    """Past closing quotes and brackets and footnote markers that follow a stop."""
    while k < end:
        if text[k] in _CLOSERS:
            k += 1
        elif text[k] in _FOOTNOTE_MARK_OPENERS and (mark := _FOOTNOTE_MARK.match(text, k, end)):
            k = mark.end()
        else:
            return k
    return k


def _sentence_end(
    text: str, i: int, end: int, sentence_start: int, around: list[tuple[int, int]]
) -> tuple[int | None, int]:
    """(End offset of a sentence whose final punctuation is at i, or None; where to look
    for the next stop). ``around`` holds the pairs that open before i and close after it."""
    k = i + 1
    spaced = text[i] == "." and text.startswith(" .", i + 1)
    if spaced and i > 0 and not text[i - 1].isspace():
        # "compounds. . . . The practice": the stop ends the sentence and the ellipsis
        # opens the next one; "complex. . . .” " and "weakened . . . was" go on.
        count, run_end = _dot_run(text, i + 2, end)
        nxt = _strip(text, _after_stop(text, run_end, end), end)[0]
        starts = nxt < end and text[nxt].isupper() and count >= 3
        if starts and not any(close >= k for _, close in around):
            return k, k
        return None, k
    if text[i] == "." and ((i > 0 and text[i - 1] == " ") or spaced):
        count, k = _dot_run(text, i, end)
        if count < 4:
            return None, k  # ". . ." leaves a sentence open; ". . . ." may close it
    else:
        while k < end and text[k] in _TERMINALS:
            k += 1  # "?!", "...", "…"
    resume = k
    k = _after_stop(text, k, end)
    for open_, close in around:
        # Inside quotes or brackets only a final stop ends the sentence; inside brackets only
        # when the brackets hold the whole sentence.
        if close >= k or (text[close] in ")]" and open_ != sentence_start):
            return None, resume
    if k < end and not text[k].isspace():
        if text[i] == "." and k == i + 1 and _glued(text, i, end):
            return k, k
        return None, resume  # "3.5", "Kremlin.ru", "U.S.-China"
    nxt = _strip(text, k, end)[0]
    if nxt >= end:
        return k, k
    if not (text[nxt].isupper() or text[nxt].isdigit() or text[nxt] in _OPENERS):
        return None, resume
    if text[i] == "." and k == i + 1 and _is_abbreviation(text, i, nxt, sentence_start):
        return None, resume
    return k, k


def _sentence_spans(
    text: str, start: int, end: int, scan_from: int | None = None
) -> list[tuple[int, int]]:
    """Sentences of running text in [start, end); stops before ``scan_from`` (a list
    marker's "1.") end nothing."""
    pairs = _pairs(text, start, end)
    around = _Around(pairs)
    spans: list[tuple[int, int]] = []
    current = start
    sentence_start = _strip(text, current, end)[0]
    resume = start if scan_from is None else scan_from
    for terminal in _TERMINAL.finditer(text, resume, end):
        i = terminal.start()
        if i < resume:
            continue  # a later mark of the stop just taken: "?!", "...", ". . ."
        stop, resume = _sentence_end(text, i, end, sentence_start, around.at(i))
        if stop is not None:
            spans.append(_strip(text, current, stop))
            current = stop
            sentence_start = _strip(text, current, end)[0]
    spans.append(_strip(text, current, end))
    closing = dict(pairs)  # no two pairs open at the same place
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        close = closing.get(s)
        if merged and close and text[s] == "(" and _group_sources(text, s + 1, close, None):
            # "Text. (Outlet, May 5) Next ...": the stray group belongs to the sentence before.
            group_end = close + 1
            while group_end < e and text[group_end] in _TERMINALS:
                group_end += 1
            merged[-1] = (merged[-1][0], group_end)
            s = _strip(text, group_end, e)[0]
        if _ALNUM.search(text, s, e):
            merged.append((s, e))
    return merged


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a piece of running text, with no document structure around it:
    a list run together on one line gives one span per item, its marker included."""
    spans: list[tuple[int, int]] = []
    start, end = _strip(text, 0, len(text))
    items = list_items(text, start, end)
    if items:
        for marker, content, item_end in items:
            spans += _sentence_spans(text, marker, item_end, content)
        return spans
    lines = []
    pos = 0
    for line in text[:end].split("\n"):
        lines.append(_strip(text, pos, pos + len(line)))
        pos += len(line) + 1
    part = _Part(start, end, [line for line in lines if line[0] < line[1]])
    for s, e in _units(text, part):
        spans += _sentence_spans(text, s, e)
    return spans


# ------------------------------------------------------------------------------ citations

_URL = re.compile(r"(?:https?://|www\.)[^\s()<>]+", re.IGNORECASE)
_URL_DAY = re.compile(r"(?<!\d)((?:19|20)\d{2})[/-](\d{2})[/-](\d{2})(?!\d)")
_URL_MONTH = re.compile(r"/((?:19|20)\d{2})/(\d{2})/")
_IBID = re.compile(r"ibid(?:em)?\.?(?:,\s*(?P<rest>.+))?", re.IGNORECASE)
_UNDATED = re.compile(r"n\.\s?d\.?|undated|no date", re.IGNORECASE)
# Words that open a parenthetical remark, not an outlet: "(see May 5)", "(up 5%, 2024)".
_NOT_OUTLETS = _PREPOSITIONS | _SUBORDINATORS | _words("see also e.g. i.e. cf. est. born died")

# outlet, (date, precision, year_source), start, end
_Source = tuple[str, tuple[dt.date | None, str, str], int, int]


def _outlet(value: str) -> bool:
    words = value.split()
    return (
        0 < len(value) <= 80
        and len(words) <= 8
        and (value[0].isupper() or value[0].isdigit())
        and any(ch.isalpha() for ch in value)
        and words[0].lower() not in _NOT_OUTLETS
        and "%" not in value
    )


def _url_source(url: str) -> tuple[str, tuple[dt.date | None, str, str]]:
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE).split("/")[0]
    if day := _URL_DAY.search(url):
        dated = _resolve((int(day.group(1)), int(day.group(2)), int(day.group(3))), None)
        if dated:
            return host.lower(), dated
    if month := _URL_MONTH.search(url):
        dated = _resolve((int(month.group(1)), int(month.group(2)), None), None)
        if dated:
            return host.lower(), dated
    return host.lower(), (None, "none", "none")


def _source(
    part: str, reference: dt.date | None, previous: _Source | None
) -> tuple[str, tuple[dt.date | None, str, str]] | None:
    """Outlet and date of one part of a citation group, or None if it is not a citation."""
    head = part[:4].lower()
    if head in ("http", "www.") and _URL.fullmatch(part):
        return _url_source(part)
    if head == "ibid" and (ibid := _IBID.fullmatch(part)):
        if previous is None:
            return None
        rest = ibid.group("rest")
        parts = _parse_date(rest) if rest else None
        dated = _resolve(parts, reference) if parts else None
        return previous[0], dated or previous[1]
    outlet, comma, rest = part.partition(",")
    outlet, rest = outlet.strip(), rest.strip()
    if not comma or not _outlet(outlet):
        return None
    url = _URL.search(rest) if "http" in rest or "www." in rest else None
    if url and url.end() == len(rest):
        link = _url_source(url.group())
        rest = rest[: url.start()].rstrip(" ,")
        if not rest:
            return outlet, link[1]
    if rest[:1] in ("n", "u") and _UNDATED.fullmatch(rest):
        return outlet, (None, "none", "none")
    parts = _parse_date(rest)
    dated = _resolve(parts, reference) if parts else None
    return (outlet, dated) if dated else None


def _group_sources(
    text: str,
    start: int,
    end: int,
    reference: dt.date | None,
    previous: _Source | None = None,
    unread: list[tuple[int, int]] | None = None,
) -> list[_Source]:
    """The sources of a parenthetical group [start, end), [] if it is no citation group.

    Parts are ";"-separated; the group is a citation if one of them is. Parts that are
    not go to ``unread``.
    """
    if end - start > 400:
        return []
    if "," not in text[start:end] and not (
        _URL.fullmatch(text, *_strip(text, start, end))
        or _IBID.fullmatch(text, *_strip(text, start, end))
        or ";" in text[start:end]
    ):
        return []  # "(AUKUS)", "(see May 5)": no part could name an outlet and a date
    sources: list[_Source] = []
    missed: list[tuple[int, int]] = []
    pos = start
    for chunk in text[start:end].split(";"):
        s, e = _strip(text, pos, pos + len(chunk))
        pos += len(chunk) + 1
        found = _source(text[s:e], reference, sources[-1] if sources else previous)
        if found:
            sources.append((found[0], found[1], s, e))
        else:
            missed.append((s, e))
    if sources and unread is not None:
        unread += missed
    return sources


# A named tuple rather than a frozen dataclass, whose every field is set through
# object.__setattr__: twice as cheap to make, and there is one per citation group.
class _Group(NamedTuple):
    start: int  # of "("
    end: int  # after ")"
    sources: list[_Source]
    trailing: bool  # closes its sentence


def _citation_groups(
    text: str,
    end: int,
    pairs: list[tuple[int, int]],
    reference: dt.date | None,
    previous: _Source | None,
    notes: list[Uncertainty],
) -> list[_Group]:
    """Citation groups of a sentence ending at ``end``, whose brackets are ``pairs``."""
    groups: list[_Group] = []
    for open_, close in sorted(pairs):
        if text[open_] != "(" or (groups and open_ < groups[-1].end):
            continue
        unread: list[tuple[int, int]] = []
        sources = _group_sources(text, open_ + 1, close, reference, previous, unread)
        if not sources:
            if _IBID.fullmatch(text, *_strip(text, open_ + 1, close)) and previous is None:
                notes.append(
                    Uncertainty(
                        "back_reference",
                        open_,
                        close + 1,
                        "This “ibid.” follows no citation, so its outlet is unknown; "
                        "it is not recorded as a citation.",
                    )
                )
            continue
        for s, e in unread:
            notes.append(
                Uncertainty(
                    "citation_part",
                    s,
                    e,
                    f"“{text[s:e]}” in a citation group names no outlet and date; "
                    "it is not recorded as a citation.",
                )
            )
        tail = close + 1
        while tail < end and (text[tail] in _TRAILING or text[tail].isspace()):
            tail += 1
        if mark := _FOOTNOTE_MARK.match(text, tail, end):
            tail = mark.end()
        groups.append(_Group(open_, close + 1, sources, tail >= end))
        previous = sources[-1]
    return groups


# ------------------------------------------------------------------------------ claims


def _is_verb_context(prev: str) -> bool:
    """Can a verb follow this word, i.e. could it end a subject?"""
    lower = prev.lower()
    if lower in ("he", "she", "it", "they", "we", "i", "you", "who", "which", "that"):
        return True
    if lower in _CLOSED and lower not in _ADVERBS:
        return False
    return bool(prev) and not prev[0].isdigit()


def _has_finite_verb(words: list[str], start: int = 0) -> bool:
    for j in range(start, len(words)):
        word, lower = words[j], words[j].lower()
        prev = words[j - 1] if j > 0 else ""
        nxt = words[j + 1].lower() if j + 1 < len(words) else ""
        if lower in _AUX or lower.endswith(("n’t", "n't")) or lower in _CONTRACTED_IS:
            return True
        if prev.lower() == "than" and j > 1 and words[j - 2].lower() in ("more", "less"):
            prev = words[j - 2]  # "Turkey more than doubled its purchases"
        if not word.islower() or not _is_verb_context(prev):
            continue
        if lower in _IRREGULAR_PAST:
            return True
        if lower in _CLOSED or lower.endswith(("ing", "ly")):
            continue
        if lower.endswith("ed") and nxt != "by":  # "goods produced by" is no main verb
            return True
        if lower.endswith("s") and not lower.endswith(("ss", "us", "is", "’s", "'s")):
            return True
        if nxt in _DETERMINERS | _OBJECT_PRONOUNS | {"to", "that", "little", "much", "more"}:
            return True  # a base form taking an object: "Beijing and Moscow find it useful"
        if prev.lower() in _PLAIN_SUBJECTS or prev.lower() in _FREQUENCY:
            return True  # "they work over years", "the two rarely agree"
        after = words[j + 2].lower() if j + 2 < len(words) else ""
        if nxt in _PARTICLES and (after in _DETERMINERS or after in _OBJECT_PRONOUNS):
            return True  # "tankers switch off their transponders"
    return False


def _starts_subject(words: list[str], i: int) -> bool:
    word = words[i]
    lower = re.sub(r"[’']s$", "", word.lower())
    nxt = words[i + 1].lower() if i + 1 < len(words) else ""
    if lower in _SUBJECT_PRONOUNS or lower in _DETERMINERS or lower in _NUMBERS:
        return True
    if word[0].isdigit() or (word[0].isupper() and lower not in _CLOSED):
        return True
    if lower in _CLOSED or lower.endswith(("ly", "ing", "ed")) or word in ",;:":
        return False
    if nxt in _AUX:
        return True  # "ships must sail", "talks will resume"
    # A bare noun ("data on ...", "arms sales ...") rather than a verb ("abstains from ...").
    if nxt in _DETERMINERS or nxt in _OBJECT_PRONOUNS or nxt == "to":
        return False
    is_plural_or_verb = lower.endswith("s") and not lower.endswith("ss")
    return not (is_plural_or_verb and (nxt in _CLOSED or nxt.endswith("ly")))


def _opens_noun_phrase(word: str) -> bool:
    """Could this word open a noun phrase ("a few", "vague statements") rather than a verb?"""
    if word in _DETERMINERS or word in _NUMBERS:
        return True
    return word.isalpha() and word not in _CLOSED and not word.endswith(("s", "ed"))


def _skip_adverbials(words: list[str], i: int) -> int:
    while i < len(words):
        lower = words[i].lower()
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if (lower, following) in _LEADING_PHRASES:
            i += 2
        elif lower in _LEADING_ADVERBS or (lower in _FOCUS and _opens_noun_phrase(following)):
            i += 1
        else:
            return i
    return i


def _is_clause(words: list[str], fronted: bool = True) -> bool:
    """Does this conjunct read as an independent clause with its own subject?"""
    i = _skip_adverbials(words, 0)
    if i >= len(words):
        return False
    lower = words[i].lower()
    if lower in _RELATIVES or lower in _AUX or lower in _CONJUNCTIONS or lower in ("also", "to"):
        return False
    if _starts_subject(words, i) and _has_finite_verb(words, i + 1):
        return True
    if not fronted or "," not in words[i:]:
        return False
    # "in China, his courtiers cannot ...", "while visiting ..., Putin observed ...",
    # "two weeks later, the Foreign Ministry found ...": an adverbial, then the clause.
    comma = words.index(",", i)
    prefix = words[i:comma]
    adverbial = lower in _SUBORDINATORS or lower in _PREPOSITIONS
    short = len(prefix) <= 4 and not lower.endswith(("ed", "ing"))
    if adverbial or (short and not _has_finite_verb(prefix)):
        return _is_clause(words[comma + 1 :], fronted=False)
    return False


def _is_conjoined_clause(conjunction: str, words: list[str]) -> bool:
    """Is what follows ", <conjunction>" an independent clause?"""
    if not words:
        return False
    first = words[0].lower()
    if conjunction == "nor":  # "..., nor has it said ...": the auxiliary comes first
        return first in _AUX and len(words) > 1 and _starts_subject(words, 1)
    if conjunction == "for":
        # "for" joins clauses only straight before a subject: not "for years", "for
        # example", "for all its faults, ..."; the verb comes before any comma.
        head = words[: words.index(",")] if "," in words else words
        return (
            (first in _SUBJECT_PRONOUNS or first in _DETERMINERS)
            and not _FOR_PHRASES & {w.lower() for w in head[:4]}
            and _is_clause(head, fronted=False)
        )
    if conjunction == "so" and first in ("that", "as", "much", "far", "long"):
        return False  # "so that the Kremlin could ...": a purpose clause
    return _is_clause(words)


_SEPARATOR = re.compile("[,;]")
# Past this many tokens a "sentence" is not prose (a list, a table, a hostile file) and
# stays one claim: weighing every clause against every other would take quadratic time.
MAX_SPLIT_TOKENS = 600


def _claim_spans(
    text: str, start: int, end: int, pairs: list[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    if text.find(",", start, end) < 0 and text.find(";", start, end) < 0:
        return [(start, end)]  # no separator, so no split (a sentence span is stripped)
    if pairs is not None and _separators_enclosed(text, start, end, pairs):
        return [(start, end)]  # "(TASS, May 5)": every separator is inside brackets
    tokens = list(_WORD.finditer(text, start, end))
    if len(tokens) > MAX_SPLIT_TOKENS:
        return [(start, end)]
    if pairs is None:
        pairs = _pairs(text, start, end)
    # A bracketed sentence, "(The remark was made in private; I believe it.)", splits
    # inside its brackets; other brackets and quotes hold no separators.
    inner = [(o, c) for o, c in pairs if not (o == start and text[o] == "(")]
    in_brackets = [(o, c) for o, c in inner if text[o] in "(["]
    if in_brackets:
        tokens = [m for m in tokens if not any(o < m.start() < c for o, c in in_brackets)]
    words = [m.group() for m in tokens]
    # Candidate separators: (token index of the separator, index of the first right word, kind).
    candidates: list[tuple[int, int, str]] = []
    for k, m in enumerate(tokens):
        if m.group() not in ",;" or any(o < m.start() < c for o, c in inner):
            continue
        adjacent = k + 1 < len(words) and text[m.end() : tokens[k + 1].start()].isspace()
        nxt = words[k + 1].lower() if adjacent else ""
        if m.group() == ";":
            candidates.append((k, k + 1, ";"))
        elif nxt in _CLAUSE_CONJUNCTIONS:
            candidates.append((k, k + 2, nxt))
        elif nxt != "or":
            candidates.append((k, k + 1, "comma"))
    coordinators = [c for c in candidates if c[2] != "comma"]
    accepted: list[tuple[int, int]] = []
    left = 0
    for n, (k, right, kind) in enumerate(coordinators):
        right_end = coordinators[n + 1][0] if n + 1 < len(coordinators) else len(words)
        conjoined = words[right:right_end]
        if _has_finite_verb(words[left:k]) and (
            _is_clause(conjoined) if kind == ";" else _is_conjoined_clause(kind, conjoined)
        ):
            accepted.append((k, right))
            left = right
    # A bare comma splits only inside a run of clauses closed by an accepted coordinator:
    # "X has hit a rock, the old friendship has weakened, and arms sales are curtailed".
    for n, (k, _right) in enumerate(list(accepted)):
        floor = accepted[n - 1][1] if n else 0
        commas = [c for c in candidates if c[2] == "comma" and floor <= c[0] < k]
        stop = k
        for comma, right, _ in reversed(commas):
            before = max([floor] + [c[1] for c in commas if c[0] < comma])
            if not (
                _is_clause(words[right:stop], fronted=False)
                and _is_clause(words[before:comma], fronted=False)
            ):
                break
            accepted.append((comma, right))
            stop = comma
    spans = []
    current = start
    for k, right in sorted(accepted):
        spans.append(_strip(text, current, tokens[k].start()))
        current = _strip(text, tokens[right - 1].end(), end)[0]
    spans.append(_strip(text, current, end))
    return spans


def _separators_enclosed(text: str, start: int, end: int, pairs: list[tuple[int, int]]) -> bool:
    """Is every separator in [start, end) inside a pair other than brackets around all of
    it? Loops rather than ``all(any(...))``: most sentences with a citation ask."""
    enclosing = [(o, c) for o, c in pairs if not (o == start and text[o] == "(")]
    for separator in _SEPARATOR.finditer(text, start, end):
        at = separator.start()
        for open_, close in enclosing:
            if open_ < at < close:
                break
        else:
            return False
    return True


def _supporting(
    claims: list[tuple[int, int]], groups: list[_Group], first: int
) -> list[tuple[int, ...]]:
    """Citation indices per claim: a group inside a clause supports that clause's claim; a
    group closing the sentence supports the last claim and every claim without its own."""
    if not groups:
        return [()] * len(claims)
    if len(claims) == 1:  # the sentence is one claim: every citation in it supports it
        return [tuple(range(first, first + sum(len(group.sources) for group in groups)))]
    own: list[list[int]] = [[] for _ in claims]
    trailing: list[int] = []
    index = first
    for group in groups:
        numbers = list(range(index, index + len(group.sources)))
        index += len(group.sources)
        if group.trailing:
            trailing += numbers
            continue
        holder = max((n for n, (s, _e) in enumerate(claims) if s <= group.start), default=0)
        own[holder] += numbers
    return [
        tuple(sorted(mine + (trailing if not mine or n == len(claims) - 1 else [])))
        for n, mine in enumerate(own)
    ]


# ------------------------------------------------------------------------------ segment


def _full_date(parts: _DateParts | None) -> dt.date | None:
    """The date of a day with its year, else None: an article's date is never guessed."""
    if parts is None or None in parts:
        return None
    year, month, day = parts
    try:
        return dt.date(year or 0, month or 0, day or 0)
    except ValueError:
        return None


def _metadata(
    text: str, parts: list[_Part], published_on: dt.date | None, notes: list[Uncertainty]
) -> Metadata:
    fields: dict[str, Any] = {}
    for part in parts:
        raw = text[part.start : part.end]
        span = _unwrap(text, part.start, part.end)
        if part.kind in ("title", "subtitle") and part.kind not in fields:
            fields[part.kind] = text[span[0] : span[1]]
        elif part.kind == "dateline" and part.dateline != ("", ""):
            date, agency = part.dateline
            fields.setdefault("publication", agency)
            day = _full_date(_parse_date(date)) if date else None
            if day and "date" not in fields:
                fields.update(date=day, date_at=(part.start, part.end))
            elif date and not day and published_on is None:
                notes.append(
                    Uncertainty(
                        "article_date",
                        part.start,
                        part.end,
                        f"The dateline gives {date} without a year, so the article's date "
                        "is not known from the text.",
                    )
                )
        elif part.kind in ("byline", "dateline", "metadata"):
            publication = re.search(r"Publication:\s*(.*?)\s*(?:Volume:|Issue:|$)", raw)
            volume, issue = re.search(r"Volume:\s*(\d+)", raw), re.search(r"Issue:\s*(\d+)", raw)
            if publication:
                fields["publication"] = publication.group(1)
            if volume:
                fields["volume"] = int(volume.group(1))
            if issue:
                fields["issue"] = int(issue.group(1))
            if (names := _byline(raw)) and part.kind == "byline":
                fields.setdefault("author", names)
            if dated := _dated_byline(raw):
                fields.setdefault("author", dated[1])
            if author := re.match(r"authors?\s*:\s*(.+)", raw, re.IGNORECASE):
                fields.setdefault("author", author.group(1).strip())
            day = _full_date(_header_date(raw))
            if day and "date" not in fields:
                fields.update(date=day, date_at=(part.start, part.end))
        elif part.kind == "author_bio" and (bio := _BIO.match(raw)):
            fields.setdefault("author", bio.group("name"))
    return Metadata(**fields)


def _uncertain_blocks(text: str, parts: list[_Part], notes: list[Uncertainty]) -> None:
    for part in parts:
        if part.kind not in ("body", "heading"):
            continue
        if part.kind == "body" and not (
            _has_verb_form_in(text, part.start, min(part.end, part.start + 400))
            or _has_verb_form_in(text, part.start, min(part.end, part.start + 4000))
        ):
            notes.append(
                Uncertainty(
                    "unclassified_paragraph",
                    part.start,
                    part.end,
                    "This paragraph has no verb that the rules recognise; it is kept as "
                    "body text and its sentences as claims.",
                )
            )
        elif (
            part.kind == "heading"
            and part.form == "text"
            and _has_finite_verb(
                words := _WORD.findall(text, part.start, min(part.end, part.start + 400))
            )
            and not _title_case(words)
        ):
            notes.append(
                Uncertainty(
                    "possible_heading",
                    part.start,
                    part.end,
                    "This short line without a full stop is read as a heading, so it holds "
                    "no claims, but it reads like a sentence.",
                )
            )


def _is_sentence(text: str, part: _Part, after: _Part | None, notes: list[Uncertainty]) -> bool:
    """Does a list item read as a sentence: a final full stop, or a verb that cannot be a
    noun ("we took", "Russia wants a ...")? "Lower tariffs" is a phrase; "Exports rise"
    might be either, and is reported. After an item closed by ";" a full stop only closes
    the list; a verb in a relative clause ("..., which would ...") makes no sentence."""
    end = part.end
    while end > part.start and text[end - 1] in _CLOSERS:
        end -= 1
    listed = after is not None and after.kind == "list_item" and text[after.end - 1] == ";"
    if text[end - 1] in _TERMINALS and not listed:
        return True
    words = _WORD.findall(text, part.start, min(part.end, part.start + 2000))
    relative = next((j for j, w in enumerate(words) if w.lower() in _RELATIVES), len(words))
    if _has_strong_verb(words[:relative]):
        return True
    # A single word or a run of names ("Saudi Arabia") is a phrase; else it may be a clause.
    if len(words) > 1 and not all(w[0].isupper() or not w[0].isalpha() for w in words):
        notes.append(
            Uncertainty(
                "phrase_list_item",
                part.start,
                part.end,
                "This list item was read as a phrase, so it holds no claims, but it may be a "
                "sentence.",
            )
        )
    return False


def _has_strong_verb(words: list[str]) -> bool:
    """A verb that no noun looks like: an auxiliary, a past tense, or a verb in -s before
    its object ("wants a", "says that")."""
    objects = _DETERMINERS | _OBJECT_PRONOUNS | {"to", "that"}
    for j, word in enumerate(words):
        if not word.islower():
            continue
        nxt = words[j + 1].lower() if j + 1 < len(words) else ""
        if word in _AUX or word in _IRREGULAR_PAST or word.endswith(("n’t", "n't")):
            return True
        if word.endswith("ed") and nxt != "by" and j and _is_verb_context(words[j - 1]):
            return True
        if word.endswith("s") and nxt in objects and j and _is_verb_context(words[j - 1]):
            return True
    return False


def _has_verb_form_in(text: str, start: int, end: int) -> bool:
    """Any word in [start, end) that looks like a verb, wherever it stands: "district 1
    reported". Read word by word, as most paragraphs give one within their first words."""
    for match in _WORD.finditer(text, start, end):
        word = match.group()
        if word in _VERB_WORDS or (word.endswith("ed") and word.islower()):
            return True
    return _has_finite_verb(_WORD.findall(text, start, end))


def _title_case(words: list[str]) -> bool:
    return all(w[0].isupper() for w in words if len(w) > 3 and w.lower() not in _CLOSED)


def segment(text: str, published_on: dt.date | None = None) -> Segmentation:
    """Blocks, sentences, claims and citations of a newline-normalised text.

    A citation without a year takes it from ``published_on``, or else from the date the
    text itself gives (a dateline, a byline, a "Published:" line); without either it is
    undated. Raises SegmentationError when no claim-bearing sentence is found.
    """
    parts = _split_header(text, _parts(text))
    _classify(text, parts)
    for part in parts:
        if part.kind not in CLAIM_KINDS:
            part.start, part.end = _unwrap(text, part.start, part.end)
    notes: list[Uncertainty] = []
    metadata = _metadata(text, parts, published_on, notes)
    reference = published_on or metadata.date
    sentences: list[Sentence] = []
    claims: list[Claim] = []
    citations: list[Citation] = []
    previous: _Source | None = None
    section = ""
    for index, part in enumerate(parts):
        if part.kind == "heading":
            section = text[part.start : part.end]
        if part.kind not in CLAIM_KINDS:
            continue
        after = parts[index - 1] if index else None
        if part.kind == "list_item" and not _is_sentence(text, part, after, notes):
            continue  # a bare phrase ("Lower tariffs") asserts nothing by itself
        for unit_start, unit_end in _units(text, part):
            for start, end in _sentence_spans(text, unit_start, unit_end):
                number = len(sentences)
                sentences.append(Sentence(start, end, section, index))
                # Each word and the space after it take two characters at least.
                long = end - start > 2 * LONG_SENTENCE_WORDS
                words = len(text[start:end].split()) if long else 0
                if words > LONG_SENTENCE_WORDS:
                    notes.append(
                        Uncertainty(
                            "long_sentence",
                            start,
                            end,
                            f"This sentence has {words} words; it may be several sentences "
                            "run together, or a list.",
                        )
                    )
                pairs = None
                groups = []
                if text.find("(", start, end) >= 0:
                    pairs = _pairs(text, start, end)
                    groups = _citation_groups(text, end, pairs, reference, previous, notes)
                first = len(citations)
                for group in groups:
                    for outlet, (date, precision, year_source), s, e in group.sources:
                        citations.append(
                            Citation(
                                outlet,
                                date,
                                text[s:e],
                                year_source,
                                s,
                                e,
                                group.start,
                                group.end,
                                number,
                                precision,
                            )
                        )
                        if date is None:
                            notes.append(_undated(text, s, e, reference))
                    previous = group.sources[-1]
                spans = _claim_spans(text, start, end, pairs)
                for (s, e), cited in zip(spans, _supporting(spans, groups, first), strict=True):
                    claims.append(Claim(s, e, number, section, cited))
    if not sentences:
        raise SegmentationError("No sentences found in the text.")
    _uncertain_blocks(text, parts, notes)
    return Segmentation(
        text=text,
        blocks=tuple(Block(p.kind, p.start, p.end) for p in parts),
        sentences=tuple(sentences),
        claims=tuple(claims),
        citations=tuple(citations),
        metadata=metadata,
        uncertainties=tuple(sorted(notes, key=lambda n: (n.start, n.end, n.kind))),
    )


def _undated(text: str, start: int, end: int, reference: dt.date | None) -> Uncertainty:
    why = (
        "it gives no year and the article's publication date is not known"
        if reference is None
        else "it gives no date"
    )
    return Uncertainty(
        "undated_citation", start, end, f"The citation “{text[start:end]}” is undated: {why}."
    )
