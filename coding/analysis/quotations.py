"""The quotation report of one code for the results chapter, as a Word document: the code's
definition, then every quote with its intervention and the properties chosen, under a line that
says which layer, filter and codebook version it shows and when it was made."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

import docx
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from docx.shared import Pt

from coding.analysis.report import SourcedRow
from coding.codebook.files import xml_text
from coding.codebook.outline import display_path_string
from coding.models import Code
from interventions.models import AttributeDefinition, AttributeValue, Intervention


def quotation_docx(
    *,
    code: Code,
    code_path: str,
    rows: Sequence[SourcedRow],
    properties: Sequence[AttributeDefinition],
    about: str,
) -> bytes:
    """`rows` of the code report as a document; `properties` are shown with each quote."""
    values: dict[tuple[object, int], str] = {}
    if properties and rows:
        ids = Intervention.objects.filter(
            uuid__in={row.intervention_uuid for row in rows}
        ).values_list("pk", "uuid")
        uuid_of = dict(ids)
        for intervention_id, definition_id, value in AttributeValue.objects.filter(
            intervention_id__in=list(uuid_of), definition__in=list(properties)
        ).values_list("intervention_id", "definition_id", "value"):
            values[(uuid_of[intervention_id], definition_id)] = value
    document = docx.Document()
    document.add_heading(xml_text(display_path_string(code_path)), level=1)
    made = timezone.localtime().strftime("%d-%m-%Y %H:%M")
    meta = document.add_paragraph(xml_text(f"{about} · {made}"))
    meta.runs[0].font.size = Pt(9)
    for label, text in (
        (_("Definition"), code.definition),
        (_("Inclusion criteria"), code.inclusion),
        (_("Exclusion criteria"), code.exclusion),
    ):
        if text:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(xml_text(text))
    by_intervention: dict[str, list[SourcedRow]] = defaultdict(list)
    for row in rows:
        by_intervention[row.intervention_title].append(row)
    document.add_paragraph(
        # Two counts, each with its own plural: "1 citaat uit 2 interventies."
        _("%(quotes)s from %(interventions)s.")
        % {
            "quotes": ngettext("%(n)s quote", "%(n)s quotes", len(rows)) % {"n": len(rows)},
            "interventions": ngettext(
                "%(k)s intervention", "%(k)s interventions", len(by_intervention)
            )
            % {"k": len(by_intervention)},
        }
    )
    for title, quotes in by_intervention.items():
        document.add_heading(xml_text(title), level=2)
        shown = [
            f"{definition.name}: {values[(quotes[0].intervention_uuid, definition.pk)]}"
            for definition in properties
            if (quotes[0].intervention_uuid, definition.pk) in values
        ]
        if shown:
            line = document.add_paragraph(xml_text(" · ".join(shown)))
            line.runs[0].italic = True
        for row in quotes:
            paragraph = document.add_paragraph(style="Quote")
            paragraph.add_run(xml_text(f"“{row.quote}”"))
            source = paragraph.add_run(
                xml_text(f" ({row.source}; {display_path_string(row.code_path)})")
            )
            source.font.size = Pt(8)
            if row.memo:
                memo = document.add_paragraph()
                memo.add_run(_("Memo:") + " ").bold = True
                memo.add_run(xml_text(row.memo))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
