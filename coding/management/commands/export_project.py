from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.projects.archive import ProjectFormatError
from coding.projects.services import ProjectError, project_export
from interventions.management.lookup import study_named


class Command(BaseCommand):
    help = (
        "Export a study as a REFI-QDA project (.qdpx): texts, codebook, every coder's segments "
        "(and the consensus layer as the user 'Consensus'), memos and properties."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("-o", "--output", required=True, help="file to write (.qdpx)")
        parser.add_argument(
            "--coders",
            help="only these coders' layers, comma-separated usernames ('consensus' for the "
            "consensus layer); default: every layer",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        coders = options["coders"].split(",") if options["coders"] is not None else None
        try:
            content = project_export(study=study, actor=None, coders=coders)
        except (ProjectError, ProjectFormatError) as error:
            raise CommandError(str(error)) from None
        output = Path(options["output"])
        try:
            output.write_bytes(content)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        self.stdout.write(f"Exported {study.slug} as a REFI-QDA project to {output}")
