"""The agreement coefficients, against published worked examples and three libraries.

No database: the functions take plain data. ``krippendorff``, ``statsmodels`` and
``scikit-learn`` are test-only oracles (see agreement-notes for why they are not used at run
time). Published values are reproduced to the four decimals their sources give.
"""

from __future__ import annotations

import itertools
import random

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from coding.agreement import metrics as agreement
from coding.agreement.metrics import (
    BP_NEEDS_TWO_CODES,
    COHEN_NEEDS_TWO_CODERS,
    COHEN_NO_COMMON_UNITS,
    FLEISS_NEEDS_COMPLETE_DATA,
    NO_PAIRABLE_VALUES,
    NO_SEGMENTS,
    NO_VARIATION,
    Measure,
    Span,
    bootstrap_alpha,
    brennan_prediger_kappa,
    character_units,
    cohen_kappa,
    encode,
    fleiss_kappa,
    interpret_alpha,
    krippendorff_alpha,
    percent_agreement,
    presence_matrix,
    segment_matches,
    token_units,
)
from tests.coding.agreement import agreement_examples as ex

PUBLISHED = 5e-5  # the published figures have four decimals


def _value(measure: Measure) -> float:
    assert measure.value is not None, measure.reason
    return measure.value


# --- Published worked examples ----------------------------------------------------------------


def test_alpha_reproduces_krippendorffs_nominal_example_with_missing_values() -> None:
    alpha = _value(krippendorff_alpha(ex.KRIPPENDORFF_2011_NOMINAL))

    assert alpha == pytest.approx(ex.KRIPPENDORFF_2011_NOMINAL_ALPHA, abs=PUBLISHED)
    assert round(alpha, 3) == 0.743


def test_percent_agreement_is_krippendorffs_observed_agreement_on_the_same_example() -> None:
    agreement = _value(percent_agreement(ex.KRIPPENDORFF_2011_NOMINAL))

    assert round(agreement, 3) == ex.KRIPPENDORFF_2011_NOMINAL_AGREEMENT
    assert round(agreement, 3) != ex.KRIPPENDORFF_2011_NOMINAL_MEAN_PER_UNIT
    assert round(agreement, 3) != ex.KRIPPENDORFF_2011_NOMINAL_UNWEIGHTED_PAIRS


def test_alpha_and_agreement_reproduce_krippendorffs_binary_two_coder_example() -> None:
    data = ex.KRIPPENDORFF_2011_BINARY

    assert _value(krippendorff_alpha(data)) == pytest.approx(
        ex.KRIPPENDORFF_2011_BINARY_ALPHA, abs=PUBLISHED
    )
    assert _value(percent_agreement(data)) == pytest.approx(ex.KRIPPENDORFF_2011_BINARY_AGREEMENT)


def test_cohen_kappa_reproduces_the_fifty_unit_yes_no_table() -> None:
    data = ex.matrix_from_cross_table(ex.COHEN_YES_NO_TABLE)

    assert _value(cohen_kappa(data)) == pytest.approx(ex.COHEN_YES_NO_KAPPA, abs=PUBLISHED)
    assert _value(percent_agreement(data)) == pytest.approx(ex.COHEN_YES_NO_AGREEMENT)


def test_cohen_kappa_reproduces_cohens_1960_example_of_200_units() -> None:
    data = ex.matrix_from_cross_table(ex.COHEN_1960_TABLE)

    assert _value(cohen_kappa(data)) == pytest.approx(ex.COHEN_1960_KAPPA, abs=PUBLISHED)


def test_fleiss_kappa_reproduces_fleiss_1971_diagnoses_of_30_patients_by_6_raters() -> None:
    data = ex.matrix_from_rows(ex.FLEISS_1971_DIAGNOSES)

    kappa = _value(fleiss_kappa(data))

    assert kappa == pytest.approx(ex.FLEISS_1971_DIAGNOSES_KAPPA, abs=PUBLISHED)
    assert round(kappa, 3) == 0.430


def test_fleiss_kappa_reproduces_the_10_subject_14_rater_example() -> None:
    data = ex.matrix_from_counts(ex.FLEISS_14_RATERS_COUNTS)

    kappa = _value(fleiss_kappa(data))

    assert kappa == pytest.approx(ex.FLEISS_14_RATERS_KAPPA, abs=PUBLISHED)
    assert round(kappa, 3) == 0.210


def test_systematic_disagreement_of_two_coders_gives_kappa_minus_one() -> None:
    data = [[0, 1] * 5, [1, 0] * 5]

    assert cohen_kappa(data) == Measure(-1.0)
    assert fleiss_kappa(data) == Measure(-1.0)
    assert percent_agreement(data) == Measure(0.0)
    assert _value(krippendorff_alpha(data)) < 0


def test_perfect_agreement_gives_one_on_every_coefficient() -> None:
    two = [["a", "b", "c", "a"], ["a", "b", "c", "a"]]
    three = [*two, ["a", "b", "c", "a"]]

    assert cohen_kappa(two) == Measure(1.0)
    for data in (two, three):
        assert krippendorff_alpha(data) == Measure(1.0)
        assert fleiss_kappa(data) == Measure(1.0)
        assert percent_agreement(data) == Measure(1.0)


def test_no_variation_is_undefined_with_the_reason_and_never_zero_or_one() -> None:
    data = [["ja"] * 6, ["ja"] * 6, ["ja"] * 6]

    assert krippendorff_alpha(data) == Measure(None, NO_VARIATION)
    assert fleiss_kappa(data) == Measure(None, NO_VARIATION)
    assert cohen_kappa(data[:2]) == Measure(None, NO_VARIATION)
    assert bootstrap_alpha(data, seed=1).ci95 is None
    assert bootstrap_alpha(data, seed=1).reason == NO_VARIATION
    # Raw agreement is defined: the coders did agree on every unit.
    assert percent_agreement(data) == Measure(1.0)


def test_a_unit_coded_by_one_coder_is_unpairable_and_ignored() -> None:
    with_single: list[list[int | None]] = [[1, 2, 2, 1, 3], [1, 2, 1, 1, None], [1, 2, 2, 2, None]]
    without = [row[:4] for row in with_single]

    assert krippendorff_alpha(with_single) == krippendorff_alpha(without)
    assert percent_agreement(with_single) == percent_agreement(without)
    assert cohen_kappa(with_single[:2]) == cohen_kappa([row[:4] for row in with_single[:2]])
    assert fleiss_kappa(with_single) == Measure(None, FLEISS_NEEDS_COMPLETE_DATA)


def test_krippendorffs_unpairable_twelfth_unit_changes_nothing() -> None:
    without_unit_12 = [row[:11] for row in ex.KRIPPENDORFF_2011_NOMINAL]

    assert krippendorff_alpha(without_unit_12) == krippendorff_alpha(ex.KRIPPENDORFF_2011_NOMINAL)


def test_data_without_any_unit_coded_twice_is_undefined() -> None:
    data = [[1, None, 2], [None, 2, None]]

    assert krippendorff_alpha(data) == Measure(None, NO_PAIRABLE_VALUES)
    assert percent_agreement(data) == Measure(None, NO_PAIRABLE_VALUES)
    assert cohen_kappa(data) == Measure(None, COHEN_NO_COMMON_UNITS)
    assert bootstrap_alpha(data).reason == NO_PAIRABLE_VALUES


def test_cohen_kappa_is_not_applicable_to_three_coders() -> None:
    assert cohen_kappa([[1, 2], [1, 2], [1, 2]]) == Measure(None, COHEN_NEEDS_TWO_CODERS)


def test_a_code_named_nan_is_a_label_and_not_a_missing_value() -> None:
    labels: list[list[str | None]] = [["nan", "x", "nan", None], ["nan", "x", "x", "nan"]]
    numbers: list[list[int | None]] = [[0, 1, 0, None], [0, 1, 1, 0]]

    assert krippendorff_alpha(labels) == krippendorff_alpha(numbers)
    assert cohen_kappa(labels) == cohen_kappa(numbers)


def test_a_float_nan_is_refused_rather_than_guessed_at() -> None:
    with pytest.raises(ValueError, match="None"):
        krippendorff_alpha([[1.0, float("nan")], [1.0, 2.0]])


def test_an_integer_array_with_minus_one_reads_as_the_matrix_with_none() -> None:
    listed = ex.KRIPPENDORFF_2011_NOMINAL
    array = np.array([[-1 if v is None else v for v in row] for row in listed], dtype=np.int16)

    assert krippendorff_alpha(array) == krippendorff_alpha(listed)
    codes, labels = encode(array)
    assert codes.shape == (4, 12)
    assert labels == (0, 1, 2, 3, 4, 5)


def test_rows_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one cell per unit"):
        krippendorff_alpha([[1, 2, 3], [1, 2]])


def test_brennan_prediger_takes_chance_from_the_number_of_codes_available() -> None:
    # 70% agreement with four codes available: chance is 1/4 however many were used.
    assert _value(brennan_prediger_kappa(0.7, 4)) == pytest.approx(0.6)
    assert _value(brennan_prediger_kappa(0.5, 2)) == pytest.approx(0.0)
    assert brennan_prediger_kappa(1.0, 1) == Measure(None, BP_NEEDS_TWO_CODES)
    with pytest.raises(ValueError, match="share"):
        brennan_prediger_kappa(1.2, 4)


@pytest.mark.parametrize(
    ("value", "reading"),
    [
        (0.95, "reliable"),
        (0.800, "reliable"),
        (0.7999, "tentative conclusions only"),
        (0.667, "tentative conclusions only"),
        (0.6669, "not acceptable"),
        (-0.2, "not acceptable"),
        (None, "not computable"),
    ],
)
def test_interpret_alpha_follows_krippendorffs_levels(value: float | None, reading: str) -> None:
    assert interpret_alpha(value) == reading


# --- The libraries as oracles on random data --------------------------------------------------


def _random_matrix(
    seed: int, coders: int, categories: int, units: int = 60, missing: float = 0.0
) -> list[list[str | None]]:
    """Coders who copy a unit's true category 60% of the time and guess otherwise."""
    rng = random.Random(seed)
    truth = [rng.randrange(categories) for _ in range(units)]
    rows: list[list[str | None]] = []
    for _ in range(coders):
        row: list[str | None] = []
        for value in truth:
            if rng.random() < missing:
                row.append(None)
            elif rng.random() < 0.6:
                row.append(f"code {value}")
            else:
                row.append(f"code {rng.randrange(categories)}")
        rows.append(row)
    return rows


def _as_floats(rows: list[list[str | None]]) -> np.ndarray:
    """The labels mapped to integers, NaN for missing, as the krippendorff library wants."""
    return np.array(
        [[np.nan if v is None else float(v.split()[1]) for v in row] for row in rows], dtype=float
    )


ORACLE_CASES = [
    pytest.param(seed, coders, categories, id=f"seed{seed}-{coders}coders-{categories}codes")
    for seed, coders, categories in itertools.product((1, 2, 3), (2, 3, 5), (2, 4, 6))
]


@pytest.mark.parametrize(("seed", "coders", "categories"), ORACLE_CASES)
@pytest.mark.parametrize("missing", [0.0, 0.25, 0.6])
def test_alpha_matches_the_krippendorff_library(
    seed: int, coders: int, categories: int, missing: float
) -> None:
    rows = _random_matrix(seed, coders, categories, missing=missing)

    expected = krippendorff.alpha(reliability_data=_as_floats(rows), level_of_measurement="nominal")

    assert _value(krippendorff_alpha(rows)) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("seed", "categories"), list(itertools.product((1, 2, 3, 4, 5), (2, 3, 4, 6)))
)
@pytest.mark.parametrize("missing", [0.0, 0.25])
def test_cohen_kappa_matches_scikit_learn_on_units_coded_by_both(
    seed: int, categories: int, missing: float
) -> None:
    first, second = _random_matrix(seed, 2, categories, missing=missing)
    both = [(a, b) for a, b in zip(first, second, strict=True) if a is not None and b is not None]

    expected = cohen_kappa_score([a for a, _ in both], [b for _, b in both])

    assert _value(cohen_kappa([first, second])) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("seed", "coders", "categories"), ORACLE_CASES)
def test_fleiss_kappa_matches_statsmodels_on_complete_data(
    seed: int, coders: int, categories: int
) -> None:
    rows = _random_matrix(seed, coders, categories)
    # statsmodels counts NaN as a category of its own, so only complete data is compared.
    table, _ = aggregate_raters(_as_floats(rows).T.astype(int))

    expected = statsmodels_fleiss_kappa(table, method="fleiss")

    assert _value(fleiss_kappa(rows)) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percent_agreement_of_two_complete_coders_is_the_share_of_agreeing_units(
    seed: int,
) -> None:
    first, second = _random_matrix(seed, 2, 3)
    share = sum(a == b for a, b in zip(first, second, strict=True)) / len(first)

    assert _value(percent_agreement([first, second])) == pytest.approx(share)


# --- Bootstrap --------------------------------------------------------------------------------


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    data = ex.KRIPPENDORFF_2011_NOMINAL

    assert bootstrap_alpha(data, seed=7) == bootstrap_alpha(data, seed=7)
    assert bootstrap_alpha(data, seed=7) != bootstrap_alpha(data, seed=8)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ex.KRIPPENDORFF_2011_NOMINAL, id="krippendorff-2011"),
        pytest.param(ex.matrix_from_rows(ex.HAYES_KRIPPENDORFF_2007), id="hayes-krippendorff-2007"),
        pytest.param(ex.matrix_from_rows(ex.FLEISS_1971_DIAGNOSES), id="fleiss-1971"),
    ],
)
def test_bootstrap_interval_contains_the_estimate_and_probabilities_are_ordered(
    data: list[list[int | None]],
) -> None:
    alpha = _value(krippendorff_alpha(data))

    result = bootstrap_alpha(data, samples=2000, seed=2007)

    assert result.ci95 is not None
    low, high = result.ci95
    assert -1.0 <= low < alpha < high <= 1.0
    assert result.p_below_0667 is not None
    assert result.p_below_0800 is not None
    assert 0.0 <= result.p_below_0667 <= result.p_below_0800 <= 1.0
    assert result.samples == 2000
    assert result.reason == ""


def test_bootstrap_on_hayes_and_krippendorffs_data_is_plausible() -> None:
    # Their 0.7598 is ordinal; nominally the same data give about 0.48, far below 0.667.
    data = ex.matrix_from_rows(ex.HAYES_KRIPPENDORFF_2007)

    result = bootstrap_alpha(data, samples=1000, seed=1)

    assert _value(krippendorff_alpha(data)) == pytest.approx(0.4765, abs=PUBLISHED)
    assert result.ci95 is not None
    assert 0.05 < result.ci95[1] - result.ci95[0] < 0.3
    assert result.p_below_0667 == pytest.approx(1.0, abs=0.01)


def test_bootstrap_interval_narrows_as_the_data_grow() -> None:
    small = _random_matrix(4, 3, 3, units=50)
    large = _random_matrix(4, 3, 3, units=5000)

    small_ci = bootstrap_alpha(small, seed=3).ci95
    large_ci = bootstrap_alpha(large, seed=3).ci95

    assert small_ci is not None
    assert large_ci is not None
    assert large_ci[1] - large_ci[0] < (small_ci[1] - small_ci[0]) / 4


# --- Segment matching -------------------------------------------------------------------------


def _a(code: str, start: int, end: int) -> Span:
    return Span(code=code, start=start, end=end, coder="carol")


def _b(code: str, start: int, end: int) -> Span:
    return Span(code=code, start=start, end=end, coder="bob")


def test_identical_segments_match() -> None:
    result = segment_matches([_a("steun", 10, 50)], [_b("steun", 10, 50)])

    assert result.pairs == ((_a("steun", 10, 50), _b("steun", 10, 50)),)
    assert result.percent_agreement == Measure(1.0)


def test_an_overlap_of_89_percent_of_the_longer_segment_does_not_match_and_91_does() -> None:
    long = _a("steun", 0, 100)

    assert segment_matches([long], [_b("steun", 0, 89)]).pairs == ()
    assert len(segment_matches([long], [_b("steun", 0, 91)]).pairs) == 1
    assert len(segment_matches([long], [_b("steun", 10, 100)]).pairs) == 1  # exactly 90%


def test_exactly_90_percent_matches_despite_floating_point() -> None:
    # 0.9 * 70 is 63.00000000000001 in floating point.
    assert len(segment_matches([_a("steun", 0, 70)], [_b("steun", 7, 70)]).pairs) == 1


def test_a_match_exactly_at_the_threshold_is_found_for_other_thresholds_too() -> None:
    # 4 of 5 code points is exactly 80%; the candidate starts just at the edge of the search.
    assert len(segment_matches([_a("steun", 10, 14)], [_b("steun", 9, 14)], 0.8).pairs) == 1
    assert segment_matches([_a("steun", 10, 14)], [_b("steun", 9, 14)], 0.81).pairs == ()


def test_overlap_is_measured_against_the_longer_segment_so_a_sentence_misses_its_paragraph() -> (
    None
):
    result = segment_matches([_a("steun", 0, 1000)], [_b("steun", 100, 200)])

    assert result.pairs == ()
    assert result.percent_agreement == Measure(0.0)


def test_segments_with_different_codes_do_not_match() -> None:
    result = segment_matches([_a("steun", 0, 100)], [_b("netwerk", 0, 100)])

    assert result.pairs == ()
    assert result.unmatched_a == (_a("steun", 0, 100),)
    assert result.unmatched_b == (_b("netwerk", 0, 100),)


def test_matching_is_one_to_one_and_prefers_the_largest_overlap() -> None:
    a = [_a("steun", 0, 100)]
    b = [_b("steun", 5, 100), _b("steun", 0, 99)]

    result = segment_matches(a, b)

    assert result.pairs == ((a[0], b[1]),)
    assert result.unmatched_b == (b[0],)
    assert result.percent_agreement == Measure(2 / 3)


def test_greedy_matching_pairs_each_segment_with_its_best_free_partner() -> None:
    a = [_a("steun", 0, 100), _a("steun", 3, 103)]
    b = [_b("steun", 2, 102), _b("steun", 1, 101)]

    result = segment_matches(a, b)

    assert len(result.pairs) == 2
    assert result.percent_agreement == Measure(1.0)


def test_segment_matching_is_symmetric() -> None:
    rng = random.Random(5)
    a = [_a(rng.choice("xyz"), s, s + rng.randint(5, 60)) for s in rng.sample(range(500), 40)]
    b = [_b(s.code, s.start + rng.randint(-3, 3) + 3, s.end + 3) for s in a[:30]]

    forward = segment_matches(a, b)
    backward = segment_matches(b, a)

    assert len(forward.pairs) == len(backward.pairs)
    assert forward.percent_agreement == backward.percent_agreement


def test_no_segments_on_either_side_is_undefined() -> None:
    assert segment_matches([], []).percent_agreement == Measure(None, NO_SEGMENTS)


def test_segment_agreement_feeds_brennan_and_prediger() -> None:
    result = segment_matches([_a("steun", 0, 10), _a("netwerk", 20, 30)], [_b("steun", 0, 10)])
    agreement = _value(result.percent_agreement)

    assert agreement == pytest.approx(2 / 3)
    assert _value(brennan_prediger_kappa(agreement, 20)) == pytest.approx((2 / 3 - 0.05) / 0.95)


def test_a_span_must_have_positive_length() -> None:
    with pytest.raises(ValueError, match="start < end"):
        Span(code="steun", start=5, end=5, coder="carol")


# --- Text-level units -------------------------------------------------------------------------


def test_token_units_are_words_of_the_coded_ranges_with_dutch_diacritics_and_emoji() -> None:
    text = "Één gezin 👨‍👩‍👧 oefent naïef. Uitgesloten tekst hier."
    coded = [(0, text.index("Uitgesloten"))]

    tokens = [text[s:e] for s, e in token_units(text, coded)]

    assert tokens == ["Één", "gezin", "oefent", "naïef"]


def test_a_combining_mark_stays_inside_its_word() -> None:
    text = "cafe\u0301 open"  # "café" written with a separate accent

    assert [text[s:e] for s, e in token_units(text, [(0, len(text))])] == ["cafe\u0301", "open"]


def test_token_units_cut_words_at_the_edge_of_a_coded_range_and_merge_ranges() -> None:
    text = "ouders en kinderen samen"

    assert token_units(text, [(0, 4), (2, 9)]) == [(0, 6), (7, 9)]
    assert token_units(text, []) == []
    with pytest.raises(ValueError, match="coded range"):
        token_units(text, [(0, 99)])


def test_character_units_are_every_character_of_the_merged_ranges() -> None:
    units = character_units([(10, 13), (0, 2), (12, 15)])

    assert units.tolist() == [[0, 1], [1, 2], [10, 11], [11, 12], [12, 13], [13, 14], [14, 15]]


def test_presence_matrix_marks_overlap_absence_and_coders_not_assigned() -> None:
    units = [(0, 6), (7, 9), (10, 18)]
    spans = {"carol": [(3, 8)], "bob": [], "sam": [(0, 20)]}
    assigned = {"carol": True, "bob": True, "sam": False}

    matrix = presence_matrix(units, spans, assigned)

    assert matrix.tolist() == [[1, 1, 0], [0, 0, 0], [-1, -1, -1]]


def test_presence_matrix_agrees_with_a_plain_loop_on_random_spans() -> None:
    rng = random.Random(11)
    units = character_units([(0, 400), (450, 900)])
    spans = {
        coder: [(s, s + rng.randint(1, 40)) for s in (rng.randrange(900) for _ in range(25))]
        for coder in ("carol", "bob")
    }

    matrix = presence_matrix(units, spans, {"carol": True, "bob": True})

    for row, coder in enumerate(("carol", "bob")):
        expected = [
            int(any(s < end and start < e for s, e in spans[coder])) for start, end in units
        ]
        assert matrix[row].tolist() == expected


def test_text_level_alpha_runs_on_the_presence_matrix() -> None:
    text = "De interventie versterkt de hulpbronnen van het gezin en het netwerk."
    units = token_units(text, [(0, len(text))])
    spans = {"carol": [(0, 24)], "bob": [(3, 24)]}

    matrix = presence_matrix(units, spans, {"carol": True, "bob": True})

    assert matrix.tolist()[0][:4] == [1, 1, 1, 0]
    assert matrix.tolist()[1][:4] == [0, 1, 1, 0]
    assert _value(percent_agreement(matrix)) == pytest.approx(10 / 11)
    assert krippendorff_alpha(matrix).defined


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("coders", [2, 3])
def test_pooled_measures_equal_those_of_the_concatenated_matrix(seed: int, coders: int) -> None:
    rng = np.random.default_rng(seed)
    parts = []
    for width in (5, 40, 17):
        part = rng.integers(0, 2, size=(coders, width)).astype(np.int8)
        if seed != 1:  # with missing values, except once, so Fleiss is computable too
            part[rng.random(part.shape) < 0.2] = -1
        parts.append(part)
    whole = np.concatenate(parts, axis=1)
    pooled = agreement.pooled_measures(parts, bootstrap=300, seed=5)
    for name, function in (
        ("percent_agreement", agreement.percent_agreement),
        ("krippendorff_alpha", agreement.krippendorff_alpha),
        ("cohen_kappa", agreement.cohen_kappa),
        ("fleiss_kappa", agreement.fleiss_kappa),
    ):
        expected = function(whole)
        got = getattr(pooled, name)
        if expected.value is None:
            assert got.value is None
        else:
            assert got.value == pytest.approx(expected.value)
    assert pooled.bootstrap == agreement.bootstrap_alpha(whole, samples=300, seed=5)
