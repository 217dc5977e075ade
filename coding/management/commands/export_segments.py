from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.analysis.report import consensus_table
from coding.consensus.services import CONSENSUS
from coding.segment_table import segments_table
from coding.segments import table_export
from interventions.management.lookup import study_named, user_named
from interventions.models import Study


class Command(BaseCommand):
    help = (
        "Export a study's segments (every coder's, or one coder's) as csv or xlsx with the "
        "columns intervention, code, start, end, memo, coder, text; the csv imports back with "
        "import_segments. --coder consensus exports the consensus layer instead (coder "
        'column "consensus").'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument(
            "--coder",
            help="username: only this coder's segments; consensus: the consensus layer",
        )
        parser.add_argument("--format", required=True, choices=["csv", "xlsx"])
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        if options.get("coder") == CONSENSUS:
            headers, rows = consensus_table(study)
            self._write(study, headers, rows, options)
            return
        coder = None
        if options.get("coder"):
            coder = user_named(options["coder"])
        headers, rows = segments_table(study=study, coder=coder)
        self._write(study, headers, rows, options)

    def _write(
        self, study: Study, headers: list[str], rows: list[list[Any]], options: dict[str, Any]
    ) -> None:
        content = table_export(headers, rows, options["format"], title="Segments")
        output = Path(options["output"])
        try:
            output.write_bytes(content)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        self.stdout.write(f"Exported {len(rows)} segments of {study.slug} to {output}")
