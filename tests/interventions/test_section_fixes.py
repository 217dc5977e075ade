"""The owner fixes the sections found: merge, split, rename, exclude; never once coded.

The text never changes: only section boundaries and headings do.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from interventions import services
from interventions.models import Intervention, Section
from tests.conftest import Cast
from tests.factories import SegmentFactory

TEXT = (
    "Samenvatting\nEen korte samenvatting van de aanpak.\n\n"
    "Doelgroep\nGezinnen met jonge kinderen\n"
    "De coach komt wekelijks langs bij het gezin thuis.\n\n"
    "Aanpak\nOuders oefenen thuis met nieuwe vaardigheden."
)


@pytest.fixture
def intervention(cast: Cast) -> Intervention:
    return services.intervention_create(study=cast.study, title="Stevig Ouderschap", text=TEXT)


def headings(intervention: Intervention) -> list[tuple[str, str]]:
    return [
        (s.heading, intervention.text[s.start : s.end])
        for s in intervention.sections.order_by("start")
    ]


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def url(name: str, intervention: Intervention, section: Section) -> str:
    return reverse(
        name,
        kwargs={
            "slug": intervention.study.slug,
            "uuid": intervention.uuid,
            "section_id": section.pk,
        },
    )


def test_sections_are_found_and_split_at_a_line_merge_and_rename(
    cast: Cast, intervention: Intervention
) -> None:
    assert [h for h, _ in headings(intervention)] == ["Samenvatting", "Doelgroep", "Aanpak"]
    doelgroep = intervention.sections.get(heading="Doelgroep")
    at = TEXT.index("De coach komt")

    services.section_split(section=doelgroep, at=at)
    services.section_rename(section=intervention.sections.get(start=at), heading="Werkwijze")
    services.section_merge(section=intervention.sections.get(heading="Samenvatting"))

    assert headings(intervention) == [
        ("Samenvatting", TEXT[: TEXT.index("De coach komt")]),
        ("Werkwijze", TEXT[at : TEXT.index("Aanpak")]),
        ("Aanpak", TEXT[TEXT.index("Aanpak") :]),
    ]
    intervention.refresh_from_db()
    assert intervention.text == TEXT


def test_a_split_outside_the_section_or_not_at_a_line_start_is_refused(
    intervention: Intervention,
) -> None:
    doelgroep = intervention.sections.get(heading="Doelgroep")
    before = headings(intervention)

    for at in (TEXT.index("Aanpak"), TEXT.index("De coach komt") + 3, doelgroep.start):
        with pytest.raises(services.ServiceError, match="Choose a line inside"):
            services.section_split(section=doelgroep, at=at)

    assert headings(intervention) == before


def test_the_last_section_has_nothing_to_merge_with(intervention: Intervention) -> None:
    with pytest.raises(services.ServiceError, match="is the last section"):
        services.section_merge(section=intervention.sections.get(heading="Aanpak"))


def test_a_coded_section_cannot_be_merged_split_or_renamed(
    cast: Cast, intervention: Intervention
) -> None:
    start = TEXT.index("De coach komt")
    SegmentFactory.create(
        intervention=intervention,
        coder=cast.coder_a,
        start=start,
        end=start + len("De coach komt"),
        quote="De coach komt",
    )
    doelgroep = intervention.sections.get(heading="Doelgroep")
    before = headings(intervention)
    message = "“Doelgroep” holds coded segments, so its sections can no longer be merged"

    with pytest.raises(services.ServiceError, match=message):
        services.section_split(section=doelgroep, at=TEXT.index("De coach komt"))
    with pytest.raises(services.ServiceError, match=message):
        services.section_rename(section=doelgroep, heading="Voor wie")
    with pytest.raises(services.ServiceError, match="“Samenvatting” holds coded segments"):
        # Merging Samenvatting with Doelgroep touches the coded text too.
        services.section_merge(section=intervention.sections.get(heading="Samenvatting"))

    assert headings(intervention) == before
    # A section without coding can still be fixed.
    services.section_rename(section=intervention.sections.get(heading="Aanpak"), heading="Opzet")


def test_the_owner_fixes_sections_through_the_page(cast: Cast, intervention: Intervention) -> None:
    client = client_for(cast.owner)
    doelgroep = intervention.sections.get(heading="Doelgroep")

    page = client.get(
        reverse("intervention_detail", args=[cast.study.slug, intervention.uuid])
    ).content.decode()
    assert "De coach komt wekelijks langs bij het gezin thuis.</option>" in page

    response = client.post(
        url("section_split", intervention, doelgroep), {"at": TEXT.index("De coach komt")}
    )
    assert response.status_code == 302
    response = client.post(url("section_rename", intervention, doelgroep), {"heading": "Voor wie"})
    assert response.status_code == 302
    assert [h for h, _ in headings(intervention)] == [
        "Samenvatting",
        "Voor wie",
        "De coach komt wekelijks langs bij het gezin thuis.",
        "Aanpak",
    ]


def test_a_refused_fix_answers_400_with_the_reason_on_the_page(
    cast: Cast, intervention: Intervention
) -> None:
    client = client_for(cast.owner)
    doelgroep = intervention.sections.get(heading="Doelgroep")
    before = headings(intervention)

    empty = client.post(url("section_rename", intervention, doelgroep), {"heading": " "})
    outside = client.post(url("section_split", intervention, doelgroep), {"at": "1"})

    assert empty.status_code == outside.status_code == 400
    assert "A section needs a heading." in empty.content.decode()
    assert "Choose a line inside “Doelgroep” to split it at." in outside.content.decode()
    assert headings(intervention) == before


def test_a_coder_or_supervisor_cannot_fix_sections(cast: Cast, intervention: Intervention) -> None:
    doelgroep = intervention.sections.get(heading="Doelgroep")
    before = headings(intervention)

    for user in (cast.coder_a, cast.supervisor):
        response = client_for(user).post(
            url("section_rename", intervention, doelgroep), {"heading": "X"}
        )
        assert response.status_code == 403
    assert (
        client_for(cast.outsider).post(url("section_merge", intervention, doelgroep)).status_code
        == 404
    )
    assert headings(intervention) == before
