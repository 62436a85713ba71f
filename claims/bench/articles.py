"""Generated articles for the benchmarks: sentences of one claim each, every third with a
parenthetical citation, as many as asked for or up to a size. Deterministic (seeded)."""

from __future__ import annotations

import random

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
