"""Agreement statistics: published worked examples, hand-computed tables, undefined cases."""

from __future__ import annotations

import math

import pytest

from claims.agreement import (
    NO_COMPLETE_UNIT,
    NO_CONSENSUS,
    NO_CONSENSUS_OVERLAP,
    NO_PAIRABLE_UNIT,
    NO_SHARED_UNIT,
    NO_VERDICTS,
    ONE_RATER,
    RATER_SILENT,
    SAME_CATEGORY,
    Figure,
    Table,
    agreement_with_consensus,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    pairwise_cohen,
    percent_agreement,
    summarise,
)

# Krippendorff (2011), section C: observers A-D (rows here) x units 1-12, "*" = missing.
KRIPPENDORFF_2011 = """
A: 1 2 3 3 2 1 4 1 2 * * *
B: 1 2 3 3 2 2 4 1 2 5 * 3
C: * 3 3 3 2 3 4 2 2 5 1 *
D: 1 2 3 3 2 4 4 1 2 5 1 *
"""

# Fleiss (1971) as reproduced on Wikipedia's "Fleiss' kappa" page: n_ij for 10 subjects x 5
# categories, 14 raters per subject.
FLEISS_1971_COUNTS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# Three analysts on six claims (s = supported, d = disputed), used for hand-computed figures.
X, Y, Z = "xavier", "yolanda", "zoe"
THREE: Table = [
    ["s", "s", "s"],
    ["s", "d", "s"],
    ["d", "d", None],
    ["d", "d", "d"],
    [None, "s", "d"],
    ["s", "s", "d"],
]
THREE_CONSENSUS: list[str | None] = ["s", "s", "d", "d", None, "s"]


def krippendorff_table() -> Table:
    observers = [line.split(":")[1].split() for line in KRIPPENDORFF_2011.strip().splitlines()]
    units = zip(*observers, strict=True)
    return [[None if v == "*" else f"category {v}" for v in unit] for unit in units]


def fleiss_table() -> Table:
    return [
        [f"category {j + 1}" for j, n in enumerate(counts) for _ in range(n)]
        for counts in FLEISS_1971_COUNTS
    ]


# --- published values ---------------------------------------------------------------------


def test_alpha_reproduces_krippendorffs_2011_example_with_missing_values() -> None:
    """Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability." Annenberg School
    for Communication, University of Pennsylvania, Departmental Papers 43: 4 observers x 12
    units with missing values, nominal alpha = 0.743."""
    alpha = krippendorff_alpha_nominal(krippendorff_table())
    assert alpha.value is not None
    assert round(alpha.value, 3) == 0.743
    assert alpha.units == 11  # unit 12 has a single value and is not pairable
    assert alpha.pairs == 3 + 8 * 6 + 3 + 1


def test_fleiss_kappa_reproduces_the_worked_example_of_fleiss_1971() -> None:
    """Fleiss, J. L. (1971). "Measuring nominal scale agreement among many raters."
    Psychological Bulletin 76(5): 378-382, worked example as reproduced on Wikipedia's
    "Fleiss' kappa" page: 10 subjects, 14 raters, 5 categories, kappa = 0.210."""
    kappa = fleiss_kappa(fleiss_table())
    assert kappa.value is not None
    assert round(kappa.value, 3) == 0.210
    assert (kappa.units, kappa.pairs) == (10, 10 * 14 * 13 // 2)


def test_cohen_kappa_reproduces_the_wikipedia_worked_example() -> None:
    """Wikipedia, "Cohen's kappa", worked example: 50 items read by two readers, 20 yes/yes,
    5 yes/no, 10 no/yes, 15 no/no; p_o = 0.7, p_e = 0.5, kappa = 0.4."""
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    kappa = cohen_kappa(a, b)
    assert kappa.value is not None
    assert round(kappa.value, 3) == 0.4
    assert (kappa.units, kappa.pairs) == (50, 50)


# --- hand-computed values -----------------------------------------------------------------


def test_percent_agreement_is_agreeing_pairs_over_all_pairs_within_claims() -> None:
    table: Table = [
        ["a", "a", "a"],  # 3 pairs, 3 agree
        ["a", "b", None],  # 1 pair, 0 agree
        ["a", "a", "b"],  # 3 pairs, 1 agrees
        ["b", None, None],  # not pairable
    ]
    figure = percent_agreement(table)
    assert figure.value == pytest.approx(4 / 7)
    assert (figure.units, figure.pairs) == (3, 7)


def test_perfect_agreement_across_several_categories_gives_alpha_fleiss_and_cohen_of_one() -> None:
    table: Table = [["s", "s", "s"], ["d", "d", None], ["o", "o", "o"], ["d", "d", "d"]]
    assert krippendorff_alpha_nominal(table).value == 1.0
    assert fleiss_kappa(table).value == 1.0
    assert percent_agreement(table).value == 1.0
    assert cohen_kappa([r[0] for r in table], [r[1] for r in table]).value == 1.0


def test_pairwise_cohen_has_one_entry_per_unordered_pair_in_the_given_order() -> None:
    pairwise = pairwise_cohen(THREE, [X, Y, Z])
    assert list(pairwise) == [(X, Y), (X, Z), (Y, Z)]
    # X-Y: 5 shared claims, 4 agree; X s3 d2, Y s2 d3: p_e = 12/25, kappa = 0.32/0.52.
    assert pairwise[X, Y].value == pytest.approx(8 / 13)
    assert (pairwise[X, Y].units, pairwise[X, Y].pairs) == (5, 5)
    # X-Z: 4 shared claims, 3 agree; X s3 d1, Z s2 d2: p_e = 1/2, kappa = 0.25/0.5.
    assert pairwise[X, Z].value == pytest.approx(0.5)
    assert pairwise[X, Z].units == 4
    # Y-Z: 5 shared claims, 2 agree; Y s3 d2, Z s2 d3: p_e = 12/25, kappa = -0.08/0.52.
    assert pairwise[Y, Z].value == pytest.approx(-2 / 13)
    assert pairwise[Y, Z].units == 5


def test_agreement_with_consensus_counts_only_claims_with_a_consensus() -> None:
    figures = agreement_with_consensus(THREE, THREE_CONSENSUS, [X, Y, Z])
    assert list(figures) == [X, Y, Z]
    assert figures[X] == Figure(value=1.0, units=5, pairs=5)
    assert figures[Y] == Figure(value=0.8, units=5, pairs=5)  # claim 5 has no consensus
    assert figures[Z] == Figure(value=0.75, units=4, pairs=4)


def test_agreement_with_consensus_explains_why_an_analyst_has_no_figure() -> None:
    table: Table = [["s", None, "s"], ["d", None, None]]
    figures = agreement_with_consensus(table, [None, "d"], ["ann", "bob", "cy"])
    assert figures["ann"].value == 1.0
    assert figures["bob"] == Figure(value=None, reason=RATER_SILENT)
    assert figures["cy"] == Figure(value=None, reason=NO_CONSENSUS_OVERLAP)
    nobody = agreement_with_consensus(table, [None, None], ["ann", "bob", "cy"])
    assert nobody["ann"] == Figure(value=None, reason=NO_CONSENSUS)


def test_fleiss_kappa_uses_only_the_claims_every_analyst_tagged() -> None:
    complete = fleiss_table()
    with_gaps = complete + [["category 1"] + [None] * 13, [None] * 7 + ["category 2"] * 7]
    assert fleiss_kappa(with_gaps) == fleiss_kappa(complete)


def test_a_claim_nobody_tagged_changes_no_figure() -> None:
    table = krippendorff_table()
    raters = ["A", "B", "C", "D"]
    consensus = [row[0] for row in table]
    padded = [[None] * 4, *table[:5], [None] * 4, *table[5:], [None] * 4]
    padded_consensus = [None, *consensus[:5], None, *consensus[5:], None]
    assert summarise(padded, raters, padded_consensus) == summarise(table, raters, consensus)


def test_summary_counts_tagged_claims_active_analysts_and_verdicts() -> None:
    table = krippendorff_table() + [[None] * 4]
    summary = summarise(table, ["A", "B", "C", "D"], [None] * len(table))
    assert (summary.units, summary.raters, summary.verdicts) == (12, 4, 9 + 11 + 10 + 11)
    assert summary.alpha == krippendorff_alpha_nominal(table)
    assert summary.percent == percent_agreement(table)
    assert summary.fleiss == fleiss_kappa(table)
    assert list(summary.pairwise) == [("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"),
                                      ("C", "D")]  # fmt: skip
    assert all(f.reason == NO_CONSENSUS for f in summary.with_consensus.values())


# --- undefined cases ----------------------------------------------------------------------


@pytest.mark.parametrize("table", [[], [[None, None], [None, None]]], ids=["empty", "all-none"])
def test_every_table_figure_is_undefined_when_no_claim_is_tagged(table: Table) -> None:
    for figure in (percent_agreement(table), krippendorff_alpha_nominal(table)):
        assert figure == Figure(value=None, reason=NO_VERDICTS)
    assert fleiss_kappa(table) == Figure(value=None, reason=NO_VERDICTS)
    assert cohen_kappa([], []) == Figure(value=None, reason=NO_VERDICTS)


@pytest.mark.parametrize(
    "table", [[["s"], ["d"]], [["s", None], ["d", None]]], ids=["one-column", "one-active"]
)
def test_every_figure_is_undefined_when_only_one_analyst_has_tagged(table: Table) -> None:
    assert percent_agreement(table).reason == ONE_RATER
    assert krippendorff_alpha_nominal(table).reason == ONE_RATER
    assert fleiss_kappa(table).reason == ONE_RATER
    assert cohen_kappa(["s", "d"], [None, None]).reason == ONE_RATER
    assert not percent_agreement(table).defined


def test_figures_are_undefined_when_no_claim_was_tagged_by_two_analysts() -> None:
    table: Table = [["s", None], [None, "d"], ["o", None]]
    assert percent_agreement(table) == Figure(value=None, reason=NO_PAIRABLE_UNIT)
    assert krippendorff_alpha_nominal(table) == Figure(value=None, reason=NO_PAIRABLE_UNIT)
    assert fleiss_kappa(table) == Figure(value=None, reason=NO_COMPLETE_UNIT)
    assert pairwise_cohen(table, ["ann", "bob"])["ann", "bob"].reason == NO_SHARED_UNIT


def test_chance_corrected_figures_are_undefined_when_every_verdict_is_one_category() -> None:
    table: Table = [["s", "s", "s"], ["s", "s", None], ["s", None, None]]
    alpha = krippendorff_alpha_nominal(table)
    assert alpha == Figure(value=None, reason=SAME_CATEGORY, units=2, pairs=4)
    assert fleiss_kappa(table) == Figure(value=None, reason=SAME_CATEGORY, units=1, pairs=3)
    assert cohen_kappa(["s", "s"], ["s", "s"]) == Figure(None, SAME_CATEGORY, units=2, pairs=2)
    assert percent_agreement(table).value == 1.0  # raw agreement is still meaningful


def test_fleiss_kappa_is_undefined_without_a_claim_every_analyst_tagged() -> None:
    table: Table = [["s", "s", None], ["d", None, "d"], [None, "s", "d"]]
    assert fleiss_kappa(table) == Figure(value=None, reason=NO_COMPLETE_UNIT)
    assert krippendorff_alpha_nominal(table).defined


DEGENERATE_TABLES: list[Table] = [
    [],
    [[]],
    [[None]],
    [["s"]],
    [["s", "s"]],
    [["s", "d"]],
    [["s", None, None]],
    [[None, None, None], [None, None, None]],
    [["s", "s"], [None, "d"]],
    [["s", "d"], ["d", "s"]],
    [["s"], ["s", "d", None]],  # ragged rows read as padded with None
]


@pytest.mark.parametrize("table", DEGENERATE_TABLES)
def test_degenerate_tables_never_raise_and_never_give_nan_or_infinity(table: Table) -> None:
    width = max((len(row) for row in table), default=0)
    raters = [f"r{j}" for j in range(width)]
    summary = summarise(table, raters, [None] * len(table))
    figures = [
        summary.percent,
        summary.alpha,
        summary.fleiss,
        *summary.pairwise.values(),
        *summary.with_consensus.values(),
    ]
    for figure in figures:
        if figure.defined:
            assert figure.value is not None and math.isfinite(figure.value)
            assert figure.reason == ""
        else:
            assert figure.reason


def test_cohen_kappa_reads_a_shorter_list_as_missing_verdicts() -> None:
    assert cohen_kappa(["s", "d", "s"], ["s", "d"]) == cohen_kappa(["s", "d"], ["s", "d"])


# --- display ------------------------------------------------------------------------------


def test_figure_displays_rounded_value_or_undefined() -> None:
    assert Figure(0.743421052631579).display() == "0.743"
    assert Figure(0.743421052631579).display(digits=1) == "0.7"
    assert Figure(1.0).display() == "1.000"
    assert Figure(-0.0001).display() == "0.000"
    assert Figure(-2 / 13).display() == "-0.154"
    undefined = Figure(None, reason=ONE_RATER)
    assert undefined.display() == "undefined"
    assert not undefined.defined
    assert Figure(0.0).defined
