from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.segment_table import segments_import
from coding.segments import SegmentError
from interventions.management.lookup import study_named, user_named
from veerkracht.lib.uploads import UploadTooLarge, read_file


class Command(BaseCommand):
    help = (
        "Import one coder's segments from a CSV file with the columns intervention (title), code "
        "(path with ' > '), start, end (code points) and optionally memo; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("--coder", required=True, help="username of the coder")
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        coder = user_named(options["coder"])

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        try:
            created = segments_import(
                study=study, coder=coder, filename=path.name, data=read_file(path)
            )
        except (UploadTooLarge, SegmentError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Imported {len(created)} segments for {coder.username} into {study.slug}"
        )
