from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.codebook import services
from coding.codebook.reading import read_codebook_file
from coding.codebook.tree import CodebookFormatError
from interventions.access import owner_of
from interventions.management.lookup import study_named
from veerkracht.lib.uploads import UploadTooLarge, read_file


class Command(BaseCommand):
    help = (
        "Import a codebook (.json, .csv, .xlsx, .qdc): fills an empty codebook or merges into the "
        "existing one, by GUID first and then by path."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        # The import is the owner's change to the codebook; a study without one has no one.
        actor = owner_of(study)
        try:
            nodes, dropped = read_codebook_file(path.name, read_file(path))
            report = services.codebook_import(study=study, actor=actor, nodes=nodes)
        except (UploadTooLarge, CodebookFormatError, services.CodebookError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Imported codebook into {study.slug}: {report.summary()}")
        for path_text in report.added:
            self.stdout.write(f"  added   {path_text}")
        for path_text in report.changed:
            self.stdout.write(f"  changed {path_text}")
        for line in report.renamed:
            self.stdout.write(f"  renamed {line}")
        for line in report.moved:
            self.stdout.write(f"  moved   {line}")
        for note in dropped:
            self.stdout.write(f"  dropped {note}")
