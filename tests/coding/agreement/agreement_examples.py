"""Published reliability data sets, typed out for the agreement tests.

Each data set names its source and the value the source reports. Reliability matrices are
coders x units with ``None`` for a missing value; tables are laid out as in their source and
turned into matrices by the two helpers at the bottom (kappa and alpha depend only on which
values meet in a unit, so the order of coders within a unit does not matter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
# Communication, University of Pennsylvania, section C: nominal data, any number of observers,
# missing values. Four observers, twelve units; unit 12 has one value and is unpairable.
# Nominal alpha = 0.743 (0.7434).
KRIPPENDORFF_2011_NOMINAL: list[list[int | None]] = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],  # observer A
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],  # observer B
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],  # observer C
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],  # observer D
]
KRIPPENDORFF_2011_NOMINAL_ALPHA = 0.7434
# Its coincidence matrix holds n.. = 40 pairable values, 32 of them on the diagonal, so
# Krippendorff's observed agreement 1 - D_o = 32 / 40 = 0.800. (The mean of each unit's share
# of agreeing pairs is 9 / 11 = 0.818; unweighted pairs give 43 / 55 = 0.782.)
KRIPPENDORFF_2011_NOMINAL_AGREEMENT = 0.800
KRIPPENDORFF_2011_NOMINAL_MEAN_PER_UNIT = 0.818
KRIPPENDORFF_2011_NOMINAL_UNWEIGHTED_PAIRS = 0.782

# Krippendorff (2011), section A: binary data, two observers, no missing values (ten units).
# Alpha = 0.095 (0.0952); the observers agree on 6 of 10 units.
KRIPPENDORFF_2011_BINARY: list[list[int | None]] = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],  # observer A
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],  # observer B
]
KRIPPENDORFF_2011_BINARY_ALPHA = 0.0952
KRIPPENDORFF_2011_BINARY_AGREEMENT = 0.6

# The 50-unit yes/no table used to introduce Cohen's kappa (Wikipedia, "Cohen's kappa",
# worked example): both yes 20, A yes and B no 5, A no and B yes 10, both no 15.
# p_o = 0.70, p_e = 0.50, kappa = 0.40. Rows are coder A's category, columns coder B's.
COHEN_YES_NO_TABLE: list[list[int]] = [
    [20, 5],  # A yes: B yes, B no
    [10, 15],  # A no: B yes, B no
]
COHEN_YES_NO_KAPPA = 0.400
COHEN_YES_NO_AGREEMENT = 0.70

# Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
# Psychological Measurement, 20(1), 37-46: the 200-unit, three-category example
# (p_o = .70, p_c = .41, kappa = .29 / .59 = 0.4915). Rows judge A, columns judge B.
COHEN_1960_TABLE: list[list[int]] = [
    [88, 14, 18],
    [10, 40, 10],
    [2, 6, 12],
]
COHEN_1960_KAPPA = 0.4915

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin, 76(5), 378-382: psychiatric diagnoses of 30 patients by 6 raters each
# (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other); as distributed
# with R's irr package ("diagnoses"). Kappa = 0.430 (0.4302). One row per patient.
FLEISS_1971_DIAGNOSES: list[list[int]] = [
    [4, 4, 4, 4, 4, 4],
    [2, 2, 2, 5, 5, 5],
    [2, 3, 3, 3, 3, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3],
    [3, 3, 3, 3, 5, 5],
    [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4],
    [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4],
    [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3],
    [1, 4, 4, 4, 4, 4],
    [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5],
    [1, 1, 1, 1, 1, 2],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 4, 4, 4, 4, 4],
    [2, 2, 4, 5, 5, 5],
    [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4],
    [1, 1, 1, 1, 5, 5],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3],
    [5, 5, 5, 5, 5, 5],
]
FLEISS_1971_DIAGNOSES_KAPPA = 0.4302

# The 10-subject, 14-rater worked example of Fleiss' kappa (Wikipedia, "Fleiss' kappa"; also
# in statsmodels' tests): how many of the 14 raters put each subject in each of 5 categories.
# Kappa = 0.210 (0.2099).
FLEISS_14_RATERS_COUNTS: list[list[int]] = [
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
FLEISS_14_RATERS_KAPPA = 0.2099

# Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability
# measure for coding data. Communication Methods and Measures, 1(1), 77-89, table 1: five
# observers rate the tone of 40 news articles from 0 (sure loser) to 3 (likely winner).
# Ordinal alpha = 0.7598; used here only as a sanity check for the (nominal) bootstrap.
# One row per article, observers 1-5.
HAYES_KRIPPENDORFF_2007: list[list[int | None]] = [
    [1, 1, 2, None, 2],
    [1, 1, 0, 1, None],
    [2, 3, 3, 3, None],
    [None, 0, 0, None, 0],
    [0, 0, 0, None, 0],
    [0, 0, 0, None, 0],
    [1, 0, 2, None, 1],
    [1, None, 2, 0, None],
    [2, 2, 2, None, 2],
    [2, 1, 1, 1, None],
    [None, 1, 0, 0, None],
    [0, 0, 0, 0, None],
    [1, 2, 2, 2, None],
    [3, 3, 2, 2, 3],
    [1, 1, 1, None, 1],
    [1, 1, 1, None, 1],
    [2, 1, 2, None, 2],
    [1, 2, 3, 3, None],
    [1, 1, 0, 1, None],
    [0, 0, 0, None, 0],
    [0, 0, 1, 1, None],
    [0, 0, None, 0, 0],
    [2, 3, 3, 3, None],
    [0, 0, 0, 0, None],
    [1, 2, None, 2, 2],
    [0, 1, 1, 1, None],
    [0, 0, 0, 1, 0],
    [1, 2, 1, 2, None],
    [1, 1, 2, 2, None],
    [1, 1, 2, None, 2],
    [1, 1, 0, None, 0],
    [2, 1, 2, 1, None],
    [2, 2, None, 2, 2],
    [3, 2, 2, 2, None],
    [2, 2, 2, None, 2],
    [2, 2, 3, None, 2],
    [2, 2, 2, None, 2],
    [2, 2, None, 1, 2],
    [2, 2, 2, 2, None],
    [1, 1, 1, None, 1],
]


def matrix_from_rows(rows: Sequence[Sequence[T]]) -> list[list[T]]:
    """A units x coders table turned into a coders x units reliability matrix."""
    return [list(column) for column in zip(*rows, strict=True)]


def matrix_from_cross_table(table: Sequence[Sequence[int]]) -> list[list[int]]:
    """Two coders' cross table (rows: coder A's category, columns: B's) as a 2 x n matrix."""
    first: list[int] = []
    second: list[int] = []
    for a, row in enumerate(table):
        for b, count in enumerate(row):
            first.extend([a] * count)
            second.extend([b] * count)
    return [first, second]


def matrix_from_counts(counts: Sequence[Sequence[int]]) -> list[list[int]]:
    """Per-unit category counts (all units rated by the same number of raters) as a matrix.

    Raters are anonymous in such a table, so rater k of a unit is simply its k-th rating.
    """
    columns = [[c for c, count in enumerate(row) for _ in range(count)] for row in counts]
    return matrix_from_rows(columns)
