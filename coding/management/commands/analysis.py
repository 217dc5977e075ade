from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from coding.analysis.tables import COUNTS, TABLES, AnalysisError, build, load_corpus, table_cells
from coding.consensus.services import CONSENSUS
from coding.segments import table_export
from interventions.management.lookup import study_named
from interventions.models import AttributeDefinition


class Command(BaseCommand):
    help = (
        "Print an analysis table of a study as JSON (or write it as csv/xlsx): code frequencies, "
        "the code × intervention matrix, a cross-tab by a property (--attribute) or code "
        "co-occurrence. Rows are code paths joined with ' > '; a code counts its descendants. "
        "--layer is a coder's username, or consensus (the default): the consensus layer where "
        "the team reconciled, every coder's segments elsewhere."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("--table", required=True, choices=TABLES)
        parser.add_argument("--attribute", help="property name (columns of a crosstab)")
        parser.add_argument("--layer", default=CONSENSUS, help="consensus or a username")
        parser.add_argument("--count", choices=COUNTS, default="interventions")
        parser.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        attribute = None
        if options["table"] == "crosstab":
            if not options.get("attribute"):
                raise CommandError("A crosstab needs --attribute NAME (a property of the study).")
            attribute = AttributeDefinition.objects.filter(
                study=study, name__iexact=options["attribute"]
            ).first()
            if attribute is None:
                names = ", ".join(study.attributes.values_list("name", flat=True)) or "none"
                raise CommandError(
                    f"No property {options['attribute']!r} in {study.slug} (properties: {names})."
                )
        try:
            corpus = load_corpus(
                study=study, viewer=None, layer=options["layer"], column_attribute=attribute
            )
            table = build(corpus, options["table"], options["count"])
        except AnalysisError as error:
            raise CommandError(str(error)) from None
        fmt = options["format"]
        if fmt == "json":
            content = json.dumps(table.as_json(), ensure_ascii=False, indent=2).encode()
        else:
            if not options.get("output"):
                raise CommandError(f"Writing {fmt} needs -o FILE.")
            headers, rows = table_cells(
                table,
                filters=f"property: {attribute.name}" if attribute else "",
                made=timezone.localtime().isoformat(timespec="seconds"),
            )
            content = table_export(headers, rows, fmt, title=table.table)
        if options.get("output"):
            output = Path(options["output"])
            try:
                output.write_bytes(content)
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror}") from None
            self.stdout.write(
                f"Wrote the {table.table} table of {study.slug} ({len(table.rows)} codes) to "
                f"{output}"
            )
        else:
            self.stdout.write(content.decode())
