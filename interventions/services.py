"""Every write to studies, members and the corpus goes through one function here.

Views, management commands and tasks call the same functions. Each owns its transaction and
raises `ServiceError` with a message for the user when a request is refused; nothing is written
then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from interventions.headers import (
    SOURCE_HEADERS,
    TEMPLATE_ATTRIBUTES,
    TEXT_HEADERS,
    TITLE_HEADERS,
    URL_HEADERS,
    fold_header,
    matches_any,
)
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
from interventions.textimport import detect_sections, normalize_text
from veerkracht.lib.localized import (
    Reading,
    UnreadableValue,
    read_date,
    read_number,
    show_date,
    show_number,
)

RESERVED_HEADERS = (TITLE_HEADERS, SOURCE_HEADERS, URL_HEADERS, TEXT_HEADERS)
# Sections the study this app grew from left uncoded: they repeat or justify, not describe.
UNCODED_HEADINGS = {
    "samenvatting",
    "onderbouwing",
    "theoretischeonderbouwing",
    "summary",
    # A list of contents repeats the headings with page numbers.
    "inhoud",
    "inhoudsopgave",
    "contents",
}

# How a property kind reads a cell; the other kinds keep the text as it is.
READ_KINDS: dict[str, Callable[[str, str], Reading]] = {
    AttributeDefinition.Kind.NUMBER: read_number,
    AttributeDefinition.Kind.DATE: read_date,
}


class ServiceError(ValueError):
    """A refused request; str(error) is the message for the user."""


# Studies and members -----------------------------------------------------------------------


def study_create(
    *,
    name: str,
    owner: User,
    slug: str = "",
    description: str = "",
    language: str = "nl",
    template: str = Study.Template.EMPTY,
) -> Study:
    name = name.strip()
    if not name:
        raise ServiceError(_("A study needs a name."))
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ServiceError(_("Choose a short name of letters, digits and dashes."))
    if template not in Study.Template.values:
        raise ServiceError(_("Unknown template “%(template)s”.") % {"template": template})
    with transaction.atomic():
        if Study.objects.filter(slug=slug).exists():
            raise ServiceError(
                _("The short name “%(slug)s” is taken; choose another.") % {"slug": slug}
            )
        study = Study.objects.create(
            name=name, slug=slug, description=description, language=language, template=template
        )
        Membership.objects.create(study=study, user=owner, role=Role.OWNER)
        if template == Study.Template.VEERKRACHT:
            for position, (attr_name, kind, _aliases) in enumerate(TEMPLATE_ATTRIBUTES):
                AttributeDefinition.objects.create(
                    study=study, name=attr_name, kind=kind, position=position
                )
            # The codebook belongs to coding/; imported here to keep the apps' imports one-way.
            from coding.codebook.services import codebook_apply_template

            codebook_apply_template(study=study, actor=owner, template=template)
    return study


def study_update(*, study: Study, name: str, description: str, language: str) -> Study:
    if not name.strip():
        raise ServiceError(_("A study needs a name."))
    study.name = name.strip()
    study.description = description
    study.language = language
    study.save(update_fields=["name", "description", "language"])
    return study


def membership_add(*, study: Study, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ServiceError(_("Unknown role “%(role)s”.") % {"role": role})
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            study=study, user=user, defaults={"role": role}
        )
        if not created and membership.role != role:
            _ensure_an_owner_remains(study=study, leaving=membership, new_role=role)
            membership.role = role
            membership.save(update_fields=["role"])
    return membership


def membership_add_by_username(*, study: Study, username: str, role: str) -> Membership:
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ServiceError(
            _("There is no user “%(username)s”. Share an invitation link instead.")
            % {"username": username.strip()}
        )
    return membership_add(study=study, user=user, role=role)


def _ensure_an_owner_remains(*, study: Study, leaving: Membership, new_role: str | None) -> None:
    if leaving.role != Role.OWNER or new_role == Role.OWNER:
        return
    other_owners = (
        Membership.objects.filter(study=study, role=Role.OWNER).exclude(pk=leaving.pk).exists()
    )
    if not other_owners:
        raise ServiceError(_("A study needs at least one owner; make someone else owner first."))


def membership_set_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ServiceError(_("Unknown role “%(role)s”.") % {"role": role})
    with transaction.atomic():
        _ensure_an_owner_remains(study=membership.study, leaving=membership, new_role=role)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership) -> None:
    with transaction.atomic():
        _ensure_an_owner_remains(study=membership.study, leaving=membership, new_role=None)
        membership.delete()


def invitation_create(*, study: Study, role: str, created_by: Any) -> Invitation:
    if role not in Role.values:
        raise ServiceError(_("Unknown role “%(role)s”.") % {"role": role})
    return Invitation.objects.create(study=study, role=role, created_by=created_by)


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise ServiceError(_("This invitation has been used or withdrawn."))
        existing = Membership.objects.filter(study=invitation.study, user=user).first()
        if existing is not None:
            # Joining again must not lower the role someone already has.
            return existing
        membership = Membership.objects.create(
            study=invitation.study, user=user, role=invitation.role
        )
        invitation.accepted_by = user
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_by", "accepted_at"])
    return membership


def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.revoked = True
    invitation.save(update_fields=["revoked"])


# Interventions -----------------------------------------------------------------------------


def _check_title(study: Study, title: str, *, exclude: Intervention | None = None) -> str:
    title = " ".join(title.split())
    if not title:
        raise ServiceError(_("An intervention needs a title."))
    if len(title) > 300:
        raise ServiceError(_("A title may be at most 300 characters."))
    clash = Intervention.objects.filter(study=study, title=title)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise ServiceError(
            _("This study already has an intervention titled “%(title)s”.") % {"title": title}
        )
    return title


def intervention_create(
    *,
    study: Study,
    title: str,
    text: str = "",
    source: str = "",
    url: str = "",
    source_filename: str = "",
    headings: Sequence[str] = (),
) -> Intervention:
    """A new intervention with its sections; `headings` are the ones the document's structure
    marks (see `textimport.ExtractedText`), else the text's layout decides."""
    with transaction.atomic():
        intervention = Intervention.objects.create(
            study=study,
            title=_check_title(study, title),
            text=normalize_text(text),
            source=source.strip(),
            url=url.strip(),
            source_filename=source_filename,
        )
        sections_rebuild(intervention=intervention, headings=headings)
    return intervention


def intervention_has_segments(intervention: Intervention) -> bool:
    """Whether any coding (a coder's segment or a consensus decision) points into the text."""
    return intervention.segments.exists() or intervention.consensus_decisions.exists()


def intervention_update(
    *,
    intervention: Intervention,
    title: str,
    source: str,
    url: str,
    text: str | None = None,
    source_filename: str | None = None,
    headings: Sequence[str] = (),
) -> Intervention:
    """Change an intervention; a changed text is refused once segments point into it."""
    with transaction.atomic():
        intervention = Intervention.objects.select_for_update().get(pk=intervention.pk)
        intervention.title = _check_title(intervention.study, title, exclude=intervention)
        intervention.source = source.strip()
        intervention.url = url.strip()
        fields = ["title", "source", "url", "updated_at"]
        if text is not None:
            new_text = normalize_text(text)
            if new_text != intervention.text:
                if intervention_has_segments(intervention):
                    raise ServiceError(
                        _(
                            "The text of “%(title)s” is coded already, so it cannot change in "
                            "place. Make a new version of the intervention instead."
                        )
                        % {"title": intervention.title}
                    )
                intervention.text = new_text
                fields.append("text")
                if source_filename is not None:
                    intervention.source_filename = source_filename
                    fields.append("source_filename")
                intervention.sections.all().delete()
        intervention.save(update_fields=fields)
        if "text" in fields:
            sections_rebuild(intervention=intervention, headings=headings)
    return intervention


def intervention_new_version(*, intervention: Intervention, title: str = "") -> Intervention:
    """Copy an intervention (text, sections, attributes) to edit; the old one keeps its coding."""
    study = intervention.study
    if not title:
        base = intervention.title
        number = 2
        title = f"{base} (v{number})"
        while Intervention.objects.filter(study=study, title=title).exists():
            number += 1
            title = f"{base} (v{number})"
    with transaction.atomic():
        copy = Intervention.objects.create(
            study=study,
            title=_check_title(study, title),
            text=intervention.text,
            source=intervention.source,
            url=intervention.url,
            source_filename=intervention.source_filename,
            previous_version=intervention,
        )
        Section.objects.bulk_create(
            Section(
                intervention=copy,
                heading=s.heading,
                start=s.start,
                end=s.end,
                excluded=s.excluded,
            )
            for s in intervention.sections.all()
        )
        AttributeValue.objects.bulk_create(
            AttributeValue(intervention=copy, definition_id=v.definition_id, value=v.value)
            for v in intervention.attribute_values.all()
        )
    return copy


def intervention_delete(*, intervention: Intervention) -> None:
    if intervention_has_segments(intervention):
        raise ServiceError(
            _("“%(title)s” has coded segments and cannot be deleted.")
            % {"title": intervention.title}
        )
    intervention.delete()


# Sections ----------------------------------------------------------------------------------


def sections_rebuild(*, intervention: Intervention, headings: Sequence[str] = ()) -> list[Section]:
    """Sections from the document's headings (`headings`, from its structure) or else from the
    text's; 'Samenvatting', 'Onderbouwing' and a contents list are not coded."""
    sections = [
        Section(
            intervention=intervention,
            heading=span.heading[:300],
            start=span.start,
            end=span.end,
            excluded=fold_header(span.heading) in UNCODED_HEADINGS,
        )
        for span in detect_sections(intervention.text, headings)
        if span.start < span.end
    ]
    return Section.objects.bulk_create(sections)


def sections_detect(*, intervention: Intervention) -> list[Section]:
    """Find sections from headings again; keeps the not-coded mark of headings found before."""
    with transaction.atomic():
        excluded_before = {s.heading: s.excluded for s in intervention.sections.all() if s.heading}
        intervention.sections.all().delete()
        sections = sections_rebuild(intervention=intervention)
        for section in sections:
            if section.heading in excluded_before:
                section.excluded = excluded_before[section.heading]
                section.save(update_fields=["excluded"])
    return sections


def section_add(*, intervention: Intervention, heading: str) -> Section:
    """Mark by hand the line `heading` as the start of a section, up to the next section."""
    heading = heading.strip()
    if not heading:
        raise ServiceError(_("Type the heading as it stands in the text."))
    text = intervention.text
    start = _find_line(text, heading)
    if start is None:
        raise ServiceError(_("No line of the text reads “%(heading)s”.") % {"heading": heading})
    with transaction.atomic():
        sections = list(intervention.sections.select_for_update().order_by("start"))
        if any(s.start == start for s in sections):
            raise ServiceError(_("A section starts at that line already."))
        following = [s.start for s in sections if s.start > start]
        end = min(following) if following else len(text)
        for s in sections:
            # The section the new heading falls in now ends where the new one starts.
            if s.start < start < s.end:
                s.end = start
                s.save(update_fields=["end"])
        return Section.objects.create(
            intervention=intervention, heading=heading[:300], start=start, end=end
        )


def _find_line(text: str, line: str) -> int | None:
    offset = 0
    for candidate in text.split("\n"):
        if candidate.strip() == line or candidate.strip().rstrip(":") == line.rstrip(":"):
            return offset + (len(candidate) - len(candidate.lstrip()))
        offset += len(candidate) + 1
    return None


def section_set_excluded(*, section: Section, excluded: bool) -> Section:
    section.excluded = excluded
    section.save(update_fields=["excluded"])
    return section


def section_delete(*, section: Section) -> None:
    """Remove a section mark; the section before it grows to cover its text."""
    with transaction.atomic():
        previous = (
            Section.objects.filter(intervention=section.intervention, end=section.start)
            .order_by("-start")
            .first()
        )
        end = section.end
        section.delete()
        if previous is not None:
            previous.end = end
            previous.save(update_fields=["end"])


def _refuse_if_coded(intervention: Intervention, start: int, end: int, heading: str) -> None:
    """Sections are fixed once coding points into their text: coders chose their spans
    within the sections they saw, and reports group segments by section."""
    if (
        intervention.segments.filter(start__lt=end, end__gt=start).exists()
        or intervention.consensus_segments.filter(start__lt=end, end__gt=start).exists()
    ):
        raise ServiceError(
            _(
                "“%(heading)s” holds coded segments, so its sections can no longer be merged, "
                "split or renamed. Make a new version of the intervention to change them."
            )
            % {"heading": heading}
        )


def _section_locked(section: Section) -> tuple[Section, list[Section]]:
    """The section, fresh and locked, with all sections of its intervention in text order."""
    sections = list(
        Section.objects.select_for_update()
        .filter(intervention_id=section.intervention_id)
        .order_by("start")
    )
    fresh = next((s for s in sections if s.pk == section.pk), None)
    if fresh is None:
        raise ServiceError(_("That section is gone; reload the page."))
    return fresh, sections


def section_merge(*, section: Section) -> Section:
    """Join `section` and the section after it into one, under `section`'s heading."""
    with transaction.atomic():
        section, sections = _section_locked(section)
        following = next((s for s in sections if s.start >= section.end), None)
        if following is None:
            raise ServiceError(
                _("“%(heading)s” is the last section; there is nothing to merge it with.")
                % {"heading": section.heading}
            )
        intervention = section.intervention
        _refuse_if_coded(intervention, section.start, following.end, section.heading)
        end = following.end
        following.delete()
        section.end = end
        section.save(update_fields=["end"])
    return section


def section_split_points(section: Section, text: str) -> list[tuple[int, str]]:
    """Where `section` can be split: the start of each of its lines after the first that holds
    text, with that line (the new section's heading)."""
    points = []
    offset = section.start
    for line in text[section.start : section.end].split("\n"):
        if offset > section.start and line.strip():
            points.append((offset, line.strip()))
        offset += len(line) + 1
    return points


def section_split(*, section: Section, at: int) -> Section:
    """Split `section` at the line starting at offset `at`; that line heads the new section."""
    with transaction.atomic():
        section, _sections = _section_locked(section)
        intervention = section.intervention
        points = dict(section_split_points(section, intervention.text))
        if at not in points:
            raise ServiceError(
                _("Choose a line inside “%(heading)s” to split it at.")
                % {"heading": section.heading}
            )
        _refuse_if_coded(intervention, section.start, section.end, section.heading)
        end = section.end
        section.end = at
        section.save(update_fields=["end"])
        return Section.objects.create(
            intervention=intervention,
            heading=points[at][:300],
            start=at,
            end=end,
            excluded=section.excluded,
        )


def section_rename(*, section: Section, heading: str) -> Section:
    """Give `section` another heading; the text itself never changes."""
    heading = " ".join(heading.split())
    if not heading:
        raise ServiceError(_("A section needs a heading."))
    if len(heading) > 300:
        raise ServiceError(_("A heading may be at most 300 characters."))
    with transaction.atomic():
        section, _sections = _section_locked(section)
        _refuse_if_coded(section.intervention, section.start, section.end, section.heading)
        section.heading = heading
        section.save(update_fields=["heading"])
    return section


# Attributes --------------------------------------------------------------------------------


def attribute_define(*, study: Study, name: str, kind: str = "text") -> AttributeDefinition:
    name = " ".join(name.split())
    if not name or not fold_header(name):
        raise ServiceError(_("An attribute needs a name with letters or digits."))
    if any(matches_any(name, reserved) for reserved in RESERVED_HEADERS):
        # An intervention's own fields: an attribute of that name could never be imported.
        raise ServiceError(
            _("“%(name)s” is a field of every intervention already (title, databank, URL or text).")
            % {"name": name}
        )
    if kind not in AttributeDefinition.Kind.values:
        raise ServiceError(_("Unknown attribute kind “%(kind)s”.") % {"kind": kind})
    if AttributeDefinition.objects.filter(study=study, key=fold_header(name)).exists():
        raise ServiceError(_("This study has an attribute “%(name)s” already.") % {"name": name})
    position = study.attributes.count()
    try:
        with transaction.atomic():
            return AttributeDefinition.objects.create(
                study=study, name=name, kind=kind, position=position
            )
    except IntegrityError:
        raise ServiceError(
            _("This study has an attribute “%(name)s” already.") % {"name": name}
        ) from None


def attribute_delete(*, definition: AttributeDefinition) -> None:
    definition.delete()


def clean_attribute_value(
    definition: AttributeDefinition, raw: Any, *, locale: str | None = None
) -> str:
    """The stored form of a value, or ServiceError saying why it does not fit the attribute.

    A number is stored as a plain decimal with a point ("1250.5"), a date as ISO; both are read
    as `locale` (the study's language unless given) writes them: "1.250" is 1250 in Dutch.
    """
    value = " ".join(str(raw if raw is not None else "").split())
    if len(value) > 500:
        raise ServiceError(
            _("The value for “%(name)s” is longer than 500 characters.") % {"name": definition.name}
        )
    if not value or definition.kind not in READ_KINDS:
        return value
    if locale is None:
        locale = definition.study.language
    try:
        return READ_KINDS[definition.kind](value, locale).value
    except UnreadableValue:
        if definition.kind == AttributeDefinition.Kind.DATE:
            message = _("“%(name)s” takes a date (such as 15-09-2023); “%(value)s” is not one.")
        else:
            message = _("“%(name)s” takes a number; “%(value)s” is not one.")
        raise ServiceError(message % {"name": definition.name, "value": value}) from None


def show_attribute_value(definition: AttributeDefinition, value: str, locale: str) -> str:
    """A stored value as a user of `locale` writes it (and reads it back): 1250.5 as 1250,5."""
    if definition.kind == AttributeDefinition.Kind.NUMBER:
        return show_number(value, locale)
    if definition.kind == AttributeDefinition.Kind.DATE:
        return show_date(value, locale)
    return value


def attribute_values_set(
    *, intervention: Intervention, values: Iterable[tuple[AttributeDefinition, Any]]
) -> None:
    """Set an intervention's values (an empty value removes it); all or nothing."""
    locale = intervention.study.language
    cleaned = [
        (definition, clean_attribute_value(definition, raw, locale=locale))
        for definition, raw in values
    ]
    with transaction.atomic():
        for definition, value in cleaned:
            if definition.study_id != intervention.study_id:
                raise ServiceError(_("That attribute belongs to another study."))
            if value:
                AttributeValue.objects.update_or_create(
                    intervention=intervention, definition=definition, defaults={"value": value}
                )
            else:
                AttributeValue.objects.filter(
                    intervention=intervention, definition=definition
                ).delete()
