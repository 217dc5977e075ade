from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interventions import metadata
from interventions.models import Study


class Command(BaseCommand):
    help = (
        "Export a study's interventions with their properties as CSV (for Dutch Excel: UTF-8, "
        "semicolons) or XLSX; the file imports back unchanged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="short name (slug) of the study")
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=["csv", "xlsx"],
            help="csv or xlsx; by default taken from the output file's extension, else csv",
        )
        parser.add_argument("-o", "--output", required=True, help="the file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["study"]
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"There is no study {slug!r}.")
        output = Path(options["output"])
        fmt = options["fmt"] or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
        content = metadata.export_table(study=study, fmt=fmt)
        try:
            output.write_bytes(content)
        except OSError as error:
            raise CommandError(f"Could not write {output}: {error.strerror}") from error
        count = study.interventions.count()
        self.stdout.write(f"Exported {count} interventions of {study.slug} to {output}")
