"""Inter-analyst agreement over a claims x analysts table of nominal verdicts.

Pure functions over plain values (no Django), so that they can be tested without a database.

A table has one row per claim (the *unit*) and one column per analyst (the *rater*); a cell
holds the analyst's verdict ("supported", "disputed", ...) or ``None`` when that analyst has not
tagged that claim.  Rows shorter than the widest row are read as if padded with ``None``.
A claim that nobody tagged carries no information and is ignored by every figure.

Every figure comes back as a :class:`Figure`.  When a statistic is not defined for the data
(nobody has tagged anything, only one analyst is active, every verdict is the same category...)
its ``value`` is ``None`` and ``reason`` says why in plain words; no function returns NaN or
infinity, and none raises on such data.

``Figure.units`` counts the claims a figure rests on.  ``Figure.pairs`` counts the *unordered*
pairs of verdicts it rests on: a claim with ``m`` verdicts contributes ``m * (m - 1) / 2`` pairs
to the table-wide figures; for Cohen's kappa and for agreement with consensus each compared
claim is exactly one pair.

The arithmetic is exact (integers and :class:`fractions.Fraction`) up to the final conversion
to ``float``, so perfect agreement gives exactly 1.0 and the undefined cases are detected by
exact comparison rather than by a floating-point tolerance.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from fractions import Fraction

Label = str | None
Table = list[list[Label]]

NO_VERDICTS = "No claim has been tagged yet."
ONE_RATER = "Only one analyst has tagged claims."
NO_PAIRABLE_UNIT = "No claim was tagged by two analysts."
SAME_CATEGORY = "Every verdict uses the same category, so chance agreement is total."
NO_COMPLETE_UNIT = "No claim was tagged by every analyst."
NO_SHARED_UNIT = "The two analysts have not tagged any claim in common."
RATER_SILENT = "This analyst has not tagged any claims."
NO_CONSENSUS = "No claim has a consensus verdict yet."
NO_CONSENSUS_OVERLAP = "None of the claims this analyst tagged has a consensus verdict yet."


@dataclass(frozen=True)
class Figure:
    """One agreement figure, or the reason it is undefined.

    ``units`` is the number of claims the figure rests on; ``pairs`` the number of unordered
    verdict pairs it rests on (see the module docstring).
    """

    value: float | None
    reason: str = ""
    units: int = 0
    pairs: int = 0

    @property
    def defined(self) -> bool:
        return self.value is not None

    def display(self, digits: int = 3) -> str:
        """The value rounded to ``digits`` decimals ("0.743"), or "undefined"."""
        if self.value is None:
            return "undefined"
        text = f"{self.value:.{digits}f}"
        if text.startswith("-") and float(text) == 0:
            text = text[1:]  # no "-0.000" for a tiny negative value
        return text


def _undefined(reason: str, units: int = 0, pairs: int = 0) -> Figure:
    return Figure(value=None, reason=reason, units=units, pairs=pairs)


def _defined(value: Fraction, units: int, pairs: int) -> Figure:
    return Figure(value=float(value), units=units, pairs=pairs)


def _pairs(m: int) -> int:
    return m * (m - 1) // 2


@dataclass(frozen=True)
class _Prepared:
    """The table reduced to what the figures need, computed once per table."""

    width: int  # number of rater columns
    counts: list[Counter[str]]  # per tagged claim: verdict -> how many analysts gave it
    active_raters: int  # analysts with at least one verdict
    verdicts: int  # total number of verdicts


def _prepare(table: Table) -> _Prepared:
    width = max((len(row) for row in table), default=0)
    counts: list[Counter[str]] = []
    active = [False] * width
    verdicts = 0
    for row in table:
        unit: Counter[str] = Counter()
        for j, label in enumerate(row):
            if label is not None:
                unit[label] += 1
                active[j] = True
        if unit:
            counts.append(unit)
            verdicts += unit.total()
    return _Prepared(width, counts, sum(active), verdicts)


def _coverage_reason(prep: _Prepared) -> str | None:
    """Why no verdict pairs can be formed at all, or None if some can."""
    if prep.verdicts == 0:
        return NO_VERDICTS
    if prep.active_raters < 2:
        return ONE_RATER
    if all(unit.total() < 2 for unit in prep.counts):
        return NO_PAIRABLE_UNIT
    return None


# --- percent agreement --------------------------------------------------------------------


def percent_agreement(table: Table) -> Figure:
    """Pairwise observed agreement: agreeing verdict pairs / all verdict pairs.

    Pairs are formed within each claim that has at least two verdicts and pooled over claims,
    so a claim with more verdicts weighs more.  ``pairs`` counts unordered pairs.
    """
    return _percent_agreement(_prepare(table))


def _percent_agreement(prep: _Prepared) -> Figure:
    reason = _coverage_reason(prep)
    if reason is not None:
        return _undefined(reason)
    units = agreeing = total = 0
    for unit in prep.counts:
        m = unit.total()
        if m < 2:
            continue
        units += 1
        total += _pairs(m)
        agreeing += sum(_pairs(n) for n in unit.values())
    return _defined(Fraction(agreeing, total), units, total)


# --- Krippendorff's alpha -----------------------------------------------------------------


def krippendorff_alpha_nominal(table: Table) -> Figure:
    """Krippendorff's alpha for nominal data, missing verdicts allowed.

    Follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": claims with
    fewer than two verdicts are not pairable and are dropped; from the coincidence matrix
    ``o_ck`` and its marginals ``n_c`` (``n`` pairable values in all),

        alpha = ((n - 1) * sum_c o_cc - sum_c n_c (n_c - 1)) / (n (n - 1) - sum_c n_c (n_c - 1))

    Undefined when the expected disagreement is zero, i.e. all pairable verdicts are in one
    category.  ``pairs`` counts unordered verdict pairs within the pairable claims.
    """
    return _krippendorff_alpha_nominal(_prepare(table))


def _krippendorff_alpha_nominal(prep: _Prepared) -> Figure:
    reason = _coverage_reason(prep)
    if reason is not None:
        return _undefined(reason)
    # sum_c o_cc = sum_u sum_c n_uc (n_uc - 1) / (m_u - 1); summed as integers per m_u so that
    # the only divisions are one per distinct number of verdicts per claim.
    same_by_m: defaultdict[int, int] = defaultdict(int)
    marginals: Counter[str] = Counter()
    units = pairs = 0
    for unit in prep.counts:
        m = unit.total()
        if m < 2:
            continue
        units += 1
        pairs += _pairs(m)
        same_by_m[m] += sum(k * (k - 1) for k in unit.values())
        marginals.update(unit)
    observed_same = sum((Fraction(s, m - 1) for m, s in same_by_m.items()), Fraction(0))
    n = marginals.total()
    chance_same = sum(k * (k - 1) for k in marginals.values())
    denominator = n * (n - 1) - chance_same  # n (n - 1) times the expected disagreement
    if denominator == 0:
        return _undefined(SAME_CATEGORY, units, pairs)
    alpha = ((n - 1) * observed_same - chance_same) / denominator
    return _defined(alpha, units, pairs)


# --- Fleiss' kappa ------------------------------------------------------------------------


def fleiss_kappa(table: Table) -> Figure:
    """Fleiss' kappa (1971) over the claims that every analyst (column) tagged.

    Claims missing any analyst's verdict are left out, since Fleiss' kappa assumes the same
    number of ratings per unit.  Needs two analysts and one complete claim; undefined when the
    chance agreement is 1 (every verdict in one category).  ``pairs`` counts unordered
    verdict pairs: complete claims times ``r (r - 1) / 2`` for ``r`` analysts.
    """
    return _fleiss_kappa(_prepare(table))


def _fleiss_kappa(prep: _Prepared) -> Figure:
    if prep.verdicts == 0:
        return _undefined(NO_VERDICTS)
    r = prep.width
    if prep.active_raters < 2:
        return _undefined(ONE_RATER)
    complete = [unit for unit in prep.counts if unit.total() == r]
    if not complete:
        return _undefined(NO_COMPLETE_UNIT)
    units = len(complete)
    pairs = units * _pairs(r)
    totals: Counter[str] = Counter()
    squares = 0
    for unit in complete:
        totals.update(unit)
        squares += sum(k * k for k in unit.values())
    ratings = units * r
    observed = Fraction(squares - ratings, ratings * (r - 1))  # mean of the per-claim P_i
    chance = Fraction(sum(t * t for t in totals.values()), ratings * ratings)  # sum_j p_j^2
    if chance == 1:
        return _undefined(SAME_CATEGORY, units, pairs)
    return _defined((observed - chance) / (1 - chance), units, pairs)


# --- Cohen's kappa ------------------------------------------------------------------------


def cohen_kappa(a: list[Label], b: list[Label]) -> Figure:
    """Cohen's kappa for two analysts over the claims both tagged.

    ``a[i]`` and ``b[i]`` are the two verdicts on claim ``i``; a shorter list is read as padded
    with ``None``.  Undefined when the chance agreement is 1 (both analysts used one and the
    same category throughout).  Each shared claim is one pair, so ``pairs == units``.
    """
    length = max(len(a), len(b))
    a = list(a) + [None] * (length - len(a))
    b = list(b) + [None] * (length - len(b))
    return _cohen_kappa(a, b)


def _cohen_kappa(a: list[Label], b: list[Label]) -> Figure:
    a_any = any(x is not None for x in a)
    b_any = any(y is not None for y in b)
    if not a_any and not b_any:
        return _undefined(NO_VERDICTS)
    if not (a_any and b_any):
        return _undefined(ONE_RATER)
    joint = Counter((x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None)
    n = joint.total()
    if n == 0:
        return _undefined(NO_SHARED_UNIT)
    agree = 0
    a_marg: Counter[str] = Counter()
    b_marg: Counter[str] = Counter()
    for (x, y), k in joint.items():
        a_marg[x] += k
        b_marg[y] += k
        if x == y:
            agree += k
    chance = sum(k * b_marg[c] for c, k in a_marg.items())  # n^2 times p_e
    if chance == n * n:
        return _undefined(SAME_CATEGORY, n, n)
    return _defined(Fraction(n * agree - chance, n * n - chance), n, n)


def _columns(table: Table, width: int) -> list[list[Label]]:
    columns: list[list[Label]] = [[] for _ in range(width)]
    for row in table:
        padded = row if len(row) >= width else list(row) + [None] * (width - len(row))
        for j in range(width):
            columns[j].append(padded[j])
    return columns


def pairwise_cohen(table: Table, raters: list[str]) -> dict[tuple[str, str], Figure]:
    """Cohen's kappa for every unordered pair of analysts.

    ``raters[j]`` names column ``j``; keys are ``(raters[i], raters[j])`` with ``i < j`` in the
    given order.  Columns beyond ``len(raters)`` are ignored.
    """
    columns = _columns(table, len(raters))
    return {
        (raters[i], raters[j]): _cohen_kappa(columns[i], columns[j])
        for i in range(len(raters))
        for j in range(i + 1, len(raters))
    }


# --- agreement with consensus -------------------------------------------------------------


def agreement_with_consensus(
    table: Table, consensus: list[Label], raters: list[str]
) -> dict[str, Figure]:
    """Per analyst: share of the claims they tagged where their verdict equals the consensus.

    Claims whose consensus is ``None`` are skipped.  ``units`` and ``pairs`` are both the number
    of claims compared.  The consensus usually includes the analyst's own verdict, so this
    figure leans towards agreement; it is a check on outliers, not a reliability coefficient.
    """
    columns = _columns(table, len(raters))
    consensus_list = list(consensus)[: len(table)]
    consensus_list += [None] * (len(table) - len(consensus_list))
    any_consensus = any(c is not None for c in consensus_list)
    result: dict[str, Figure] = {}
    for name, column in zip(raters, columns, strict=True):
        compared = agree = 0
        tagged = False
        for label, target in zip(column, consensus_list, strict=True):
            if label is None:
                continue
            tagged = True
            if target is None:
                continue
            compared += 1
            if label == target:
                agree += 1
        if not tagged:
            result[name] = _undefined(RATER_SILENT)
        elif not any_consensus:
            result[name] = _undefined(NO_CONSENSUS)
        elif compared == 0:
            result[name] = _undefined(NO_CONSENSUS_OVERLAP)
        else:
            result[name] = _defined(Fraction(agree, compared), compared, compared)
    return result


# --- everything at once -------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """All figures for one table.

    ``units`` is the number of claims with at least one verdict, ``raters`` the number of
    analysts with at least one verdict, ``verdicts`` the number of verdicts.
    """

    percent: Figure
    alpha: Figure
    fleiss: Figure
    pairwise: dict[tuple[str, str], Figure]
    with_consensus: dict[str, Figure]
    units: int
    raters: int
    verdicts: int


def summarise(table: Table, raters: list[str], consensus: list[Label]) -> Summary:
    """Every figure for the table, reading it once for the table-wide ones."""
    prep = _prepare(table)
    return Summary(
        percent=_percent_agreement(prep),
        alpha=_krippendorff_alpha_nominal(prep),
        fleiss=_fleiss_kappa(prep),
        pairwise=pairwise_cohen(table, raters),
        with_consensus=agreement_with_consensus(table, consensus, raters),
        units=len(prep.counts),
        raters=prep.active_raters,
        verdicts=prep.verdicts,
    )
