"""claims.alignment: an article's claims paired with those of its revised text, and the
alignment measured against the hand-checked revisions in tests/data/revisions."""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims import alignment
from claims.alignment import Alignment, Pair, Span, align, normalise, word_diff
from claims.management.commands import revision_quality

REVISIONS = Path(__file__).parent / "data" / "revisions"


def sentences(text: str) -> tuple[Span, ...]:
    """Each sentence of ``text`` a claim, keyed by its index."""
    found = [(m.start(), m.end()) for m in re.finditer(r"\S.*?\.(?=\s|$)", text, re.S)]
    return alignment.spans(text, found)


def run(old_text: str, new_text: str) -> Alignment:
    return align(old_text, sentences(old_text), new_text, sentences(new_text))


def pairs(result: Alignment) -> dict[int, tuple[int, str]]:
    return {pair.old: (pair.new, pair.kind) for pair in result.pairs}


ARTICLE = (
    "Russia's wheat exports reached a record 52 million tonnes in the season. "
    "Egypt remained the largest buyer of Russian grain. "
    "Shipments from Novorossiysk ran at about 1.2 million tonnes a week in March.\n\n"
    "The ministry has not published a new export quota for the coming season. "
    "Farmers complain that low prices leave them very little margin. "
    "Several regional associations asked the government to scrap the export duty.\n\n"
    "Kazakhstan and Ukraine also compete for the same buyers in North Africa. "
    "Russian sellers have cut prices to keep their market share."
)


# ---------------------------------------------------------------------------- normalise


def test_normalise_makes_no_break_spaces_and_runs_of_whitespace_one_space() -> None:
    assert normalise("a\xa0 b \u202f c\n\td ") == "a b c d"


def test_normalise_straightens_quotes_and_apostrophes() -> None:
    assert normalise("“NATO” is Russia’s ‘worry’") == "\"NATO\" is Russia's 'worry'"


def test_normalise_makes_dashes_hyphens() -> None:
    assert normalise("10–15 years — or 10—15") == "10-15 years - or 10-15"


def test_normalise_applies_nfkc() -> None:
    assert normalise("ﬁnal ＡＢＣ ½ e\u0301") == "final ABC 1⁄2 é"


def test_normalise_keeps_case_and_other_punctuation() -> None:
    assert normalise("In the Middle East") != normalise("in the Middle East")
    assert normalise("buyer.") != normalise("buyer")


# ---------------------------------------------------------------------------- the kinds


def test_identical_texts_are_all_unchanged() -> None:
    result = run(ARTICLE, ARTICLE)
    assert result.counts == {"unchanged": 8, "edited": 0, "removed": 0, "added": 0}
    assert all(pair.old == pair.new and pair.score == 1.0 for pair in result.pairs)


def test_whitespace_quotes_and_dashes_leave_claims_unchanged() -> None:
    old = "Russia’s exports – a record – rose.  “We never exported so much,” he said."
    new = 'Russia\'s exports - a record - rose. "We never\xa0exported so much," he said.'
    assert pairs(run(old, new)) == {0: (0, "unchanged"), 1: (1, "unchanged")}


def test_a_typo_fix_is_an_edit() -> None:
    new = ARTICLE.replace("Several regional", "Several regoinal").replace(
        "The ministry", "Th ministry"
    )
    result = run(ARTICLE, new)
    assert pairs(result)[3] == (3, "edited")
    assert pairs(result)[5] == (5, "edited")
    assert result.counts == {"unchanged": 6, "edited": 2, "removed": 0, "added": 0}


def test_a_changed_figure_is_an_edit_with_its_similarity() -> None:
    result = run(ARTICLE, ARTICLE.replace("52 million", "53 million"))
    (edited,) = [pair for pair in result.pairs if pair.kind == "edited"]
    assert (edited.old, edited.new) == (0, 0)
    assert 0.8 < edited.score < 1


def test_a_reworded_claim_in_its_place_is_an_edit() -> None:
    new = ARTICLE.replace(
        "Farmers complain that low prices leave them very little margin.",
        "Farmers say that the low prices leave them almost no margin.",
    )
    assert pairs(run(ARTICLE, new))[4] == (4, "edited")


def test_removed_and_added_sentences() -> None:
    new = ARTICLE.replace("Egypt remained the largest buyer of Russian grain. ", "").replace(
        "market share.", "market share. The harvest outlook for next year is uncertain."
    )
    result = run(ARTICLE, new)
    assert result.removed == (1,)
    assert result.added == (7,)
    assert result.counts == {"unchanged": 7, "edited": 0, "removed": 1, "added": 1}


def test_a_sentence_replaced_in_place_by_another_point_is_removed_and_added() -> None:
    new = ARTICLE.replace(
        "Farmers complain that low prices leave them very little margin.",
        "Exporters expect a decision on the quota before the season starts in July.",
    )
    result = run(ARTICLE, new)
    assert 4 not in pairs(result)
    assert (result.removed, result.added) == ((4,), (4,))


def test_nothing_in_common_is_all_removed_and_added() -> None:
    other = "Cats sleep most of the day. Dogs bark at strangers. Parrots can learn words."
    result = run(ARTICLE, other)
    assert result.pairs == ()
    assert result.removed == tuple(range(8))
    assert result.added == (0, 1, 2)


def test_a_moved_paragraph_is_unchanged_where_it_went() -> None:
    first, second, third = ARTICLE.split("\n\n")
    result = run(ARTICLE, "\n\n".join([second, third, first]))
    assert pairs(result) == {
        0: (5, "unchanged"),
        1: (6, "unchanged"),
        2: (7, "unchanged"),
        3: (0, "unchanged"),
        4: (1, "unchanged"),
        5: (2, "unchanged"),
        6: (3, "unchanged"),
        7: (4, "unchanged"),
    }


def test_a_claim_edited_in_a_moved_paragraph_follows_its_neighbours() -> None:
    first, second, third = ARTICLE.split("\n\n")
    second = second.replace(
        "Farmers complain that low prices leave them very little margin.",
        "Farmers say that the low prices leave them almost no margin.",
    )
    result = run(ARTICLE, "\n\n".join([third, second, first]))
    assert pairs(result)[4] == (3, "edited")
    assert result.removed == result.added == ()


def test_a_reworded_claim_moved_away_from_its_context_is_removed_and_added() -> None:
    """Between "in place" and "anywhere": without its context, not carried on a guess."""
    old = "Farmers complain that low prices leave them very little margin. " + ARTICLE
    new = ARTICLE + " Farmers say that the low prices leave them almost no margin."
    assert 0.55 <= alignment.similarity(old.split(". ")[0], new.split(". ")[-1]) < 0.8
    result = run(old, new)
    assert result.removed == (0,)
    assert result.added == (8,)


def test_a_claim_moved_far_with_a_typo_is_still_found() -> None:
    old = "Farmers complain that low prices leave them very little margin. " + ARTICLE
    new = ARTICLE + " Farmers complain that low prices leave them very littel margin."
    assert pairs(run(old, new))[0] == (8, "edited")


def test_a_split_sentence_goes_to_its_better_part_and_the_rest_is_added() -> None:
    new = ARTICLE.replace(
        "Shipments from Novorossiysk ran at about 1.2 million tonnes a week in March.",
        "Shipments from Novorossiysk ran at about 1.2 million tonnes a week. That was in March.",
    )
    result = run(ARTICLE, new)
    assert pairs(result)[2] == (2, "edited")
    assert result.added == (3,)
    assert result.removed == ()


def test_a_split_sentence_with_no_part_close_enough_is_removed_and_its_parts_added() -> None:
    new = ARTICLE.replace(
        "Shipments from Novorossiysk ran at about 1.2 million tonnes a week in March.",
        "Novorossiysk is busy. It shipped a lot in March. Most of it was wheat.",
    )
    result = run(ARTICLE, new)
    assert result.removed == (2,)
    assert result.added == (2, 3, 4)


def test_merged_sentences_keep_the_claim_they_mostly_are() -> None:
    new = ARTICLE.replace(
        "Kazakhstan and Ukraine also compete for the same buyers in North Africa. "
        "Russian sellers have cut prices to keep their market share.",
        "Kazakhstan and Ukraine also compete for the same buyers in North Africa, and "
        "sellers cut prices.",
    )
    result = run(ARTICLE, new)
    assert pairs(result)[6] == (6, "edited")
    assert result.removed == (7,)


def test_repeated_sentences_pair_by_their_context() -> None:
    old = "Prices fell. Farmers lost money. Prices fell. Exporters gained."
    new = "Exporters gained. Prices fell. Farmers lost money. Prices fell."
    result = run(old, new)
    assert pairs(result) == {
        0: (1, "unchanged"),
        1: (2, "unchanged"),
        2: (3, "unchanged"),
        3: (0, "unchanged"),
    }


def test_many_copies_of_one_sentence_pair_in_text_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alignment, "REPEATS", 4)  # 5 old copies x 3 new ones is past it
    result = run(
        "Prices fell. " * 5 + "Farmers lost money.", "Farmers lost money." + " Prices fell." * 3
    )
    assert pairs(result) == {
        0: (1, "unchanged"),
        1: (2, "unchanged"),
        2: (3, "unchanged"),
        5: (0, "unchanged"),
    }
    assert result.removed == (3, 4)


def test_the_window_used_past_the_budget_finds_the_same_edits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new = ARTICLE.replace("52 million", "53 million").replace("Egypt remained", "Egypt stayed")
    everywhere = run(ARTICLE, new)
    monkeypatch.setattr(alignment, "BUDGET", 0)
    monkeypatch.setattr(alignment, "WINDOW", 2)
    assert run(ARTICLE, new) == everywhere
    assert everywhere.counts["edited"] == 2


def test_pairs_are_one_to_one_and_every_claim_is_accounted_for() -> None:
    for revision in revision_quality.load_revisions(REVISIONS):
        (old_text, old), (new_text, new) = revision.old, revision.new
        result = align(old_text, old, new_text, new)
        olds = [pair.old for pair in result.pairs] + list(result.removed)
        news = [pair.new for pair in result.pairs] + list(result.added)
        assert sorted(olds) == [span.key for span in old]
        assert sorted(news) == [span.key for span in new]


def test_old_keys_are_the_callers_and_results_follow_the_new_order() -> None:
    old = [Span(900 + n, s.text, s.start, s.end) for n, s in enumerate(sentences(ARTICLE))]
    new_text = ARTICLE.replace("52 million", "53 million")
    result = align(ARTICLE, old, new_text, sentences(new_text)[::-1])
    assert {pair.old for pair in result.pairs} == set(range(900, 908))
    assert [pair.new for pair in result.pairs] == list(range(7, -1, -1))


def test_repeated_keys_and_spans_outside_the_text_are_refused() -> None:
    spans = sentences(ARTICLE)
    with pytest.raises(ValueError, match="same key"):
        align(ARTICLE, [spans[0], spans[0]], ARTICLE, spans)
    with pytest.raises(ValueError, match="outside its text"):
        align(ARTICLE, spans, "short", spans)


def test_the_alignment_imports_no_django_and_no_claims_module() -> None:
    tree = ast.parse(Path(alignment.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} <= {
        *("__future__", "bisect", "collections", "dataclasses", "re", "typing", "unicodedata"),
        "rapidfuzz",
    }


# ---------------------------------------------------------------------------- the record


def test_as_mapping_is_json_and_reads_back() -> None:
    new = ARTICLE.replace("52 million", "53 million").replace("Egypt remained the", "")
    result = run(ARTICLE, new.replace("share.", "share. A new sentence about ports."))
    mapping = json.loads(json.dumps(result.as_mapping()))
    assert set(mapping) == {"unchanged", "edited", "removed", "added"}
    assert mapping["edited"][0][:2] == [0, 0]
    back = Alignment.from_mapping(mapping)
    assert back.as_mapping() == mapping
    assert back.counts == result.counts
    assert sorted(back.pairs, key=lambda p: p.new) == sorted(result.pairs, key=lambda p: p.new)


@pytest.mark.parametrize(
    "mapping",
    [
        [],
        {"unchanged": [], "edited": [], "removed": []},
        {"unchanged": [[1, 2, 3]], "edited": [], "removed": [], "added": []},
        {"unchanged": [["1", 2]], "edited": [], "removed": [], "added": []},
        {"unchanged": [[True, 2]], "edited": [], "removed": [], "added": []},
        {"unchanged": [], "edited": [[1, 2]], "removed": [], "added": []},
        {"unchanged": [], "edited": [[1, 2, 1.5]], "removed": [], "added": []},
        {"unchanged": [[1, 2]], "edited": [], "removed": [1], "added": []},
        {"unchanged": [[1, 2]], "edited": [[3, 2, 0.9]], "removed": [], "added": []},
        {"unchanged": [], "edited": [], "removed": "1", "added": []},
    ],
)
def test_from_mapping_refuses_what_as_mapping_never_writes(mapping: Any) -> None:
    with pytest.raises(ValueError):
        Alignment.from_mapping(mapping)


def test_counts_name_the_four_kinds() -> None:
    result = Alignment((Pair(1, 1, "unchanged", 1.0), Pair(2, 3, "edited", 0.9)), (4,), (2, 5))
    assert result.counts == {"unchanged": 1, "edited": 1, "removed": 1, "added": 2}


# ---------------------------------------------------------------------------- word diff


def test_word_diff_shows_a_changed_figure() -> None:
    assert word_diff("exports reached 52 million tonnes", "exports reached 53 million tonnes") == [
        ("equal", "exports reached"),
        ("delete", "52"),
        ("insert", "53"),
        ("equal", "million tonnes"),
    ]


def test_word_diff_merges_runs_and_puts_deletions_first() -> None:
    assert word_diff("a b c d e", "a x y e f") == [
        ("equal", "a"),
        ("delete", "b c d"),
        ("insert", "x y"),
        ("equal", "e"),
        ("insert", "f"),
    ]


def test_word_diff_sees_no_change_in_quotes_or_spaces() -> None:
    assert word_diff("Russia’s “big  brother”", 'Russia\'s "big\xa0brother"') == [
        ("equal", 'Russia\'s "big brother"'),
    ]


def test_word_diff_of_nothing_and_of_everything() -> None:
    assert word_diff("", "") == []
    assert word_diff("", "new words") == [("insert", "new words")]
    assert word_diff("old words", "") == [("delete", "old words")]


# ---------------------------------------------------------------------------- the corpus


def test_the_corpus_covers_what_the_issue_asks_for() -> None:
    covers = set()
    names = []
    for path in REVISIONS.glob("*.gold.json"):
        gold = json.loads(path.read_text(encoding="utf-8"))
        covers |= set(gold["covers"])
        names.append(gold["old"]["file"])
    assert names.count("china-brief.txt") >= 3
    assert len(set(names)) >= 2
    assert {
        *("typo fix", "changed figure", "reworded claim", "removed sentence", "added sentence"),
        *("moved paragraph", "no-break spaces", "quotes", "split sentence", "new title"),
    } <= covers


def test_the_alignment_reaches_its_floors_on_the_corpus() -> None:
    results = [revision_quality.measure(r) for r in revision_quality.load_revisions(REVISIONS)]
    overall = revision_quality.total(results)
    assert overall.wrong == 0
    assert overall.unchanged.hits == overall.unchanged.of > 300
    assert overall.edited.value >= 0.95
    assert overall.edited.of >= 25
    assert overall.floors_missed() == []


def test_revision_quality_prints_each_revision_and_overall() -> None:
    out = io.StringIO()
    call_command("revision_quality", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:4] == ["revision", "wrong", "unchanged", "edited"]
    assert [line.split()[0] for line in lines[1:7]] == [
        *("china-brief.r1-copyedit", "china-brief.r2-update", "china-brief.r3-restructure"),
        *("wire-wheat.r1-update", "wire-wheat.r2-rewrite", "overall"),
    ]
    assert lines[6].split()[1] == "0"


def _corpus_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "revisions"
    folder.mkdir()
    for path in REVISIONS.glob("wire-wheat.r1-update.*"):
        shutil.copy(path, folder / path.name)
    shutil.copytree(REVISIONS.parent / "corpus", tmp_path / "corpus")
    return folder


def test_revision_quality_fails_when_a_floor_is_missed(tmp_path: Path) -> None:
    folder = _corpus_copy(tmp_path)
    gold_path = folder / "wire-wheat.r1-update.gold.json"
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    # The gold now says the first claim was removed and its revision added: the
    # alignment's "edited" becomes a verdict carried to a wrong claim.
    first = next(e for e in gold["edited"] if e["old"] == 0)
    gold["edited"].remove(first)
    gold["removed"].append({"old": 0, "text": first["old_text"]})
    gold["added"].append({"new": first["new"], "text": first["new_text"]})
    gold_path.write_text(json.dumps(gold), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 verdicts would be carried to a wrong claim"):
        call_command("revision_quality", corpus=str(folder), stdout=out)
    assert "old claim 0 edited as new claim 0, the gold says removed" in out.getvalue()


def test_revision_quality_refuses_a_gold_the_segmenter_no_longer_agrees_with(
    tmp_path: Path,
) -> None:
    folder = _corpus_copy(tmp_path)
    text = folder / "wire-wheat.r1-update.txt"
    text.write_text(
        text.read_text(encoding="utf-8").replace("Egypt remained", "Egypt, it seems, remained"),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="claim 1 of the gold is no longer the segmenter's"):
        call_command("revision_quality", corpus=str(folder), stdout=io.StringIO())


def test_revision_quality_needs_a_corpus(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="There are no revisions"):
        call_command("revision_quality", corpus=str(tmp_path), stdout=io.StringIO())
