"""Text search across the corpus and auto-coding of its hits."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from coding.analysis import search as s
from coding.analysis.search import SearchError, search, segments_autocode, widen
from coding.codebook import services
from coding.models import Code, CodingEvent, Segment
from coding.segments import SegmentError
from interventions.models import Intervention, Section
from tests.conftest import Cast
from tests.factories import AttributeDefinitionFactory, AttributeValueFactory, InterventionFactory

ALFA = (
    "Samenvatting\nVeerkracht van gezinnen.\n\n"
    "Aanpak\nDe interventie versterkt de veerkracht. Ook financiële steun helpt.\n"
    "Gezinnen worden veerkrachtig door sociale\nsteun.\n"
)
BETA = "Aanpak\nFinanciele hulp en VEERKRACHT. Geen andere woorden.\n"
GAMMA = "Aanpak\nNiets hierover.\n"


@pytest.fixture
def docs(cast: Cast) -> dict[str, Intervention]:
    alfa = cast.intervention
    alfa.title, alfa.text = "Alfa", ALFA
    alfa.save()
    beta = InterventionFactory(study=cast.study, title="Beta", text=BETA)
    gamma = InterventionFactory(study=cast.study, title="Gamma", text=GAMMA)
    Section.objects.create(
        intervention=alfa,
        heading="Samenvatting",
        start=0,
        end=ALFA.index("Aanpak"),
        excluded=True,
    )
    return {"alfa": alfa, "beta": beta, "gamma": gamma}


@pytest.fixture
def veerkracht(cast: Cast) -> Code:
    return services.code_create(study=cast.study, actor=cast.owner, name="Veerkracht")


def matches(result: s.SearchResult) -> list[tuple[str, str]]:
    return [(hit.title, hit.match) for hit in result.hits]


def test_search_ignores_case_and_diacritics_and_counts_per_intervention(
    cast: Cast, docs: Any
) -> None:
    result = search(study=cast.study, query="veerkracht")
    assert matches(result) == [
        ("Alfa", "Veerkracht"),
        ("Alfa", "veerkracht"),
        ("Alfa", "veerkracht"),  # inside "veerkrachtig"
        ("Beta", "VEERKRACHT"),
    ]
    assert result.as_json() == {
        "query": "veerkracht",
        "interventions": 2,
        "hits": 4,
        "per_intervention": {"Alfa": 3, "Beta": 1},
    }
    assert result.n_interventions == 3
    financieel = search(study=cast.study, query="financiele")
    assert matches(financieel) == [("Alfa", "financiële"), ("Beta", "Financiele")]
    hit = financieel.hits[0]
    assert ALFA[hit.start : hit.end] == "financiële"  # code points into the stored text
    assert hit.before.endswith("Ook ")
    assert hit.after.startswith(" steun")


def test_whole_words_prefixes_phrases_and_alternatives(cast: Cast, docs: Any) -> None:
    whole = search(study=cast.study, query="veerkracht", whole_word=True)
    assert [m for _t, m in matches(whole)] == ["Veerkracht", "veerkracht", "VEERKRACHT"]
    prefix = search(study=cast.study, query="veerkracht*", whole_word=True)
    assert "veerkrachtig" in [m for _t, m in matches(prefix)]
    phrase = search(study=cast.study, query='"sociale steun"')
    assert matches(phrase) == [("Alfa", "sociale\nsteun")]  # across a line break
    either = search(study=cast.study, query="hulp niets")
    assert matches(either) == [("Beta", "hulp"), ("Gamma", "Niets")]


def test_coded_only_leaves_out_excluded_sections(cast: Cast, docs: Any) -> None:
    result = search(study=cast.study, query="veerkracht", coded_only=True)
    assert [hit.title for hit in result.hits] == ["Alfa", "Alfa", "Beta"]
    assert result.as_json()["per_intervention"] == {"Alfa": 2, "Beta": 1}


def test_a_property_filter_narrows_the_corpus(cast: Cast, docs: Any) -> None:
    setting: Any = AttributeDefinitionFactory(study=cast.study, name="Setting")
    AttributeValueFactory(intervention=docs["beta"], definition=setting, value="Thuis")
    result = search(study=cast.study, query="veerkracht", attributes={setting.pk: "Thuis"})
    assert result.as_json()["per_intervention"] == {"Beta": 1}
    assert result.n_interventions == 1


def test_regular_expressions_and_their_errors(cast: Cast, docs: Any) -> None:
    result = search(study=cast.study, query=r"veerkracht\w+", as_regex=True)
    assert matches(result) == [("Alfa", "veerkrachtig")]
    with pytest.raises(SearchError, match="regular expression"):
        search(study=cast.study, query="(unclosed", as_regex=True)
    with pytest.raises(SearchError):
        search(study=cast.study, query="   ")
    with pytest.raises(SearchError):
        search(study=cast.study, query="x" * 201)


def test_a_runaway_regular_expression_stops_with_a_message() -> None:
    # Exponential backtracking: without the time limit this runs for ages.
    with pytest.raises(SearchError, match="too long"):
        s.find(s.compile_query(r"(a|aa)+$", as_regex=True), "a" * 60 + "!")


def test_widen_to_sentence_and_paragraph() -> None:
    text = "Eerste zin. De veerkracht groeit hier. Laatste zin.\n\nNieuwe alinea."
    start = text.index("veerkracht")
    end = start + len("veerkracht")
    assert text[slice(*widen(text, start, end, "hit"))] == "veerkracht"
    assert text[slice(*widen(text, start, end, "sentence"))] == "De veerkracht groeit hier."
    assert text[slice(*widen(text, start, end, "paragraph"))] == (
        "Eerste zin. De veerkracht groeit hier. Laatste zin."
    )


def test_autocode_codes_chosen_hits_as_one_undoable_action(
    cast: Cast, docs: Any, veerkracht: Code
) -> None:
    hits = search(study=cast.study, query="veerkracht", coded_only=True).hits
    chosen = [(hit.intervention_id, hit.start, hit.end) for hit in hits[:2]]
    done = segments_autocode(
        study=cast.study, coder=cast.coder_a, code=veerkracht, spans=chosen, query="veerkracht"
    )
    assert len(done.created) == 2
    stored = Segment.objects.filter(coder=cast.coder_a, code=veerkracht).order_by("start")
    assert [(x.start, x.end, x.quote) for x in stored] == [
        (start, end, ALFA[start:end]) for _i, start, end in chosen
    ]
    assert done.event is not None
    assert done.event.action == s.AUTOCODE
    assert CodingEvent.objects.filter(action=s.AUTOCODE).count() == 1
    again = segments_autocode(study=cast.study, coder=cast.coder_a, code=veerkracht, spans=chosen)
    assert again.created == []
    assert again.skipped == 2
    with pytest.raises(SegmentError):
        s.segments_autocode_undo(event=done.event, actor=cast.coder_b)
    assert s.segments_autocode_undo(event=done.event, actor=cast.coder_a) == 2
    assert not Segment.objects.filter(code=veerkracht).exists()
    with pytest.raises(SegmentError, match="undone already"):
        s.segments_autocode_undo(event=done.event, actor=cast.coder_a)


def test_autocode_is_all_or_nothing(cast: Cast, docs: Any, veerkracht: Code) -> None:
    alfa = docs["alfa"]
    inside_excluded = (alfa.pk, 13, 23)  # "Veerkracht" in the summary, not coded
    good = (alfa.pk, ALFA.index("veerkracht"), ALFA.index("veerkracht") + 10)
    with pytest.raises(SegmentError, match="Samenvatting"):
        segments_autocode(
            study=cast.study, coder=cast.coder_a, code=veerkracht, spans=[good, inside_excluded]
        )
    assert not Segment.objects.exists()
    with pytest.raises(SegmentError):
        segments_autocode(study=cast.study, coder=cast.supervisor, code=veerkracht, spans=[good])


# The command ------------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("search", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_json(cast: Cast, docs: Any) -> None:
    out, _err = run(
        "--study", "gezin", "veerkracht", "--whole-word", "--coded-only", "--format", "json"
    )
    assert json.loads(out) == {
        "query": "veerkracht",
        "interventions": 2,
        "hits": 2,
        "per_intervention": {"Alfa": 1, "Beta": 1},
    }
    text, _err = run("--study", "gezin", "veerkracht")
    assert text.splitlines()[0] == "4 hits in 2 of 3 interventions"


def test_the_command_auto_codes_every_hit(cast: Cast, docs: Any, veerkracht: Code) -> None:
    out, _err = run(
        "--study", "gezin", "veerkracht", "--coded-only", "--code", "Veerkracht", "--coder", "carol"
    )
    assert out.splitlines()[-1] == "Created 3 segments of Veerkracht for carol"
    assert Segment.objects.filter(coder=cast.coder_a, code=veerkracht).count() == 3
    out, err = run(
        "--study",
        "gezin",
        "veerkracht",
        "--coded-only",
        "--code",
        "Veerkracht",
        "--coder",
        "carol",
        "--format",
        "json",
    )
    assert json.loads(out)["hits"] == 3
    assert (
        err.strip() == "Created 0 segments of Veerkracht for carol (3 hits were coded so already)"
    )
    with pytest.raises(CommandError, match="path"):
        run("--study", "gezin", "veerkracht", "--code", "Nope", "--coder", "carol")
    with pytest.raises(CommandError, match="both"):
        run("--study", "gezin", "veerkracht", "--code", "Veerkracht")
