from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.projects.archive import ProjectFormatError
from coding.projects.services import ProjectError, project_import
from interventions.access import owner_of
from interventions.management.lookup import study_named
from veerkracht.lib.uploads import UploadTooLarge, read_file


class Command(BaseCommand):
    help = (
        "Import a REFI-QDA project (.qdpx from ATLAS.ti, MAXQDA, NVivo, QualCoder...): texts, "
        "codebook, each user's codings as a coder's segments, memos, notes and properties. "
        "All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument(
            "--user-map",
            nargs="+",
            default=[],
            metavar="REFIUSER=USERNAME",
            help=(
                "whose layer a REFI user's codings become (the REFI user by name, id or GUID; "
                "USERNAME 'consensus' for the consensus layer); default: a member of that "
                "name, else a new coder account named after it"
            ),
        )
        # Optional here only so that "--user-map A=B FILE" also works: argparse would give
        # FILE to the list of mappings; `handle` takes it back.
        parser.add_argument("file", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        pairs = list(options["user_map"])
        file = options["file"]
        if file is None and pairs and "=" not in pairs[-1]:
            file = pairs.pop()
        if file is None:
            raise CommandError("Name the .qdpx file to import.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        user_map: dict[str, str] = {}
        for item in pairs:
            refi, equals, username = item.partition("=")
            if not equals or not refi.strip() or not username.strip():
                raise CommandError(f"--user-map takes REFIUSER=USERNAME, not {item!r}.")
            user_map[refi.strip()] = username.strip()
        try:
            report = project_import(
                study=study,
                actor=owner_of(study),
                data=read_file(path),
                filename=path.name,
                user_map=user_map,
                allow_accounts=True,
            )
        except (UploadTooLarge, ProjectFormatError, ProjectError) as error:
            raise CommandError(f"Nothing imported: {error}") from None
        self.stdout.write(f"Imported project {path.name} into {study.slug}:")
        for line in report.lines():
            self.stdout.write(f"  {line}")
