"""Analysis on the consensus layer where it exists: the code report and export_segments."""

from __future__ import annotations

import csv
import io
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from coding import segments as seg
from coding.agreement.assignments import assignment_create
from coding.analysis import report as analysis
from coding.codebook import services
from coding.consensus import services as cons
from coding.models import Code, Segment
from interventions.models import Intervention
from tests.conftest import Cast
from tests.factories import AttributeDefinitionFactory, AttributeValueFactory, InterventionFactory

TEXT = (
    "Aanpak\n"
    "De coördinator en het gezin maken een plan voor de week. "
    "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback op elk gesprek.\n"
)


def code(doc: Intervention, coder: Any, c: Code, words: str) -> Segment:
    start = doc.text.index(words)
    return seg.segment_create(
        intervention=doc, coder=coder, code=c, start=start, end=start + len(words), quote=words
    )


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    return {
        "sociaal": sociaal,
        "doelen": make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal),
        "inhoud": make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal),
    }


@pytest.fixture
def docs(cast: Cast, codes: dict[str, Code]) -> dict[str, Intervention]:
    """Two interventions: Gezin reconciled (its agreed passages accepted), Ander not."""
    reconciled = cast.intervention
    reconciled.title = "Gezin"
    reconciled.text = TEXT
    reconciled.save()
    other = InterventionFactory(study=cast.study, title="Ander", text=TEXT)
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study,
            actor=cast.owner,
            coder=coder,
            interventions=[reconciled, other],
            method="",
        )
    for doc in (reconciled, other):
        # Agreed: both coders, same code, same words.
        code(doc, cast.coder_a, codes["inhoud"], "Ouders oefenen thuis")
        code(doc, cast.coder_b, codes["inhoud"], "Ouders oefenen thuis")
        # Only carol: a disagreement left undecided.
        code(doc, cast.coder_a, codes["doelen"], "maken een plan")
    cons.consensus_accept_agreed(intervention=reconciled, actor=cast.owner)
    return {"reconciled": reconciled, "other": other}


def report(cast: Cast, c: Code, **filters: Any) -> list[analysis.SourcedRow]:
    return analysis.consensus_report(study=cast.study, viewer=cast.owner, code=c, **filters)


def test_consensus_rows_replace_the_coders_rows_only_in_reconciled_interventions(
    cast: Cast, codes: dict[str, Code], docs: dict[str, Intervention]
) -> None:
    rows = report(cast, codes["sociaal"])
    got = [(r.intervention_title, r.quote, r.coder, r.source) for r in rows]
    assert got == [
        ("Ander", "maken een plan", "carol", "carol"),
        ("Ander", "Ouders oefenen thuis", "bob", "bob"),
        ("Ander", "Ouders oefenen thuis", "carol", "carol"),
        ("Gezin", "Ouders oefenen thuis", "consensus", "consensus"),
    ]
    assert rows[-1].code_path == "Sociale hulpbronnen > Inhoud"
    assert rows[-1].before.endswith("de week. ")
    # The coders' source is today's report, each row naming its coder.
    coders = analysis.with_source(
        seg.code_report(study=cast.study, viewer=cast.owner, code=codes["sociaal"])
    )
    assert len(coders) == 6
    assert {r.source for r in coders} == {"carol", "bob"}


def test_the_consensus_report_honours_the_codes_interventions_and_attributes(
    cast: Cast, codes: dict[str, Code], docs: dict[str, Intervention]
) -> None:
    assert report(cast, codes["sociaal"], include_subcodes=False) == []
    doelen = report(cast, codes["doelen"])
    assert [(r.intervention_title, r.source) for r in doelen] == [("Ander", "carol")]
    only = report(cast, codes["inhoud"], intervention_id=docs["reconciled"].pk)
    assert [(r.intervention_title, r.source) for r in only] == [("Gezin", "consensus")]
    setting: Any = AttributeDefinitionFactory(study=cast.study, name="Setting")
    AttributeValueFactory(intervention=docs["reconciled"], definition=setting, value="Thuis")
    AttributeValueFactory(intervention=docs["other"], definition=setting, value="School")
    thuis = report(cast, codes["inhoud"], attributes={setting.pk: "Thuis"})
    assert [r.source for r in thuis] == ["consensus"]
    school = report(cast, codes["inhoud"], attributes={setting.pk: "School"})
    assert sorted(r.source for r in school) == ["bob", "carol"]
    # The coder filter narrows the coders' rows; the consensus is no one coder's.
    bob = report(cast, codes["inhoud"], coder_id=cast.coder_b.pk)
    assert [(r.intervention_title, r.source) for r in bob] == [
        ("Ander", "bob"),
        ("Gezin", "consensus"),
    ]


def test_a_blind_coder_cannot_choose_the_consensus(
    cast: Cast, codes: dict[str, Code], docs: dict[str, Intervention]
) -> None:
    # Before the reveal a coder sees only their own layer, so no consensus either.
    with pytest.raises(cons.ConsensusError):
        analysis.consensus_report(study=cast.study, viewer=cast.coder_a, code=codes["inhoud"])
    url = reverse("code_report", args=[cast.study.slug])
    query = {"code": str(codes["inhoud"].uuid), "subcodes": "on", "source": "consensus"}
    response = client_for(cast.coder_a).get(url, query)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="source"' not in content
    assert "Rows from the coders&#x27; segments." in content
    export = client_for(cast.coder_a).get(
        reverse("code_report_export", args=[cast.study.slug, "csv"]), query
    )
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [row[-1] for row in rows] == ["source", "carol", "carol"]


def test_the_page_offers_the_consensus_says_so_and_exports_the_source(
    cast: Cast, codes: dict[str, Code], docs: dict[str, Intervention]
) -> None:
    owner = client_for(cast.owner)
    url = reverse("code_report", args=[cast.study.slug])
    query = {"code": str(codes["inhoud"].uuid), "source": "consensus"}
    content = owner.get(url, query).content.decode()
    assert 'name="source"' in content
    assert (
        "Rows from the consensus layer for the 1 intervention reconciled; "
        "coders&#x27; segments elsewhere." in content
    )
    assert "3 segments coded" in content
    response = owner.get(reverse("code_report_export", args=[cast.study.slug, "csv"]), query)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["intervention", "code", "coder"]
    assert rows[0][-1] == "source"
    assert [(row[0], row[2], row[-1]) for row in rows[1:]] == [
        ("Ander", "bob", "bob"),
        ("Ander", "carol", "carol"),
        ("Gezin", "consensus", "consensus"),
    ]
    response = owner.get(reverse("code_report_export", args=[cast.study.slug, "xlsx"]), query)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["K1"].value == "source"
    assert sheet["K4"].value == "consensus"
    # Without a source the report is the coders' segments, as before.
    content = owner.get(url, {"code": str(codes["inhoud"].uuid)}).content.decode()
    assert "4 segments coded" in content
    assert "Rows from the coders&#x27; segments." in content


def test_export_segments_exports_the_consensus_layer(
    cast: Cast, codes: dict[str, Code], docs: dict[str, Intervention], tmp_path: Path
) -> None:
    out = StringIO()
    target = tmp_path / "consensus.csv"
    call_command(
        "export_segments",
        "--study",
        cast.study.slug,
        "--coder",
        "consensus",
        "--format",
        "csv",
        "-o",
        str(target),
        stdout=out,
    )
    assert out.getvalue().strip() == f"Exported 1 segments of {cast.study.slug} to {target}"
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    start = TEXT.index("Ouders oefenen thuis")
    assert rows == [
        ["intervention", "code", "start", "end", "memo", "coder", "text"],
        [
            "Gezin",
            "Sociale hulpbronnen > Inhoud",
            str(start),
            str(start + 20),
            "",
            "consensus",
            "Ouders oefenen thuis",
        ],
    ]
    xlsx = tmp_path / "consensus.xlsx"
    call_command(
        "export_segments",
        "--study",
        cast.study.slug,
        "--coder",
        "consensus",
        "--format",
        "xlsx",
        "-o",
        str(xlsx),
        stdout=StringIO(),
    )
    sheet = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in sheet[2]][5] == "consensus"
