"""Align the claims of an article's current text with those of its revised text.

Pure: no Django, no database. The caller hands in both texts and their claims as
:class:`Span` values; :func:`align` says, for every old claim, whether it is

- **unchanged**: the same text once :func:`normalise`\\ d (whitespace, no-break spaces,
  NFKC, curly or straight quotes, dashes), wherever it moved;
- **edited**: recognisably the same claim with changed words, paired with the new claim
  it became (:func:`word_diff` shows what changed);
- **removed**; and which new claims are **added**.

The method is the one Hypothesis uses to re-anchor an annotation in a changed page
(hypothesis/client, ``src/annotator/anchoring/match-quote.ts``): exact quotes first, then
approximate candidates ranked by the quote's similarity, the similarity of the text before
and after it (prefix and suffix) and the distance from its old position, weighted
50 : 20 : 20 : 2 as there. Here the quote is a claim and similarity is counted in words:

1. Exact: old and new claims with the same normalised text pair up through a dict
   (copies of one text pair by context and position, or in text order past ``REPEATS``).
2. Approximate: each unmatched old claim is compared with the unmatched new claims
   (``rapidfuzz.process.extract``: Indel similarity over the claims' word sequences,
   case-folded, punctuation ignored; cut off below ``IN_PLACE``; the ``CANDIDATES`` most
   similar). All of them while there are at most ``BUDGET`` comparisons, else the
   ``WINDOW`` nearest to its old position: a revision that rewrites most of a long
   article is not searched for far-moved edits, which then come out removed + added.
3. A candidate is kept if its similarity is at least ``ANYWHERE``, or at least
   ``IN_PLACE`` with the claim still where it was: the ``CONTEXT_WORDS`` words before or
   the ones after it match at least ``CONTEXT`` (both compared as the quote is).
4. Kept candidates are taken best first (Hypothesis's weighted score), one to one.

Nothing is carried to a wrong claim on a guess: a wrong "edited" carries an analyst's
work to a claim they never read, whereas removed + added only asks them to read it again,
so every threshold errs to the second. Two different claims of the same article share at
most 47 % of their words in order (the worst pair of the sample and the corpus; 99.9 % of
pairs share under 29 %), below ``IN_PLACE`` even where one replaced the other.

**Splits and merges.** Pairs are one to one. When a sentence is split, the old claim goes
to the part that scores best, if one passes step 3 (in place, a part holding about two
fifths of the claim's words in order passes); the other parts are added. If no part
passes, the old claim is removed and every part is added. A merge is the mirror image:
the old claim that scores best is edited into the merged claim, the others are removed.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rapidfuzz import process
from rapidfuzz.distance import Indel

Kind = Literal["unchanged", "edited"]
KINDS = ("unchanged", "edited", "removed", "added")

IN_PLACE = 0.55  # word similarity an edited claim needs where it was
ANYWHERE = 0.8  # ... and wherever it moved
CONTEXT = 0.5  # similarity of the words before (or after) that counts as "where it was"
CONTEXT_WORDS = 8
BUDGET = 250_000  # approximate comparisons made over every unmatched claim; past it, a window
WINDOW = 40
CANDIDATES = 20  # the most similar new claims weighed for each old one
REPEATS = 100  # copies of one text paired by context up to this many pairs; past it, in order
# Hypothesis's weights: quote, prefix, suffix, position (the position only breaks ties).
WEIGHTS = (50, 20, 20, 2)

# Quotes, apostrophes and dashes that NFKC leaves as they are, as their ASCII forms.
_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′‵", "'"),
        **dict.fromkeys("“”„‟″‶«»", '"'),
        **dict.fromkeys("‐‑‒–—―−⁃", "-"),
    }
)
_WORD = re.compile(r"\w+(?:['.,-]\w+)*")


@dataclass(frozen=True)
class Span:
    """A claim: ``key`` (the claim's id, or its index among the new claims), its text and
    its offsets in its article's text (for the context around it and its position)."""

    key: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Pair:
    old: int
    new: int
    kind: Kind
    score: float  # word similarity, 1.0 when unchanged; rounded to 3 places


@dataclass(frozen=True)
class Alignment:
    """Pairs in the order of the new claims; removed in the order of the old ones, added
    in the order of the new ones."""

    pairs: tuple[Pair, ...]
    removed: tuple[int, ...]
    added: tuple[int, ...]

    @property
    def counts(self) -> dict[str, int]:
        edited = sum(pair.kind == "edited" for pair in self.pairs)
        return {
            "unchanged": len(self.pairs) - edited,
            "edited": edited,
            "removed": len(self.removed),
            "added": len(self.added),
        }

    def as_mapping(self) -> dict[str, list[Any]]:
        """Plain JSON: ``{"unchanged": [[old, new], ...], "edited": [[old, new, score],
        ...], "removed": [old, ...], "added": [new, ...]}``; :meth:`from_mapping` reads it."""
        return {
            "unchanged": [[p.old, p.new] for p in self.pairs if p.kind == "unchanged"],
            "edited": [[p.old, p.new, p.score] for p in self.pairs if p.kind == "edited"],
            "removed": list(self.removed),
            "added": list(self.added),
        }

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Alignment:
        """The alignment :meth:`as_mapping` wrote; ValueError on anything else. The pairs
        come back in :meth:`as_mapping`'s order (unchanged, then edited)."""
        if not isinstance(mapping, Mapping) or set(mapping) != set(KINDS):
            raise ValueError(f"An alignment is a mapping with exactly the keys {KINDS}.")
        pairs = []
        for row in _list(mapping, "unchanged"):
            if not isinstance(row, list) or len(row) != 2:
                raise ValueError("Each unchanged pair is [old, new].")
            pairs.append(Pair(_key(row[0]), _key(row[1]), "unchanged", 1.0))
        for row in _list(mapping, "edited"):
            if not isinstance(row, list) or len(row) != 3:
                raise ValueError("Each edited pair is [old, new, score].")
            score = row[2]
            if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
                raise ValueError("An edited pair's score is a number from 0 to 1.")
            pairs.append(Pair(_key(row[0]), _key(row[1]), "edited", float(score)))
        removed = [_key(key) for key in _list(mapping, "removed")]
        added = [_key(key) for key in _list(mapping, "added")]
        olds = [p.old for p in pairs] + removed
        news = [p.new for p in pairs] + added
        if len(set(olds)) != len(olds) or len(set(news)) != len(news):
            raise ValueError("An alignment names each old and each new claim at most once.")
        return cls(tuple(pairs), tuple(removed), tuple(added))


def _list(mapping: Mapping[str, Any], name: str) -> list[Any]:
    value = mapping[name]
    if not isinstance(value, list):
        raise ValueError(f"An alignment's {name!r} is a list.")
    return value


def _key(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("A claim key is an integer.")
    return value


def normalise(text: str) -> str:
    """The text as "unchanged" compares it: NFKC (no-break spaces become spaces,
    ligatures letters), curly quotes straight, dashes hyphens, whitespace runs one space."""
    if not text.isascii():  # ASCII is its own NFKC and holds no curly quote or dash
        text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The words similarity is counted in: normalised, case-folded, without punctuation
    (a word keeps inner apostrophes, points, commas and hyphens: "480,000", "al-Assad")."""
    return _words(normalise(text))


def _words(normalised: str) -> list[str]:
    return _WORD.findall(normalised.casefold())


def similarity(a: str, b: str) -> float:
    """Words in common, in order, over the words of both: 1.0 the same, 0.0 none shared."""
    return float(Indel.normalized_similarity(words(a), words(b)))


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """``a`` into ``b`` word by word, for display: ("equal" | "delete" | "insert", words
    joined by spaces), runs merged, each change's deletions before its insertions. Words
    are compared normalised, so a straightened quote is no change."""
    old, new = a.split(), b.split()
    ops: list[tuple[str, str]] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def emit(op: str, tokens: list[str]) -> None:
        if not tokens:
            return
        if ops and ops[-1][0] == op:
            ops[-1] = (op, f"{ops[-1][1]} {' '.join(tokens)}")
        else:
            ops.append((op, " ".join(tokens)))

    opcodes = Indel.opcodes([normalise(w) for w in old], [normalise(w) for w in new])
    for op in opcodes:
        if op.tag == "equal":
            emit("delete", deleted)
            emit("insert", inserted)
            deleted, inserted = [], []
            emit("equal", new[op.dest_start : op.dest_end])
        else:
            deleted += old[op.src_start : op.src_end]
            inserted += new[op.dest_start : op.dest_end]
    emit("delete", deleted)
    emit("insert", inserted)
    return ops


@dataclass(frozen=True)
class _Side:
    """One text's claims, with what matching needs of them."""

    text: str
    spans: Sequence[Span]

    def position(self, i: int) -> float:
        return self.spans[i].start / max(1, len(self.text))

    def context(self, i: int) -> tuple[list[str], list[str]]:
        span = self.spans[i]
        # Words average five or six characters and a space; a longer run of long ones
        # leaves the context a word or two short, which only makes it count less.
        reach = 15 * CONTEXT_WORDS
        before = words(self.text[max(0, span.start - reach) : span.start])
        after = words(self.text[span.end : span.end + reach])
        return before[-CONTEXT_WORDS:], after[:CONTEXT_WORDS]


def align(old_text: str, old: Sequence[Span], new_text: str, new: Sequence[Span]) -> Alignment:
    """Pair the claims ``old`` of ``old_text`` with the claims ``new`` of ``new_text``
    (see the module's docstring). ValueError if a key repeats on one side or a span lies
    outside its text."""
    for text, spans, side in ((old_text, old, "old"), (new_text, new, "new")):
        if len({span.key for span in spans}) != len(spans):
            raise ValueError(f"Two {side} claims have the same key.")
        if any(not 0 <= span.start <= span.end <= len(text) for span in spans):
            raise ValueError(f"An {side} claim's offsets lie outside its text.")
    a, b = _Side(old_text, old), _Side(new_text, new)
    matched: dict[int, tuple[int, Kind, float]] = {}  # old index -> new index, kind, score
    taken: set[int] = set()
    contexts: dict[tuple[int, int], tuple[list[str], list[str]]] = {}

    def context(side: int, i: int) -> tuple[list[str], list[str]]:
        if (side, i) not in contexts:
            contexts[side, i] = (a if side == 0 else b).context(i)
        return contexts[side, i]

    def rank(i: int, j: int, quote: float) -> tuple[float, float, float]:
        """Hypothesis's weighted score of old claim i as new claim j; prefix and suffix."""
        (old_before, old_after), (new_before, new_after) = context(0, i), context(1, j)
        prefix = Indel.normalized_similarity(old_before, new_before)
        suffix = Indel.normalized_similarity(old_after, new_after)
        position = 1 - abs(a.position(i) - b.position(j))
        raw = sum(w * s for w, s in zip(WEIGHTS, (quote, prefix, suffix, position), strict=True))
        return raw / sum(WEIGHTS), prefix, suffix

    def take(candidates: list[tuple[float, int, int, Kind, float]]) -> None:
        for _score, i, j, kind, quote in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
            if i not in matched and j not in taken:
                matched[i] = (j, kind, quote)
                taken.add(j)

    # 1. Exact, after normalisation.
    old_normal = [normalise(span.text) for span in old]
    new_normal = [normalise(span.text) for span in new]
    old_by_text: dict[str, list[int]] = defaultdict(list)
    new_by_text: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(old_normal):
        old_by_text[text].append(i)
    for j, text in enumerate(new_normal):
        new_by_text[text].append(j)
    repeated: list[tuple[float, int, int, Kind, float]] = []
    for text, olds in old_by_text.items():
        news = new_by_text.get(text, [])
        if len(olds) == len(news) == 1:
            matched[olds[0]] = (news[0], "unchanged", 1.0)
            taken.add(news[0])
        elif len(olds) * len(news) <= REPEATS:
            repeated += [(rank(i, j, 1.0)[0], i, j, "unchanged", 1.0) for i in olds for j in news]
        else:  # many copies of one text: in text order
            by_start = sorted(olds, key=lambda i: old[i].start)
            for i, j in zip(by_start, sorted(news, key=lambda j: new[j].start), strict=False):
                matched[i] = (j, "unchanged", 1.0)
                taken.add(j)
    take(repeated)

    # 2. Approximate candidates among what is left; 3. those that pass; 4. best first.
    left_old = [i for i in range(len(old)) if i not in matched]
    left_new = [j for j in range(len(new)) if j not in taken]
    new_words = [_words(new_normal[j]) for j in left_new]
    by_position = sorted(range(len(left_new)), key=lambda k: b.position(left_new[k]))
    positions = [b.position(left_new[k]) for k in by_position]
    everywhere = len(left_old) * len(left_new) <= BUDGET
    kept: list[tuple[float, int, int, Kind, float]] = []
    for i in left_old:
        if everywhere:
            choices = list(range(len(left_new)))
        else:
            middle = bisect_left(positions, a.position(i))
            choices = by_position[max(0, middle - WINDOW // 2) : middle + WINDOW // 2]
        found = process.extract(
            _words(old_normal[i]),
            [new_words[k] for k in choices],
            scorer=Indel.normalized_similarity,
            score_cutoff=IN_PLACE,
            limit=CANDIDATES,
        )
        for _choice, quote, index in found:
            j = left_new[choices[index]]
            score, prefix, suffix = rank(i, j, quote)
            if quote >= ANYWHERE or max(prefix, suffix) >= CONTEXT:
                kept.append((score, i, j, "edited", round(quote, 3)))
    take(kept)

    pairs = sorted(matched.items(), key=lambda item: item[1][0])
    return Alignment(
        pairs=tuple(Pair(old[i].key, new[j].key, kind, score) for i, (j, kind, score) in pairs),
        removed=tuple(old[i].key for i in range(len(old)) if i not in matched),
        added=tuple(new[j].key for j in range(len(new)) if j not in taken),
    )


def spans(text: str, offsets: Sequence[tuple[int, int]]) -> tuple[Span, ...]:
    """Spans of ``text`` keyed by their index in ``offsets`` (for the new text's claims)."""
    return tuple(Span(n, text[start:end], start, end) for n, (start, end) in enumerate(offsets))
