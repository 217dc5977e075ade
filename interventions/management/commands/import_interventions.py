from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interventions import metadata, services
from interventions.models import Study
from interventions.textimport import SUPPORTED_EXTENSIONS, TextImportError, extract_document
from veerkracht.lib.uploads import UploadTooLarge, read_file


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class Command(BaseCommand):
    help = (
        "Import interventions into a study: a .csv/.xlsx sheet of properties (a Tekst/Text column "
        "may hold the text), one .txt/.docx/.pdf/.html/.htm file, or a folder of such files. "
        "A title the study has already updates that intervention; new sheet columns become new "
        "properties. All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="short name (slug) of the study")
        parser.add_argument(
            "--source", default="", help="databank of the text files (sheets have a column)"
        )
        parser.add_argument("file", help="a sheet, a text file, or a folder of text files")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["study"]
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"There is no study {slug!r}.")
        path = Path(options["file"])
        try:
            if path.is_dir():
                self._import_folder(study, path, options["source"])
            elif not path.is_file():
                raise CommandError(f"{path} does not exist.")
            elif path.suffix.lower() in metadata.TABLE_EXTENSIONS:
                self._import_table(study, path)
            else:
                self._import_texts(study, [path], options["source"])
        except (
            UploadTooLarge,
            metadata.MetadataError,
            TextImportError,
            services.ServiceError,
        ) as error:
            raise CommandError(_one_line(error)) from error

    def _import_table(self, study: Study, path: Path) -> None:
        table = metadata.read_table(path.name, read_file(path), locale=study.language)
        # Unlike the web preview, nobody is asked which new columns to keep: all of them are.
        new_attributes = metadata.unknown_columns(study=study, table=table)
        summary = metadata.import_apply(study=study, table=table, new_attributes=new_attributes)
        message = (
            f"Imported {len(table['rows'])} rows into {study.slug}: {summary['added']} added, "
            f"{summary['updated']} updated, {summary['unchanged']} unchanged"
        )
        if summary["attributes_added"]:
            message += "; new attributes: " + ", ".join(summary["attributes_added"])
        self.stdout.write(message)

    def _import_folder(self, study: Study, folder: Path, source: str) -> None:
        entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
        texts = [e for e in entries if e.is_file() and e.suffix.lower() in SUPPORTED_EXTENSIONS]
        skipped = [e.name + ("/" if e.is_dir() else "") for e in entries if e not in texts]
        if skipped:
            self.stdout.write(
                f"Skipped {len(skipped)} that are not text files: {', '.join(skipped)}"
            )
        if not texts:
            raise CommandError(
                f"{folder} holds no {', '.join(SUPPORTED_EXTENSIONS)} files (it is not searched "
                "recursively)."
            )
        self._import_texts(study, texts, source)

    def _import_texts(self, study: Study, paths: list[Path], source: str) -> None:
        # Every file is read first: one unreadable file stops the import before anything is
        # stored.
        documents = [(path.name, extract_document(path.name, read_file(path))) for path in paths]
        report = metadata.interventions_from_texts(
            study=study,
            texts=[(name, document.text) for name, document in documents],
            source=source,
            headings={name: document.headings for name, document in documents},
        )
        noun = "file" if len(paths) == 1 else "files"
        self.stdout.write(
            f"Imported {len(paths)} {noun} into {study.slug}: {report.added} added, "
            f"{report.updated} updated"
        )
