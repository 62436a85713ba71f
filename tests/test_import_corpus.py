"""The segmenter on articles in house styles it was not written against.

``tests/data/corpus`` holds articles in five house styles (news wire, think-tank brief,
op-ed, Markdown blog post, HTML page from a CMS), each with a hand annotation (``.ann``)
written before the segmenter was tuned to them, and the gold built from it (``.gold.json``,
the format of ``seed_gold.json``; ``build_gold.py`` explains both). The floors asserted here,
over the corpus pooled: claim span F1 >= 0.95 and citation F1 (span, outlet, date and its
precision) >= 0.98; and on the sample, sentences 1.0, claims >= 0.97, citations 30 of 30.

``corpus/held-out`` holds two more articles (a research note copied from a PDF, a WordPress
page) annotated after the tuning above, to see the segmenter on text it had not met. They
have no floors here: a floor set from their figures would tune to them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import pytest
from django.core.management import call_command

from claims.management.commands.import_quality import (
    DATA,
    Case,
    Count,
    evaluate,
    load_cases,
    total,
)
from claims.segmenter import CLAIM_KINDS, segment

CORPUS = DATA / "corpus"
STYLES = ["blog-ports.md", "brief-arctic.txt", "cms-pipeline.html", "oped-sanctions.txt"]
STYLES += ["wire-wheat.txt"]


@functools.cache
def _cases() -> tuple[Case, ...]:
    return tuple(load_cases(CORPUS, DATA / "seed_gold.json"))


@functools.cache
def _results() -> dict[str, dict[str, Count]]:
    return {name: counts for name, counts, _ in evaluate(list(_cases()))}


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_gold", CORPUS / "build_gold.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_has_five_house_styles() -> None:
    assert [case.name for case in _cases()] == ["china-brief.txt", *STYLES]


ANNOTATIONS = sorted(CORPUS.glob("*.ann")) + sorted(CORPUS.glob("held-out/*.ann"))


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=lambda p: p.stem)
def test_each_gold_is_built_from_its_annotation_and_article(annotation: Path) -> None:
    """The JSON is what the annotation says, on the text as it is stored today (for HTML,
    as ``html_to_text`` renders it): edit the .ann and run build_gold.py, never the JSON."""
    gold = json.loads(annotation.with_suffix(".gold.json").read_text(encoding="utf-8"))
    assert _builder().build(annotation) == gold
    data = (annotation.parent / gold["source"]["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == gold["source"]["sha256"]


def test_corpus_floors() -> None:
    corpus = total(counts for name, counts in _results().items() if name != "china-brief.txt")
    assert corpus["claims"].f1 >= 0.95
    assert corpus["citations"].f1 >= 0.98


def test_sample_floors() -> None:
    sample = _results()["china-brief.txt"]
    assert sample["sentences"].f1 == 1.0
    assert sample["claims"].f1 >= 0.97
    assert (sample["citations"].matched, sample["citations"].gold) == (30, 30)
    assert sample["citations"].predicted == 30


@pytest.mark.parametrize("name", STYLES)
def test_each_article_on_its_own(name: str) -> None:
    """No article hides behind the others: each is held to the pooled floors too."""
    counts = _results()[name]
    assert counts["blocks"].recall >= 0.9
    assert counts["sentences"].f1 >= 0.95
    assert counts["claims"].f1 >= 0.9
    assert counts["citations"].f1 >= 0.98


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case.name)
def test_offsets_are_consistent_on_every_article(case: Case) -> None:
    seg = segment(case.text, case.published_on)
    for sentence in seg.sentences:
        block = seg.blocks[sentence.block]
        assert block.kind in CLAIM_KINDS
        assert block.start <= sentence.start < sentence.end <= block.end
    for claim in seg.claims:
        piece = case.text[claim.start : claim.end]
        assert piece and piece == piece.strip()
    for citation in seg.citations:
        sentence = seg.sentences[citation.sentence]
        assert sentence.start <= citation.group_start < citation.group_end <= sentence.end
        assert citation.raw == case.text[citation.start : citation.end]


def test_undated_citations_of_the_op_ed_are_reported_not_dated() -> None:
    case = next(c for c in _cases() if c.name == "oped-sanctions.txt")
    seg = segment(case.text, case.published_on)
    undated = [c.raw for c in seg.citations if c.date is None]
    assert undated == ["Kommersant, March 12", "Interfax, December 15"]
    reported = [case.text[n.start : n.end] for n in seg.uncertainties]
    assert reported == undated


def test_the_command_prints_every_article_and_the_totals() -> None:
    out = io.StringIO()
    call_command("import_quality", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["article", "blocks", "(acc)"]
    names = [line.split()[0] for line in lines[2:]]
    assert names == ["china-brief.txt", *STYLES, "corpus", "all"]
    assert lines[-2].startswith("corpus overall")
