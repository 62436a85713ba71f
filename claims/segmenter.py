"""Split an article into blocks, sentences, claims and citations.

Pure standard library: reading files and storing results live elsewhere. Every offset is a
code-point index into the text handed to :func:`segment`, end exclusive, and every span is
stripped of surrounding whitespace. The rules are deliberately conservative heuristics: when
unsure, a sentence stays one claim, because analysts can split and merge in the browser but
cannot easily spot a wrong split.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any


class SegmentationError(ValueError):
    """The text holds nothing that could become a claim."""


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # artifact, title, metadata, heading, author_bio or body
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Citation:
    outlet: str
    date: dt.date
    raw: str
    year_source: str  # explicit, publication_date or undated_year
    start: int
    end: int
    group_start: int
    group_end: int
    sentence: int


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
class Metadata:
    title: str = ""
    publication: str = ""
    volume: int | None = None
    issue: int | None = None
    author: str = ""


@dataclass(frozen=True, slots=True)
class Segmentation:
    text: str
    blocks: tuple[Block, ...]
    sentences: tuple[Sentence, ...]
    claims: tuple[Claim, ...]
    citations: tuple[Citation, ...]
    metadata: Metadata


# ------------------------------------------------------------------------------ text input


def normalise_newlines(text: str) -> str:
    """Turn CRLF and lone CR into LF; everything else (tabs, NBSP, runs of spaces) stays."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_SKIPPED_TAGS = _words(
    "script style noscript template iframe head nav footer aside form button select svg"
)
_BLOCK_TAGS = _words(
    "p div h1 h2 h3 h4 h5 h6 li br hr section article main header blockquote tr ul ol dl dt dd "
    "pre figure figcaption table thead tbody tfoot caption address details summary"
)
_VOID_TAGS = _words("br hr img meta link input area base col embed source track wbr")
# HTML collapses ASCII whitespace only; a no-break space is content and must survive.
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[tuple[str, bool, bool]] = []  # text, inside article/main, is h1
        self.title = ""
        self.saw_main = False
        self._skip: list[str] = []
        self._parts: list[str] = []
        self._main_depth = 0
        self._in_title = False
        self._prefix = ""
        self._h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and "head" in self._skip:
            # A missing </head> must not hide the whole page.
            del self._skip[self._skip.index("head") :]
        if tag == "title":
            self._in_title = True
        elif tag in _SKIPPED_TAGS:
            if tag not in _VOID_TAGS:
                self._skip.append(tag)
        elif not self._skip:
            if tag in _BLOCK_TAGS:
                self._flush()
                self._prefix = "- " if tag == "li" else self._prefix
                self._h1 = self._h1 or tag == "h1"
            elif tag in ("td", "th"):
                self._parts.append(" ")
            if tag in ("article", "main"):
                self.saw_main = True
                self._main_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIPPED_TAGS:
            if tag in self._skip:
                del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag) :]
        elif not self._skip:
            if tag in _BLOCK_TAGS:
                self._flush()
            if tag == "h1":
                self._h1 = False
            if tag in ("article", "main") and self._main_depth:
                self._main_depth -= 1

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
        if text.strip():
            self.paragraphs.append((self._prefix + text, self._main_depth > 0, self._h1))
            self._prefix = ""


def html_to_text(html: str) -> str:
    """Main text of an HTML page as paragraphs separated by one blank line."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    kept = [p for p in parser.paragraphs if p[1] or not parser.saw_main]
    texts = [p[0] for p in kept]
    title = _HTML_SPACE.sub(" ", parser.title).strip(" ")
    # The <title> usually repeats the <h1>; it only stands in when the page has none.
    if title.strip() and not any(p[2] for p in kept):
        texts.insert(0, title)
    return "\n\n".join(texts)


# ------------------------------------------------------------------------------ word lists

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
_NUMBERS = _words("one two three four five six seven eight nine ten dozens hundreds")
_IRREGULAR_PAST = _words(
    "took found made said saw gave got held met sent sought spent stood told thought won wrote "
    "began brought built caught chose fell felt kept knew lost meant paid rose spoke struck "
    "taught went came became grew drew ran sat bought fought heard understood drove broke "
    "forgot threw shook sold slept"
)
_CLOSED = (
    _AUX | _SUBJECT_PRONOUNS | _DETERMINERS | _OBJECT_PRONOUNS | _PREPOSITIONS | _SUBORDINATORS
) | (_RELATIVES | _CONJUNCTIONS | _ADVERBS | _NUMBERS | frozenset({"be", "been", "being"}))
_CONTRACTED_IS = frozenset(f"{w}{a}s" for w in ("it", "that", "there", "what") for a in "’'")

_TITLE_ABBREVIATIONS = _words(
    "mr mrs ms dr prof st gen col lt sgt capt cmdr adm sen rep gov rev hon mt fr messrs "
    "e.g i.e cf vs viz approx"
)
_NUMBER_ABBREVIATIONS = _words("no nos vol vols pp p fig figs art sec ch")
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
    {"placeholder canvas", "advertisement", "skip to content", "skip to main content"}
)
_METADATA = re.compile(
    r"(?:publication|published|volume|issue|date|author|source|publisher)\s*:", re.IGNORECASE
)
_BYLINE = re.compile(r"By\s+([A-Z][\w’'.\-]*(?:\s+[A-Z][\w’'.\-]*){1,4})")
_BIO = re.compile(
    r"(?P<name>[A-Z][\w’'\-]*\.?(?:\s+[A-Z][\w’'\-]*\.?){1,4})\s+(?:is|was|has been|serves as)"
    r"\s+(?:a|an|the)\b[^.]*?\b(?:researcher|fellow|professor|analyst|editor|journalist|"
    r"director|scholar|writer|author|correspondent|lecturer|expert|consultant|scientist|"
    r"reporter|columnist|economist|historian|adviser|advisor|specialist|founder|associate|"
    r"officer|diplomat|candidate|student)s?\b"
)
_MD_HEADING = re.compile(r"[ \t]{0,3}(#{1,6})[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+(?=\S)")
_CITATION = re.compile(
    r"(?P<outlet>\S.*?),\s+(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?"
)
_WORD = re.compile(r"\w+(?:[’'\-./+]\w+)*\+?|[,;:]")
_TERMINALS = ".!?…"
_TERMINAL = re.compile(f"[{_TERMINALS}]")
_BRACKET = re.compile(r'[()\[\]“”"]')  # what _pairs matches
_NEXT_WORD = re.compile(r"[“‘\"'(\[*_]*([\w’'.\-]*)")
_CLOSERS = "”’\"')]»"
_OPENERS = "“‘\"'([«*_"


# ------------------------------------------------------------------------------ blocks


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass
class _Paragraph:
    start: int
    end: int
    lines: list[tuple[int, int]]
    markdown_level: int = 0
    kind: str = "body"


def _paragraphs(text: str) -> list[_Paragraph]:
    paragraphs: list[_Paragraph] = []
    lines: list[tuple[int, int]] = []

    def close() -> None:
        if lines:
            paragraphs.append(_Paragraph(*_strip(text, lines[0][0], lines[-1][1]), list(lines)))
            lines.clear()

    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        heading = _MD_HEADING.match(text, start, end)
        if not line.strip():
            close()
        elif heading:
            # A Markdown heading is a block of its own even without blank lines around it.
            close()
            span = _strip(text, heading.start(2), heading.end(2))
            paragraphs.append(_Paragraph(*span, [span], len(heading.group(1))))
        else:
            lines.append((start, end))
    close()
    return paragraphs


def _looks_like_heading(text: str, max_words: int) -> bool:
    # Short, one line, no sentence inside: titles may end in "?", sentences end in ".".
    return (
        "\n" not in text
        and len(text.split()) <= max_words
        and len(text) <= 200
        and (text[0].isupper() or text[0].isdigit())
        and text[-1] not in ".!,;:"
        and not re.search(r"[.!?]\s", text)
        and not _LIST_ITEM.match(text)
    )


def _classify(text: str, paragraphs: list[_Paragraph]) -> None:
    seen_title = seen_content = False
    for para in paragraphs:
        raw = text[para.start : para.end]
        if not any(ch.isalnum() for ch in raw) or raw.lower() in _ARTIFACTS:
            para.kind = "artifact"
        elif len(raw) <= 200 and (_METADATA.match(raw) or _BYLINE.fullmatch(raw)):
            para.kind = "metadata"
        elif para.markdown_level:
            para.kind = "title" if para.markdown_level == 1 and not seen_title else "heading"
        elif not seen_content and _looks_like_heading(raw, 25):
            para.kind = "title"
        elif seen_content and _looks_like_heading(raw, 12):
            para.kind = "heading"
        seen_title = seen_title or para.kind == "title"
        seen_content = seen_content or para.kind in ("title", "heading", "body")
    content = [p for p in paragraphs if p.kind != "artifact"]
    if content and content[-1].kind == "body" and _BIO.match(text, content[-1].start):
        content[-1].kind = "author_bio"
    if not any(p.kind == "body" for p in paragraphs):
        # A lone short statement ("Moscow is worried") is still something to annotate, but
        # a text of verbless lines ("Introduction") holds headings only, and no sentences.
        for para in content:
            words = text[para.start : para.end].split()
            if para.kind in ("title", "heading", "author_bio") and _has_finite_verb(words):
                para.kind = "body"


def _units(text: str, para: _Paragraph) -> list[tuple[int, int]]:
    """Each list item is a unit of its own; other lines continue the current unit."""
    units: list[list[int]] = []
    for start, end in para.lines:
        item = _LIST_ITEM.match(text, start, end)
        if item or not units:
            units.append([item.end() if item else start, end])
        else:
            units[-1][1] = end
    spans = [_strip(text, s, e) for s, e in units]
    return [(s, e) for s, e in spans if s < e]


# ------------------------------------------------------------------------------ sentences


def _pairs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Matched (open, close) positions of brackets and double quotes; strays are ignored.

    Pairs never cross: of any two, one holds the other or they lie apart.
    """
    pairs: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    on_stack = dict.fromkeys('([“"', 0)  # so that a stray closer never searches the stack
    closing = {")": "(", "]": "[", "”": "“"}
    for match in _BRACKET.finditer(text, start, end):
        ch, i = match.group(), match.start()
        if ch == '"' and stack and stack[-1][0] == '"':
            pairs.append((stack.pop()[1], i))
            on_stack['"'] -= 1
        elif ch in on_stack:
            stack.append((ch, i))
            on_stack[ch] += 1
        elif on_stack[closing[ch]]:
            # Close the innermost opener of this kind; the strays opened inside it go.
            while True:
                opener, position = stack.pop()
                on_stack[opener] -= 1
                if opener == closing[ch]:
                    pairs.append((position, i))
                    break
    return pairs


def _next_word(text: str, pos: int) -> str:
    match = _NEXT_WORD.match(text, pos, pos + 60)
    return match.group(1) if match else ""


def _starts_sentence(word: str) -> bool:
    return word.lower() in _CLOSED or word.lower() == "according"


def _is_abbreviation(text: str, dot: int, next_pos: int) -> bool:
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip("“‘\"'([«")
    lower, following = word.lower(), _next_word(text, next_pos)
    if not word or word.endswith("."):  # an ellipsis, not an abbreviation
        return False
    if lower in _TITLE_ABBREVIATIONS:
        return True
    if lower in _NUMBER_ABBREVIATIONS or lower in _MONTH_ABBREVIATIONS:
        return following[:1].isdigit()  # "No. 5", "Jan. 5"; "in Jan. Talks" ends
    ambiguous = (
        (len(word) == 1 and word.isupper())  # an initial: "Pavel K. Baev"
        or bool(_DOTTED.fullmatch(word))  # "U.S.", "a.m."
        or lower in _AMBIGUOUS_ABBREVIATIONS
    )
    # "the U.S. The ..." ends; "the U.S. Navy" does not.
    return ambiguous and not _starts_sentence(following)


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


def _sentence_end(
    text: str, i: int, end: int, sentence_start: int, around: list[tuple[int, int]]
) -> int | None:
    """End offset of a sentence whose final punctuation is at i, or None.

    ``around`` holds the pairs that open before i and close after it.
    """
    k = i + 1
    while k < end and text[k] in _TERMINALS:
        k += 1
    while k < end and text[k] in _CLOSERS:
        k += 1
    for open_, close in around:
        # Inside quotes or brackets only a final stop ends the sentence; inside brackets only
        # when the brackets hold the whole sentence.
        if close >= k or (text[close] in ")]" and open_ != sentence_start):
            return None
    if k < end and not text[k].isspace():
        return None  # "3.5", "Kremlin.ru", "U.S.-China"
    nxt = _strip(text, k, end)[0]
    if nxt >= end:
        return k
    if not (text[nxt].isupper() or text[nxt].isdigit() or text[nxt] in _OPENERS):
        return None
    if text[i] == "." and k == i + 1 and _is_abbreviation(text, i, nxt):
        return None
    return k


def _sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pairs = _pairs(text, start, end)
    around = _Around(pairs)
    spans: list[tuple[int, int]] = []
    current = start
    sentence_start = _strip(text, current, end)[0]
    for terminal in _TERMINAL.finditer(text, start, end):
        i = terminal.start()
        if i < current:
            continue  # a later mark of the stop just taken: "?!", "..."
        stop = _sentence_end(text, i, end, sentence_start, around.at(i))
        if stop is not None:
            spans.append(_strip(text, current, stop))
            current = stop
            sentence_start = _strip(text, current, end)[0]
    spans.append(_strip(text, current, end))
    closing = dict(pairs)  # no two pairs open at the same place
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        close = closing.get(s)
        if merged and close and text[s] == "(" and _citation_parts(text, s + 1, close, None):
            # "Text. (Outlet, May 5) Next ...": the stray group belongs to the sentence before.
            group_end = close + 1
            while group_end < e and text[group_end] in _TERMINALS:
                group_end += 1
            merged[-1] = (merged[-1][0], group_end)
            s = _strip(text, group_end, e)[0]
        if any(ch.isalnum() for ch in text[s:e]):
            merged.append((s, e))
    return merged


# ------------------------------------------------------------------------------ citations


def _resolve_year(month: int, day: int, reference: dt.date) -> int | None:
    for year in range(reference.year, reference.year - 9, -1):  # nine years hold a leap year
        try:
            if dt.date(year, month, day) <= reference:
                return year
        except ValueError:
            continue
    return None


_Source = tuple[str, dt.date, str, int, int]  # outlet, date, year_source, start, end


def _citation_parts(
    text: str, start: int, end: int, reference: dt.date | None
) -> list[_Source] | None:
    """One source for every ";"-separated part of a group, or None if any part is not one."""
    parts: list[_Source] = []
    pos = start
    for chunk in text[start:end].split(";"):
        s, e = _strip(text, pos, pos + len(chunk))
        pos += len(chunk) + 1
        match = _CITATION.fullmatch(text, s, e)
        month = _MONTHS.get(match.group("month").lower()) if match else None
        if not match or not month:
            return None
        day = int(match.group("day"))
        year: int | None
        if match.group("year"):
            year, source = int(match.group("year")), "explicit"
        else:
            source = "publication_date" if reference else "undated_year"
            year = _resolve_year(month, day, reference or dt.date.today())
        try:
            date = dt.date(year, month, day) if year else None
        except ValueError:
            date = None
        if date is None:
            return None  # "February 30" is not a date, so the group is not a citation
        parts.append((match.group("outlet").strip(), date, source, s, e))
    return parts


def _trailing_citations(
    text: str, start: int, end: int, reference: dt.date | None
) -> tuple[int, int, list[_Source]]:
    """Span and sources of the citation group closing the sentence [start, end), if any."""
    k = end
    while k > start and (text[k - 1] in _TERMINALS or text[k - 1].isspace()):
        k -= 1
    if k > start and text[k - 1] == ")":
        opening = next((o for o, c in _pairs(text, start, k) if c == k - 1), None)
        sources = None if opening is None else _citation_parts(text, opening + 1, k - 1, reference)
        if opening is not None and sources:
            return opening, k, sources
    return start, start, []


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


# Past this many tokens a "sentence" is not prose (a list, a table, a hostile file) and
# stays one claim: weighing every clause against every other would take quadratic time.
MAX_SPLIT_TOKENS = 600


def _claim_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if text.find(",", start, end) < 0 and text.find(";", start, end) < 0:
        return [_strip(text, start, end)]  # no separator, so no split
    tokens = list(_WORD.finditer(text, start, end))
    if len(tokens) > MAX_SPLIT_TOKENS:
        return [_strip(text, start, end)]
    pairs = _pairs(text, start, end)
    in_brackets = [(o, c) for o, c in pairs if text[o] in "(["]
    if in_brackets:
        tokens = [m for m in tokens if not any(o < m.start() < c for o, c in in_brackets)]
    words = [m.group() for m in tokens]
    # Candidate separators: (token index of the separator, index of the first right word, kind).
    candidates: list[tuple[int, int, str]] = []
    for k, m in enumerate(tokens):
        if m.group() not in ",;" or any(o < m.start() < c for o, c in pairs):
            continue
        adjacent = k + 1 < len(words) and text[m.end() : tokens[k + 1].start()].isspace()
        nxt = words[k + 1].lower() if adjacent else ""
        if m.group() == ";":
            candidates.append((k, k + 1, "coordinator"))
        elif nxt in ("and", "but", "whereas", "so"):
            candidates.append((k, k + 2, "coordinator"))
        elif nxt not in ("or", "nor", "yet"):
            candidates.append((k, k + 1, "comma"))
    coordinators = [c for c in candidates if c[2] == "coordinator"]
    accepted: list[tuple[int, int]] = []
    left = 0
    for n, (k, right, _) in enumerate(coordinators):
        right_end = coordinators[n + 1][0] if n + 1 < len(coordinators) else len(words)
        if _has_finite_verb(words[left:k]) and _is_clause(words[right:right_end]):
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


# ------------------------------------------------------------------------------ segment


def _metadata(text: str, paragraphs: list[_Paragraph]) -> Metadata:
    fields: dict[str, Any] = {}
    for para in paragraphs:
        raw = text[para.start : para.end]
        if para.kind == "title" and "title" not in fields:
            fields["title"] = raw
        elif para.kind == "metadata":
            publication = re.search(r"Publication:\s*(.*?)\s*(?:Volume:|Issue:|$)", raw)
            volume, issue = re.search(r"Volume:\s*(\d+)", raw), re.search(r"Issue:\s*(\d+)", raw)
            byline = _BYLINE.fullmatch(raw)
            if publication:
                fields["publication"] = publication.group(1)
            if volume:
                fields["volume"] = int(volume.group(1))
            if issue:
                fields["issue"] = int(issue.group(1))
            if byline:
                fields["author"] = byline.group(1)
        elif para.kind == "author_bio" and (bio := _BIO.match(raw)):
            fields["author"] = bio.group("name")
    return Metadata(**fields)


def segment(text: str, published_on: dt.date | None = None) -> Segmentation:
    """Blocks, sentences, claims and citations of a newline-normalised text.

    Raises SegmentationError when no claim-bearing sentence is found.
    """
    paragraphs = _paragraphs(text)
    _classify(text, paragraphs)
    blocks = tuple(Block(p.kind, p.start, p.end) for p in paragraphs)
    sentences: list[Sentence] = []
    claims: list[Claim] = []
    citations: list[Citation] = []
    section = ""
    for index, para in enumerate(paragraphs):
        if para.kind == "heading":
            section = text[para.start : para.end]
        if para.kind != "body":
            continue
        for unit_start, unit_end in _units(text, para):
            for start, end in _sentence_spans(text, unit_start, unit_end):
                number = len(sentences)
                sentences.append(Sentence(start, end, section, index))
                first = len(citations)
                group_start, group_end, sources = _trailing_citations(
                    text, start, end, published_on
                )
                for outlet, date, source, s, e in sources:
                    citations.append(
                        Citation(
                            outlet, date, text[s:e], source, s, e, group_start, group_end, number
                        )
                    )
                cited = tuple(range(first, len(citations)))
                for s, e in _claim_spans(text, start, end):
                    claims.append(Claim(s, e, number, section, cited))
    if not sentences:
        raise SegmentationError("No sentences found in the text.")
    return Segmentation(
        text=text,
        blocks=blocks,
        sentences=tuple(sentences),
        claims=tuple(claims),
        citations=tuple(citations),
        metadata=_metadata(text, paragraphs),
    )
