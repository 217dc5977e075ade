"""Studies, members and the corpus through their pages."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    Intervention,
    Invitation,
    Membership,
    Role,
    Section,
    Study,
)
from tests.conftest import Cast
from tests.factories import SegmentFactory

DESCRIPTION = (
    "Gezin Centraal\n\nSamenvatting\nEen korte samenvatting.\n\n"
    "Doel\nHet gezin krijgt grip op het dagelijks leven.\n\n"
    "Aanpak\nWekelijkse huisbezoeken van één hulpverlener.\n"
)


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_a_study_made_from_the_template_has_the_eight_properties(cast: Cast) -> None:
    response = client_for(cast.owner).post(
        reverse("study_create"),
        {"name": "Mijn scriptie", "slug": "", "language": "nl", "template": "veerkracht"},
    )
    study = Study.objects.get(name="Mijn scriptie")
    assert response.status_code == 302
    assert study.slug == "mijn-scriptie"
    names = list(study.attributes.values_list("name", flat=True))
    assert names[:8] == [
        "Primaire doelgroep",
        "Leeftijd primaire doelgroep",
        "Intermediaire doelgroep",
        "Hoofddoel",
        "Setting",
        "Type organisatie",
        "Uitvoerder",
        "Erkenning",
    ]
    assert study.memberships.get(user=cast.owner).role == Role.OWNER


def test_a_taken_short_name_is_refused_and_nothing_is_made(cast: Cast) -> None:
    before = Study.objects.count()
    response = client_for(cast.owner).post(
        reverse("study_create"),
        {"name": "Nog een", "slug": cast.study.slug, "language": "nl", "template": "empty"},
    )
    assert response.status_code == 400
    assert "taken" in response.content.decode()
    assert Study.objects.count() == before


def test_the_owner_adds_a_member_by_username(cast: Cast) -> None:
    response = client_for(cast.owner).post(
        reverse("members", kwargs={"slug": cast.study.slug}),
        {"username": "oscar", "role": "supervisor"},
    )
    assert response.status_code == 302
    assert Membership.objects.get(study=cast.study, user=cast.outsider).role == Role.SUPERVISOR


def test_an_unknown_username_gets_a_message_and_adds_no_one(cast: Cast) -> None:
    before = Membership.objects.count()
    response = client_for(cast.owner).post(
        reverse("members", kwargs={"slug": cast.study.slug}),
        {"username": "niemand", "role": "coder"},
    )
    assert response.status_code == 400
    assert "There is no user" in response.content.decode()
    assert Membership.objects.count() == before


def test_the_last_owner_cannot_leave_or_step_down(cast: Cast) -> None:
    owner_membership = cast.study.memberships.get(user=cast.owner)
    client = client_for(cast.owner)
    response = client.post(
        reverse(
            "member_remove", kwargs={"slug": cast.study.slug, "membership_id": owner_membership.pk}
        )
    )
    assert response.status_code == 400
    response = client.post(
        reverse(
            "member_set_role",
            kwargs={"slug": cast.study.slug, "membership_id": owner_membership.pk},
        ),
        {"role": "coder"},
    )
    assert response.status_code == 400
    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.OWNER


def test_an_invitation_link_is_shown_and_works_once(cast: Cast) -> None:
    owner = client_for(cast.owner)
    owner.post(reverse("invitation_create", kwargs={"slug": cast.study.slug}), {"role": "coder"})
    invitation = Invitation.objects.get(study=cast.study)
    page = owner.get(reverse("members", kwargs={"slug": cast.study.slug})).content.decode()
    link = reverse("invitation_accept", kwargs={"token": invitation.token})
    assert link in page
    client_for(cast.outsider).post(link)
    assert Membership.objects.get(study=cast.study, user=cast.outsider).role == Role.CODER
    from tests.factories import UserFactory

    latecomer = client_for(UserFactory(username="laat"))
    assert latecomer.get(link).status_code == 410
    assert latecomer.post(link).status_code == 410
    assert not Membership.objects.filter(user__username="laat").exists()


def test_a_pasted_text_becomes_an_intervention_with_sections(cast: Cast) -> None:
    response = client_for(cast.owner).post(
        reverse("intervention_create", kwargs={"slug": cast.study.slug}),
        {"title": "Nieuw Begin", "text": DESCRIPTION.replace("\n", "\r\n")},
    )
    assert response.status_code == 302
    intervention = Intervention.objects.get(title="Nieuw Begin")
    assert "\r" not in intervention.text
    headings = {s.heading: s.excluded for s in intervention.sections.all()}
    assert headings == {"Samenvatting": True, "Doel": False, "Aanpak": False}
    for section in intervention.sections.all():
        assert intervention.text[section.start :].startswith(section.heading)


def test_an_uploaded_docx_is_titled_by_its_file_name(cast: Cast) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Doel", level=1)
    document.add_paragraph("Ouders versterken hun netwerk. Coöperatie en ideeën.")
    buffer = io.BytesIO()
    document.save(buffer)
    upload = SimpleUploadedFile("Sterk Netwerk.docx", buffer.getvalue())
    response = client_for(cast.owner).post(
        reverse("intervention_create", kwargs={"slug": cast.study.slug}),
        {"title": "", "text": "", "file": upload},
    )
    assert response.status_code == 302
    intervention = Intervention.objects.get(title="Sterk Netwerk")
    assert "Coöperatie en ideeën" in intervention.text
    assert intervention.source_filename == "Sterk Netwerk.docx"


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("leeg.txt", b"", "empty"),
        ("zip.pdf", b"PK\x03\x04" + b"\x00" * 100, "ZIP"),
    ],
)
def test_a_bad_upload_gets_a_message_and_stores_nothing(
    cast: Cast, filename: str, content: bytes, message: str
) -> None:
    before = Intervention.objects.count()
    response = client_for(cast.owner).post(
        reverse("intervention_create", kwargs={"slug": cast.study.slug}),
        {"title": "", "text": "", "file": SimpleUploadedFile(filename, content)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Intervention.objects.count() == before


def test_a_file_over_the_size_limit_is_refused(cast: Cast, settings: object) -> None:
    settings.UPLOAD_MAX_BYTES = 1000  # type: ignore[attr-defined]
    before = Intervention.objects.count()
    response = client_for(cast.owner).post(
        reverse("intervention_upload", kwargs={"slug": cast.study.slug}),
        {"documents": [SimpleUploadedFile("groot.txt", b"a" * 2000)]},
    )
    assert response.status_code == 400
    assert "“groot.txt” is larger than" in response.content.decode()
    assert Intervention.objects.count() == before


def test_several_files_are_stored_all_or_none(cast: Cast) -> None:
    before = Intervention.objects.count()
    files = [
        SimpleUploadedFile("Goed.txt", b"Doel\nHet gezin versterken."),
        SimpleUploadedFile("Kapot.pdf", b"not a pdf at all"),
    ]
    response = client_for(cast.owner).post(
        reverse("intervention_upload", kwargs={"slug": cast.study.slug}), {"documents": files}
    )
    assert response.status_code == 400
    assert Intervention.objects.count() == before
    files = [
        SimpleUploadedFile("Goed.txt", b"Doel\nHet gezin versterken."),
        SimpleUploadedFile("Ook Goed.txt", b"Aanpak\nHuisbezoeken."),
    ]
    response = client_for(cast.owner).post(
        reverse("intervention_upload", kwargs={"slug": cast.study.slug}), {"documents": files}
    )
    assert response.status_code == 302
    assert Intervention.objects.count() == before + 2


def test_a_coded_text_cannot_be_edited_in_place_but_gets_a_new_version(cast: Cast) -> None:
    intervention = cast.intervention
    SegmentFactory(intervention=intervention, coder=cast.coder_a, start=0, end=4)
    client = client_for(cast.owner)
    url = reverse("intervention_edit", kwargs={"slug": cast.study.slug, "uuid": intervention.uuid})
    original = intervention.text
    response = client.post(url, {"title": intervention.title, "text": "Iets heel anders"})
    assert response.status_code == 400
    assert "new version" in response.content.decode()
    intervention.refresh_from_db()
    assert intervention.text == original
    response = client.post(
        reverse(
            "intervention_new_version",
            kwargs={"slug": cast.study.slug, "uuid": intervention.uuid},
        )
    )
    copy = Intervention.objects.get(previous_version=intervention)
    assert copy.title == "Gezin Centraal (v2)"
    assert copy.text == original
    assert response.status_code == 302
    response = client.post(
        reverse("intervention_edit", kwargs={"slug": cast.study.slug, "uuid": copy.uuid}),
        {"title": copy.title, "text": "Verbeterde tekst"},
    )
    copy.refresh_from_db()
    assert copy.text == "Verbeterde tekst"


def test_the_title_and_url_of_a_coded_text_can_still_change(cast: Cast) -> None:
    SegmentFactory(intervention=cast.intervention, coder=cast.coder_a, start=0, end=4)
    url = reverse(
        "intervention_edit", kwargs={"slug": cast.study.slug, "uuid": cast.intervention.uuid}
    )
    response = client_for(cast.owner).post(
        url,
        {
            "title": "Gezin Centraal 2.0",
            "url": "https://voorbeeld.example/gc",
            "text": cast.intervention.text,
        },
    )
    assert response.status_code == 302
    cast.intervention.refresh_from_db()
    assert cast.intervention.title == "Gezin Centraal 2.0"


def test_a_section_is_marked_by_hand_and_switched_to_not_coded(cast: Cast) -> None:
    client = client_for(cast.owner)
    kwargs = {"slug": cast.study.slug, "uuid": cast.intervention.uuid}
    Section.objects.filter(intervention=cast.intervention).delete()
    response = client.post(reverse("section_add", kwargs=kwargs), {"heading": "Aanpak"})
    assert response.status_code == 302
    section = Section.objects.get(intervention=cast.intervention, heading="Aanpak")
    assert cast.intervention.text[section.start : section.end].startswith("Aanpak")
    assert section.end == len(cast.intervention.text)
    client.post(reverse("section_toggle", kwargs={**kwargs, "section_id": section.pk}))
    section.refresh_from_db()
    assert section.excluded
    response = client.post(reverse("section_add", kwargs=kwargs), {"heading": "Bestaat niet"})
    assert response.status_code == 400
    assert "No line of the text" in response.content.decode()


def test_the_owner_sets_a_property_and_a_wrong_number_changes_nothing(cast: Cast) -> None:
    setting = AttributeDefinition.objects.create(study=cast.study, name="Setting")
    duur = AttributeDefinition.objects.create(study=cast.study, name="Duur", kind="number")
    url = reverse(
        "intervention_attributes", kwargs={"slug": cast.study.slug, "uuid": cast.intervention.uuid}
    )
    client = client_for(cast.owner)
    response = client.post(url, {f"a{setting.pk}": "Thuis", f"a{duur.pk}": "12"})
    assert response.status_code == 302
    assert AttributeValue.objects.get(definition=setting).value == "Thuis"
    response = client.post(url, {f"a{setting.pk}": "Zorginstelling", f"a{duur.pk}": "twaalf"})
    assert response.status_code == 400
    assert "takes a number" in response.content.decode()
    assert AttributeValue.objects.get(definition=setting).value == "Thuis"
    assert AttributeValue.objects.get(definition=duur).value == "12"


def test_a_coder_cannot_change_properties(cast: Cast) -> None:
    setting = AttributeDefinition.objects.create(study=cast.study, name="Setting")
    url = reverse(
        "intervention_attributes", kwargs={"slug": cast.study.slug, "uuid": cast.intervention.uuid}
    )
    response = client_for(cast.coder_a).post(url, {f"a{setting.pk}": "Thuis"})
    assert response.status_code == 403
    assert not AttributeValue.objects.exists()
    page = client_for(cast.coder_a).get(
        reverse(
            "intervention_detail", kwargs={"slug": cast.study.slug, "uuid": cast.intervention.uuid}
        )
    )
    assert b"Save properties" not in page.content


def test_the_list_filters_by_a_property_and_searches_text(cast: Cast) -> None:
    setting = AttributeDefinition.objects.create(study=cast.study, name="Setting")
    other = Intervention.objects.create(study=cast.study, title="Thuis Sterk", text="Netwerk")
    AttributeValue.objects.create(intervention=other, definition=setting, value="Thuis")
    AttributeValue.objects.create(
        intervention=cast.intervention, definition=setting, value="Zorginstelling"
    )
    client = client_for(cast.coder_a)
    url = reverse("intervention_list", kwargs={"slug": cast.study.slug})
    page = client.get(url, {f"a{setting.pk}": "Thuis"}).content.decode()
    assert "Thuis Sterk" in page
    assert "Gezin Centraal" not in page
    page = client.get(url, {"q": "huisbezoeken"}).content.decode()
    assert "Gezin Centraal" in page
    assert "Thuis Sterk" not in page


def test_the_list_answers_htmx_with_the_table_fragment_only(cast: Cast) -> None:
    response = client_for(cast.coder_a).get(
        reverse("intervention_list", kwargs={"slug": cast.study.slug}),
        headers={"HX-Request": "true", "HX-Target": "intervention-table"},
    )
    content = response.content.decode()
    assert 'id="intervention-table"' in content
    assert "<html" not in content


def test_the_list_runs_a_fixed_number_of_queries(cast: Cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    setting = AttributeDefinition.objects.create(study=cast.study, name="Setting")
    for n in range(30):
        item = Intervention.objects.create(study=cast.study, title=f"Interventie {n}", text="x")
        AttributeValue.objects.create(intervention=item, definition=setting, value="Thuis")
    client = client_for(cast.coder_a)
    with django_assert_max_num_queries(10):
        client.get(reverse("intervention_list", kwargs={"slug": cast.study.slug}))


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "<svg/onload=alert(1)>",
]


@pytest.mark.parametrize("payload", XSS)
def test_user_text_renders_inert(cast: Cast, payload: str) -> None:
    setting = AttributeDefinition.objects.create(study=cast.study, name=payload)
    intervention = Intervention.objects.create(
        study=cast.study, title=payload, text=f"Doel\n{payload}\n", source=payload
    )
    AttributeValue.objects.create(intervention=intervention, definition=setting, value=payload)
    client = client_for(cast.owner)
    for url in (
        reverse("intervention_list", kwargs={"slug": cast.study.slug}),
        reverse("intervention_detail", kwargs={"slug": cast.study.slug, "uuid": intervention.uuid}),
        reverse("attributes", kwargs={"slug": cast.study.slug}),
    ):
        content = client.get(url).content.decode()
        if "<" in payload:
            assert payload not in content


def test_the_interface_speaks_dutch_by_default_and_english_on_request(
    cast: Cast, settings: object
) -> None:
    settings.LANGUAGE_CODE = "nl"  # type: ignore[attr-defined]
    client = client_for(cast.owner)
    url = reverse("intervention_list", kwargs={"slug": cast.study.slug})
    assert "Interventies" in client.get(url).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": url})
    assert "Interventions" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("url_name", "field"),
    [
        ("intervention_create", "file"),
        ("metadata_import", "file"),
        ("intervention_upload", "documents"),
    ],
)
def test_a_50_mb_upload_is_stopped_with_a_message_and_stores_nothing(
    cast: Cast, url_name: str, field: str
) -> None:
    from interventions.models import ImportJob

    big = SimpleUploadedFile("enorm.pdf", b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024))
    before = (Intervention.objects.count(), ImportJob.objects.count())
    response = client_for(cast.owner).post(
        reverse(url_name, kwargs={"slug": cast.study.slug}), {field: big, "title": ""}
    )
    assert response.status_code == 400
    assert "“enorm.pdf” is larger than 10 MB; nothing was stored." in response.content.decode()
    assert (Intervention.objects.count(), ImportJob.objects.count()) == before


def _xlsx_with_formula() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Interventie", "Setting"])
    sheet.append(["Gezin Centraal", "=1+1"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


BAD_METADATA = [
    (
        "cp1252-ongeldig.csv",
        "Interventie;Setting\nCaf\x81\x8d\x8f\x90;Thuis\n".encode("latin-1"),
        "encoding",
    ),
    ("geen-titel.csv", b"Naam van iets;Setting\nA;Thuis\n", "title column"),
    ("dubbel.csv", b"Interventie;Setting\nA;Thuis\nA;Zorginstelling\n", "both have the title"),
    ("leeg.csv", b"", "empty"),
    ("formule.xlsx", _xlsx_with_formula(), "formula"),
    ("zip.xlsx", b"this is no spreadsheet", "not"),
]


@pytest.mark.parametrize(
    ("filename", "content", "message"), BAD_METADATA, ids=[b[0] for b in BAD_METADATA]
)
def test_a_bad_metadata_file_gets_a_message_and_changes_nothing(
    cast: Cast, filename: str, content: bytes, message: str
) -> None:
    from interventions.models import ImportJob

    before = (
        Intervention.objects.count(),
        AttributeValue.objects.count(),
        AttributeDefinition.objects.count(),
        ImportJob.objects.count(),
    )
    response = client_for(cast.owner).post(
        reverse("metadata_import", kwargs={"slug": cast.study.slug}),
        {"file": SimpleUploadedFile(filename, content)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    after = (
        Intervention.objects.count(),
        AttributeValue.objects.count(),
        AttributeDefinition.objects.count(),
        ImportJob.objects.count(),
    )
    assert after == before
