"""From segments to agreement figures: units, missing data, parents, families, segments."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from coding.agreement import metrics as agreement
from coding.agreement.reliability import (
    CodeInfo,
    DocInfo,
    ReliabilityInput,
    RunSums,
    SegInfo,
    command_view,
    compute,
    compute_sums,
    disagreements,
    report_from_sums,
)

TEXT = "Ouders leren hun kind beter begrijpen. Het netwerk helpt mee."
CODES = [
    CodeInfo(1, ("Sociaal",), None),
    CodeInfo(2, ("Sociaal", "Doelen"), 1),
    CodeInfo(3, ("Sociaal", "Inhoud"), 1),
    CodeInfo(4, ("Materieel",), None),
]


def doc(doc_id: int, excluded: tuple[int, int] | None = None) -> DocInfo:
    ranges = ((0, len(TEXT)),) if excluded is None else ((0, excluded[0]), (excluded[1], len(TEXT)))
    return DocInfo(doc_id, f"Tekst {doc_id}", TEXT, ranges)


def seg(n: int, doc_id: int, coder: str, code: int, start: int, end: int) -> SegInfo:
    return SegInfo(n, doc_id, coder, code, start, end)


def data(segments: list[SegInfo], assigned: dict[str, set[int]] | None = None) -> ReliabilityInput:
    return ReliabilityInput(
        coders=["ann", "bas"],
        docs=[doc(1), doc(2), doc(3)],
        codes=CODES,
        segments=segments,
        assigned=assigned or {"ann": {1, 2, 3}, "bas": {1, 2, 3}},
    )


def test_intervention_level_alpha_matches_the_hand_built_matrix() -> None:
    segments = [
        seg(1, 1, "ann", 2, 0, 6),
        seg(2, 1, "bas", 2, 0, 6),
        seg(3, 2, "ann", 3, 7, 12),
        seg(4, 3, "bas", 4, 0, 6),
    ]
    report = compute(data(segments), unit="intervention")
    # Leaf codes Doelen, Inhoud, Materieel over three texts: ann and bas per (text, code).
    ann = [1, 0, 0, 0, 1, 0, 0, 0, 0]
    bas = [1, 0, 0, 0, 0, 0, 0, 0, 1]
    expected = agreement.krippendorff_alpha([ann, bas]).value
    assert report["overall"]["krippendorff_alpha"] == pytest.approx(expected)
    assert report["overall"]["n_units"] == 9
    # The parent counts its subcodes: both coded Sociaal in text 1, only ann in text 2.
    parent = report["codes"]["Sociaal"]
    assert parent["percent_agreement"] == pytest.approx(2 / 3)
    assert report["codes"]["Sociaal > Doelen"]["cohen_kappa"] == pytest.approx(1.0)


def test_an_unassigned_text_is_missing_not_no_code() -> None:
    segments = [seg(1, 1, "ann", 2, 0, 6), seg(2, 1, "bas", 2, 0, 6), seg(3, 2, "ann", 2, 0, 6)]
    only_one = {"ann": {1, 2, 3}, "bas": {1, 3}}
    report = compute(data(segments, only_one), unit="intervention")
    # Text 2 is assigned to ann only: no unit of comparison, so no disagreement either.
    assert report["n_interventions"] == 2
    assert report["codes"]["Sociaal > Doelen"]["percent_agreement"] == pytest.approx(1.0)


def test_no_variation_is_reported_undefined_with_its_reason() -> None:
    segments = [seg(1, n, c, 2, 0, 6) for n in (1, 2, 3) for c in ("ann", "bas")]
    report = compute(data(segments), unit="intervention")
    doelen = report["codes"]["Sociaal > Doelen"]
    assert doelen["krippendorff_alpha"] is None
    assert "no variation" in doelen["reasons"]["krippendorff_alpha"]
    assert doelen["percent_agreement"] == pytest.approx(1.0)


def test_word_units_leave_out_sections_that_are_not_coded() -> None:
    segments = [seg(1, 1, "ann", 2, 0, 12), seg(2, 1, "bas", 2, 0, 6)]
    whole = compute(data(segments), unit="word")
    cut = ReliabilityInput(
        coders=["ann", "bas"],
        docs=[doc(1, excluded=(39, len(TEXT)))],
        codes=CODES,
        segments=segments,
        assigned={"ann": {1}, "bas": {1}},
    )
    partial = compute(cut, unit="word")
    # Ten words in the text, six in the coded part; "leren" is the one disagreement.
    assert whole["codes"]["Sociaal > Doelen"]["n_units"] == 30
    assert partial["codes"]["Sociaal > Doelen"]["n_units"] == 6
    assert partial["codes"]["Sociaal > Doelen"]["percent_agreement"] == pytest.approx(5 / 6)


def test_character_units_count_every_coded_character() -> None:
    segments = [seg(1, 1, "ann", 2, 0, 10), seg(2, 1, "bas", 2, 0, 6)]
    report = compute(data(segments, {"ann": {1}, "bas": {1}}), unit="character")
    doelen = report["codes"]["Sociaal > Doelen"]
    assert doelen["n_units"] == len(TEXT)
    assert doelen["percent_agreement"] == pytest.approx(1 - 4 / len(TEXT))


def test_segment_matching_needs_the_overlap_asked_for() -> None:
    segments = [seg(1, 1, "ann", 2, 0, 20), seg(2, 1, "bas", 2, 0, 19), seg(3, 1, "bas", 3, 21, 30)]
    strict = compute(data(segments, {"ann": {1}, "bas": {1}}), unit="segment", min_overlap=0.99)
    loose = compute(data(segments, {"ann": {1}, "bas": {1}}), unit="segment", min_overlap=0.9)
    assert strict["overall"]["percent_agreement"] == pytest.approx(0.0)
    assert loose["overall"]["percent_agreement"] == pytest.approx(2 / 3)
    expected = agreement.brennan_prediger_kappa(2 / 3, 4).value
    assert loose["overall"]["brennan_prediger_kappa"] == pytest.approx(expected)


def test_a_family_compares_the_subcode_chosen_and_gives_a_confusion_matrix() -> None:
    segments = [
        seg(1, 1, "ann", 2, 0, 6),
        seg(2, 1, "bas", 2, 0, 6),
        seg(3, 2, "ann", 2, 0, 6),
        seg(4, 2, "bas", 3, 0, 6),
    ]
    report = compute(data(segments), unit="intervention")
    family = report["families"]["Sociaal"]
    assert family["percent_agreement"] == pytest.approx(2 / 3)
    confusion = report["confusion"]["Sociaal"]
    assert confusion["labels"] == ["—", "Doelen", "Inhoud"]
    assert confusion["counts"] == [[1, 0, 0], [0, 1, 1], [0, 0, 0]]


def test_bootstrap_gives_an_interval_around_alpha() -> None:
    segments = [seg(n, (n % 3) + 1, "ann" if n % 2 else "bas", 2 + n % 3, 0, 6) for n in range(9)]
    report = compute(data(segments), unit="word", bootstrap=200, seed=3)
    overall = report["overall"]
    low, high = overall["alpha_ci95"]
    assert low <= overall["krippendorff_alpha"] <= high
    again = compute(data(segments), unit="word", bootstrap=200, seed=3)
    assert again["overall"]["alpha_ci95"] == overall["alpha_ci95"]


def test_the_command_view_has_exactly_the_documented_keys() -> None:
    report = compute(data([seg(1, 1, "ann", 2, 0, 6)]), unit="intervention")
    shaped = command_view(report)
    assert set(shaped) == {"unit", "coders", "left_out", "overall", "codes", "families"}
    assert set(shaped["overall"]) == {
        "n_units",
        "percent_agreement",
        "cohen_kappa",
        "fleiss_kappa",
        "krippendorff_alpha",
        "alpha_ci95",
    }


def test_disagreements_pair_a_segment_with_the_other_coders_nearest() -> None:
    segments = [seg(1, 1, "ann", 2, 0, 12), seg(2, 1, "bas", 3, 0, 12), seg(3, 1, "ann", 4, 40, 50)]
    found = disagreements(data(segments, {"ann": {1}, "bas": {1}}))
    by_segment = {d["segment"]: d for d in found}
    assert by_segment[1]["other_segment"] == 2
    assert by_segment[2]["other_segment"] == 1
    assert by_segment[3]["other_segment"] is None


def random_study(seed: int, n_docs: int, coders: list[str]) -> ReliabilityInput:
    """Texts with segments scattered by coders who partly agree, some texts unassigned."""
    rng = random.Random(seed)
    text = " ".join(rng.choice(["gezin", "ouders", "kind", "netwerk", "steun"]) for _ in range(80))
    docs = [DocInfo(i, f"Tekst {i:02d}", text, ((0, 30), (60, len(text)))) for i in range(n_docs)]
    leaves = [2, 3, 4]
    segments, number = [], 1
    for _ in range(12 * n_docs):
        doc_id, code = rng.randrange(n_docs), rng.choice(leaves)
        start = rng.randrange(0, len(text) - 40)
        for coder in coders:
            if rng.random() < 0.75:
                jitter = rng.randrange(-3, 4) if rng.random() < 0.3 else 0
                s = max(0, start + jitter)
                other = code if rng.random() < 0.8 else rng.choice(leaves)
                segments.append(seg(number, doc_id, coder, other, s, s + rng.randrange(3, 30)))
                number += 1
    assigned = {c: {i for i in range(n_docs) if rng.random() < 0.9} for c in coders}
    return ReliabilityInput(coders, docs, CODES, segments, assigned)


@pytest.mark.parametrize("unit", ["intervention", "word", "character", "segment"])
@pytest.mark.parametrize("coders", [["ann", "bas"], ["ann", "bas", "cor"]])
def test_blocks_of_texts_add_up_to_exactly_the_single_run(unit: str, coders: list[str]) -> None:
    whole = random_study(7, 11, coders)
    expected = compute(whole, unit=unit, bootstrap=200, seed=9)
    total = RunSums(unit=unit)
    for block in ([0, 1, 2, 3], [4], [5, 6, 7, 8, 9, 10]):
        part = replace(
            whole,
            docs=[d for d in whole.docs if d.id in block],
            segments=[s for s in whole.segments if s.doc_id in block],
        )
        sums = compute_sums(part, unit=unit, bootstrap=200)
        # Through JSON, as a worker hands its block's sums on.
        total = total + RunSums.from_json(json.loads(json.dumps(sums.to_json())))
    assert report_from_sums(whole, total, bootstrap=200, seed=9) == expected
    assert expected["overall"]["n_units"] > 0


@pytest.mark.parametrize("coders", [["ann", "bas"], ["ann", "bas", "cor"]])
def test_character_runs_give_the_figures_of_the_characters_one_by_one(coders: list[str]) -> None:
    study = random_study(5, 6, coders)
    report = compute(study, unit="character", bootstrap=150, seed=2)
    for code in CODES:
        codes = {c.id for c in CODES if c.id == code.id or c.parent_id == code.id}
        blocks = []
        for doc_info in study.docs:
            assigned = {c: doc_info.id in study.assigned[c] for c in coders}
            if sum(assigned.values()) < 2:
                continue
            spans = {
                c: [
                    (s.start, s.end)
                    for s in study.segments
                    if s.doc_id == doc_info.id and s.coder == c and s.code_id in codes
                ]
                for c in coders
            }
            units = agreement.character_units(doc_info.coded_ranges)
            blocks.append(agreement.presence_matrix(units, spans, assigned))
        expected = agreement.pooled_measures(blocks, bootstrap=150, seed=2)
        row = report["codes"][" > ".join(code.path)]
        assert row["krippendorff_alpha"] == expected.krippendorff_alpha.value
        assert row["percent_agreement"] == expected.percent_agreement.value
        assert row["n_units"] == sum(int(((b != -1).sum(axis=0) >= 2).sum()) for b in blocks)
        if expected.bootstrap.ci95 is not None:
            assert row["alpha_ci95"] == list(expected.bootstrap.ci95)
