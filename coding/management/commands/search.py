from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.analysis.search import SearchError, search, segments_autocode
from coding.codebook.services import code_paths
from coding.codebook.tree import PATH_SEPARATOR, path_string
from coding.models import Code
from coding.segments import SegmentError
from interventions.management.lookup import study_named, user_named


class Command(BaseCommand):
    help = (
        "Search a study's texts (case and diacritics ignored; 'word*' for a prefix; "
        '"a phrase" in quotes) and print how many interventions and hits. With --code PATH '
        "--coder USERNAME, code every hit (its own span) in that coder's layer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("query", help="what to search for")
        parser.add_argument("--whole-word", action="store_true")
        parser.add_argument("--regex", action="store_true", help="the query is a regex")
        parser.add_argument(
            "--coded-only", action="store_true", help="leave out sections that are not coded"
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--code", help=f"code path, names joined with '{PATH_SEPARATOR}'")
        parser.add_argument("--coder", help="username whose layer gets the segments")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        if bool(options.get("code")) != bool(options.get("coder")):
            raise CommandError("Auto-coding needs both --code PATH and --coder USERNAME.")
        try:
            result = search(
                study=study,
                query=options["query"],
                whole_word=options["whole_word"],
                as_regex=options["regex"],
                coded_only=options["coded_only"],
            )
        except SearchError as error:
            raise CommandError(str(error)) from None
        summary = result.as_json()
        if options["format"] == "json":
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(
                f"{summary['hits']} hits in {summary['interventions']} of "
                f"{result.n_interventions} interventions"
            )
            for title, hits in result.per_intervention.items():
                self.stdout.write(f"  {hits}\t{title}")
        if options.get("code"):
            self._autocode(study, result, options)

    def _autocode(self, study: Any, result: Any, options: dict[str, Any]) -> None:
        coder = user_named(options["coder"])
        wanted = options["code"].strip()
        paths = code_paths(study)
        matches = [pk for pk, path in paths.items() if path_string(path) == wanted]
        if len(matches) != 1:
            raise CommandError(f"No code with the path {wanted!r} in {study.slug}.")
        code = Code.objects.get(pk=matches[0])
        spans = [(hit.intervention_id, hit.start, hit.end) for hit in result.hits]
        if not spans:
            line = "Created 0 segments (nothing found)."
            (self.stderr if options["format"] == "json" else self.stdout).write(line)
            return
        try:
            done = segments_autocode(
                study=study, coder=coder, code=code, spans=spans, query=options["query"]
            )
        except SegmentError as error:
            raise CommandError(str(error)) from None
        line = f"Created {len(done.created)} segments of {wanted} for {coder.username}" + (
            f" ({done.skipped} hits were coded so already)" if done.skipped else ""
        )
        # With --format json standard output stays one JSON document.
        (self.stderr if options["format"] == "json" else self.stdout).write(line)
