"""The analysis pages: tables, files, figures, snapshots, search and auto-coding."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from coding.models import AnalysisSnapshot, Code, CodingEvent, Segment
from interventions.models import Intervention
from tests.coding.analysis.conftest import at
from tests.conftest import Cast

CAROL = {"table": "frequencies", "count": "interventions", "layer": "carol"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tables_url(cast: Cast, **params: Any) -> str:
    from django.utils.http import urlencode

    return reverse("analysis_tables", args=[cast.study.slug]) + "?" + urlencode(params)


def test_the_frequencies_page_shows_the_counts_and_the_sentence(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    response = client_for(cast.owner).get(tables_url(cast, **CAROL))
    assert response.status_code == 200
    html = response.content.decode()
    assert "In 2 of the 3 interventions the code “Sociaal” occurs." in html
    assert "67 %" in html
    assert "Layer: carol" in html


def test_matrix_cells_link_to_their_segments(cast: Cast, three: dict[str, Intervention]) -> None:
    response = client_for(cast.owner).get(
        tables_url(cast, **{**CAROL, "table": "matrix", "count": "segments"})
    )
    arranged = response.context["arranged"]
    first = arranged.rows[0]
    assert [cell.value for cell in first.cells] == [2, 1, 0]
    href = first.cells[0].href
    assert href.startswith(reverse("code_report", args=[cast.study.slug]))
    report = client_for(cast.owner).get(href)
    assert [row.quote for row in report.context["rows"]] == [
        three["alfa"].text[0:10],
        three["alfa"].text[5:15],
    ]
    assert first.cells[2].href == ""  # nothing to open


def test_the_crosstab_needs_a_property_and_shows_column_percentages(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    client = client_for(cast.owner)
    missing = client.get(tables_url(cast, **{**CAROL, "table": "crosstab"}))
    assert missing.status_code == 400
    assert "property" in missing.content.decode()
    setting = cast.study.attributes.get(name="Setting")
    response = client.get(
        tables_url(cast, **{**CAROL, "table": "crosstab", "attribute": setting.pk})
    )
    assert [c.text for c in response.context["arranged"].rows[0].cells] == ["1 (50 %)", "2 (100 %)"]


def test_a_blind_coder_gets_only_their_own_layer(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    client = client_for(cast.coder_b)
    page = client.get(tables_url(cast))
    assert [value for value, _label in page.context["form"].fields["layer"].choices] == ["bob"]
    refused = client.get(tables_url(cast, **CAROL))
    assert refused.status_code == 400
    assert "filtered" not in refused.context
    assert refused.context["table_error"]
    assert (
        client.get(
            reverse("analysis_export", args=[cast.study.slug, "csv"])
            + "?table=frequencies&count=segments&layer=carol"
        ).status_code
        == 400
    )


def test_files_and_figures_name_what_they_count(cast: Cast, three: dict[str, Intervention]) -> None:
    client = client_for(cast.owner)
    query = "table=matrix&count=segments&layer=carol"
    csv = client.get(reverse("analysis_export", args=[cast.study.slug, "csv"]) + "?" + query)
    text = csv.content.decode("utf-8-sig")
    assert "Alfa" in text.splitlines()[0]
    assert "carol" in text
    assert csv["Content-Disposition"] == 'attachment; filename="gezin-matrix-carol.csv"'
    svg = client.get(reverse("analysis_figure", args=[cast.study.slug, "svg"]) + "?" + query)
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert b"Sociaal" in svg.content  # labels are text in the SVG
    png = client.get(
        reverse("analysis_figure", args=[cast.study.slug, "png"]) + "?" + query + "&download=1"
    )
    image = Image.open(io.BytesIO(png.content))
    assert round(image.info["dpi"][0]) == 300
    assert "attachment" in png["Content-Disposition"]


def test_a_saved_analysis_stays_as_it_was(
    cast: Cast,
    three: dict[str, Intervention],
    tree: dict[str, Code],
) -> None:
    client = client_for(cast.owner)
    saved = client.post(
        reverse("analysis_snapshot_save", args=[cast.study.slug])
        + "?"
        + "table=frequencies&count=interventions&layer=carol",
        {"title": "Tabel 4.1"},
    )
    snapshot = AnalysisSnapshot.objects.get()
    assert saved["Location"] == reverse("analysis_snapshot", args=[cast.study.slug, snapshot.uuid])
    assert snapshot.result["cells"][0] == [2, 3]
    at(three["gamma"], cast.coder_a, tree["s_inhoud"], 10, 20)  # later coding
    live = client.get(tables_url(cast, **CAROL)).context["filtered"].table
    assert live.cells[0] == [3, 4]
    page = client.get(saved["Location"])
    assert page.context["table"].cells[0] == [2, 3]
    assert "Tabel 4.1" in page.content.decode()
    listing = client.get(reverse("analysis_snapshots", args=[cast.study.slug]))
    assert "Tabel 4.1" in listing.content.decode()
    # bob may not read carol's layer before the reveal, so not her table either.
    bob = client_for(cast.coder_b)
    assert (
        "Tabel 4.1"
        not in bob.get(reverse("analysis_snapshots", args=[cast.study.slug])).content.decode()
    )
    assert bob.get(saved["Location"]).status_code == 404


def test_the_pairs_of_a_cooccurrence_cell(
    cast: Cast, three: dict[str, Intervention], tree: dict[str, Code]
) -> None:
    client = client_for(cast.owner)
    response = client.get(
        reverse("analysis_pairs", args=[cast.study.slug]),
        {
            "table": "cooccurrence",
            "count": "segments",
            "layer": "carol",
            "row": str(tree["s_doelen"].uuid),
            "column": str(tree["s_inhoud"].uuid),
        },
    )
    pairs = response.context["pairs"]
    assert len(pairs) == 1
    assert pairs[0]["first"][1] == three["alfa"].text[0:10]
    assert pairs[0]["second"][1] == three["alfa"].text[5:15]


# Search and auto-coding -------------------------------------------------------------------


@pytest.fixture
def corpus(cast: Cast) -> Intervention:
    doc = cast.intervention
    doc.text = "Aanpak\nDe veerkracht groeit. Meer veerkracht hier.\n\nVeerkracht elders.\n"
    doc.save()
    return doc


def test_search_then_preview_then_code_then_undo(cast: Cast, corpus: Intervention) -> None:
    code = Code.objects.create(study=cast.study, name="Veerkracht")
    client = client_for(cast.coder_a)
    url = reverse("analysis_search", args=[cast.study.slug])
    page = client.get(url, {"q": "veerkracht"})
    assert page.context["summary"] == {
        "query": "veerkracht",
        "interventions": 1,
        "hits": 3,
        "per_intervention": {corpus.title: 3},
    }
    keys = page.context["hit_keys"]
    form = {"q": "veerkracht", "code": str(code.uuid), "unit": "sentence", "hits": keys[:2]}
    preview = client.post(reverse("analysis_autocode", args=[cast.study.slug]), form)
    assert [quote for *_rest, quote in preview.context["preview"]] == [
        "De veerkracht groeit.",
        "Meer veerkracht hier.",
    ]
    assert not Segment.objects.exists()
    done = client.post(
        reverse("analysis_autocode", args=[cast.study.slug]), {**form, "confirm": "on"}
    )
    assert done.status_code == 200
    assert sorted(Segment.objects.values_list("quote", flat=True)) == [
        "De veerkracht groeit.",
        "Meer veerkracht hier.",
    ]
    event = CodingEvent.objects.get(action="segments_autocode")
    undo = client.post(
        reverse("analysis_autocode_undo", args=[cast.study.slug]),
        {"event": event.pk, "back": "q=veerkracht"},
    )
    assert undo.status_code == 302
    assert not Segment.objects.exists()


def test_autocode_accepts_only_hits_of_the_search(cast: Cast, corpus: Intervention) -> None:
    code = Code.objects.create(study=cast.study, name="Veerkracht")
    client = client_for(cast.coder_a)
    forged = {
        "q": "veerkracht",
        "code": str(code.uuid),
        "unit": "hit",
        "hits": [f"{corpus.pk}:0:6"],
        "confirm": "on",
    }
    response = client.post(reverse("analysis_autocode", args=[cast.study.slug]), forged)
    assert response.status_code == 400
    assert not Segment.objects.exists()


def test_the_supervisor_searches_but_does_not_code(cast: Cast, corpus: Intervention) -> None:
    client = client_for(cast.supervisor)
    page = client.get(reverse("analysis_search", args=[cast.study.slug]), {"q": "veerkracht"})
    assert page.status_code == 200
    assert "tree" not in page.context
    assert b'name="hits"' not in page.content


def test_the_quotation_report_in_word(
    cast: Cast, three: dict[str, Intervention], tree: dict[str, Code]
) -> None:
    import docx

    tree["sociaal"].definition = "Hulp uit het netwerk."
    tree["sociaal"].save()
    setting = cast.study.attributes.get(name="Setting")
    response = client_for(cast.owner).get(
        reverse("code_report_export", args=[cast.study.slug, "docx"]),
        {
            "code": str(tree["sociaal"].uuid),
            "subcodes": "on",
            "coder": cast.coder_a.pk,
            "props": [setting.pk],
        },
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="gezin-sociaal.docx"'
    document = docx.Document(io.BytesIO(response.content))
    text = [p.text for p in document.paragraphs]
    assert text[0] == "Sociaal"
    assert "coder carol" in text[1]
    assert "Definition: Hulp uit het netwerk." in text
    assert "Setting: Thuis" in text  # Alfa
    assert "Setting: Thuis; School" in text  # Beta
    quotes = [p for p in text if p.startswith("“")]
    assert quotes[0].startswith("“" + three["alfa"].text[0:10] + "”")
    # The report lists every segment, also Gamma's in the section excluded after coding.
    assert len(quotes) == 4


def test_figures_escape_code_names(
    cast: Cast, three: dict[str, Intervention], tree: dict[str, Code]
) -> None:
    tree["sociaal"].name = '<script>alert("x")</script> & Co'
    tree["sociaal"].save()
    svg = client_for(cast.owner).get(
        reverse("analysis_figure", args=[cast.study.slug, "svg"])
        + "?"
        + "table=frequencies&count=segments&layer=carol"
    )
    assert b"<script" not in svg.content
    assert b"&lt;script&gt;" in svg.content


def test_a_figure_says_what_it_counts(cast: Cast, three: dict[str, Intervention]) -> None:
    setting = cast.study.attributes.get(name="Setting")
    svg = client_for(cast.owner).get(
        reverse("analysis_figure", args=[cast.study.slug, "svg"]),
        {"table": "crosstab", "count": "segments", "layer": "carol", "attribute": setting.pk},
    )
    caption = svg.content.decode()
    assert "Layer: carol" in caption
    assert "not saved as a version" in caption
    assert "3 interventions" in caption


def test_the_matrix_turns_with_interventions_as_rows(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    response = client_for(cast.owner).get(
        tables_url(
            cast, **{**CAROL, "table": "matrix", "count": "segments", "rows": "interventions"}
        )
    )
    arranged = response.context["arranged"]
    assert [row.label for row in arranged.rows] == ["Alfa", "Beta", "Gamma"]
    assert arranged.columns[1] == "Sociaal › Doelen"
    assert [cell.value for cell in arranged.rows[0].cells] == [2, 1, 1, 1, 1]
    assert [row.total for row in arranged.rows] == [3, 1, 1]
    assert arranged.column_totals == ["3", "1", "2", "2", "2"]
    assert arranged.rows[0].cells[0].href  # still opens the segments
