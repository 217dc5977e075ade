from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.codebook.exports import FORMATS, export_codebook
from coding.models import Code
from interventions.management.lookup import study_named


class Command(BaseCommand):
    help = "Export a study's codebook as md, json, csv, xlsx, docx, svg or qdc."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        made = export_codebook(study=study, fmt=options["format"])
        output = Path(options["output"])
        try:
            output.write_bytes(made.content)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        n = Code.objects.filter(study=study).count()
        self.stdout.write(f"Exported {n} codes of {study.slug} as {options['format']} to {output}")
