"""Generated articles for the benchmarks: sentences of one claim each, every third with a
parenthetical citation, as many as asked for or up to a size; and revisions of them.
Deterministic (seeded)."""

from __future__ import annotations

import random
import re

SUBJECTS: tuple[str, ...] = (
    "The ministry",
    "The regional council",
    "A state agency",
    "The central bank",
)
SUBJECTS += ("The port authority", "The defence ministry", "A provincial court", "The envoy")
VERBS = ("reported", "announced", "confirmed", "denied", "published", "approved", "rejected")
OBJECTS: tuple[str, ...] = (
    "a new grain quota",
    "higher gas exports",
    "the border agreement",
    "a rail project",
)
OBJECTS += ("fresh tariff rules", "the joint exercise", "a loan package", "the pipeline deal")
OUTLETS = ("Xinhua", "Kremlin.ru", "TASS", "Global Times", "Interfax", "Mid.ru")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
PARAGRAPH = 8  # sentences per paragraph
SECTION = 20 * PARAGRAPH  # sentences per section


def article_text(*, claims: int = 0, size: int = 0) -> str:
    """A title, then sections of paragraphs of short sentences, each one claim (every third
    with a parenthetical citation): ``claims`` sentences, or at least ``size`` characters."""
    rng = random.Random(7)
    lines = ["A Generated Article for the Benchmark", ""]
    length = n = 0
    while (n < claims) if claims else (length < size):
        if n % SECTION == 0:
            lines += [f"Part {n // SECTION + 1} of the record", ""]
        count = min(PARAGRAPH, claims - n) if claims else PARAGRAPH
        sentences = []
        for i in range(n, n + count):
            cited = f" ({rng.choice(OUTLETS)}, {rng.choice(MONTHS)} {rng.randint(1, 28)})"
            sentences.append(
                f"{rng.choice(SUBJECTS)} of district {i + 1} {rng.choice(VERBS)} "
                f"{rng.choice(OBJECTS)}{cited if i % 3 == 0 else ''}."
            )
        paragraph = " ".join(sentences)
        lines += [paragraph, ""]
        length += len(paragraph) + 2
        n += count
    return "\n".join(lines)


def revised_text(
    text: str, *, edit: float = 0.05, remove: float = 0.02, add: float = 0.02, seed: int = 11
) -> tuple[str, list[tuple[int | None, bool]]]:
    """A revision of an ``article_text``: of its sentences about ``edit`` edited (a verb
    changed or a word added), ``remove`` removed, and after about ``add`` of them a new
    one added; and a paragraph near the start moved near the end. Returns the text and,
    for each of its sentences, the index of the old sentence it was (None: added) and
    whether it was edited."""
    rng = random.Random(seed)
    blocks = text.split("\n\n")
    old = 0
    origins: dict[int, list[tuple[int | None, bool]]] = {}
    for b, block in enumerate(blocks):
        if not block.rstrip().endswith("."):
            continue  # the title and the headings
        sentences: list[str] = []
        origin: list[tuple[int | None, bool]] = []
        for sentence in re.split(r"(?<=\.) (?=[A-Z])", block):
            draw = rng.random()
            if draw >= remove:
                edited = draw < remove + edit
                if edited:
                    verb = next(v for v in VERBS if f" {v} " in sentence)
                    other = rng.choice([v for v in VERBS if v != verb])
                    sentence = sentence.replace(
                        f" {verb} ", f" {'later ' * rng.randint(0, 1)}{other} "
                    )
                sentences.append(sentence)
                origin.append((old, edited))
            if rng.random() < add:
                sentences.append(
                    f"Observers expect talks on {rng.choice(OBJECTS)} to resume in year {old}."
                )
                origin.append((None, False))
            old += 1
        blocks[b] = " ".join(sentences)
        origins[b] = origin
    paragraphs = [b for b in origins if origins[b]]
    moved = paragraphs[len(paragraphs) // 10]
    order = [b for b in range(len(blocks)) if b != moved]
    order.insert(order.index(paragraphs[9 * len(paragraphs) // 10]) + 1, moved)
    return "\n\n".join(blocks[b] for b in order if blocks[b]), [
        o for b in order for o in origins.get(b, [])
    ]


def rewritten_text(text: str) -> str:
    """Every sentence of an ``article_text`` replaced by one that shares little with it."""
    count = iter(range(1, 10**9))
    return re.sub(
        r"[A-Z][^.]*\.(?= |\n|$)",
        lambda m: f"Observers expect talks on item {next(count)} to resume next year.",
        text,
    )
