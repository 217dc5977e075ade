from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.agreement.reliability import UNITS, command_view
from coding.agreement.runs import AgreementError, clean_params, compute_for_study
from interventions.management.lookup import study_named


class Command(BaseCommand):
    help = "Compute inter-rater agreement and print it as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument(
            "--coders",
            default="",
            help=(
                "usernames, comma-separated (default: the members with assignments, or with "
                "segments when nobody is assigned)"
            ),
        )
        parser.add_argument("--unit", choices=UNITS, default="intervention")
        parser.add_argument("--overlap", type=float, default=0.9, help="segment matching, 0-1")
        parser.add_argument("--bootstrap", type=int, default=0, metavar="N")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        coders = [c.strip() for c in options["coders"].split(",") if c.strip()]
        try:
            params = clean_params(
                study=study,
                coders=coders or None,
                unit=options["unit"],
                overlap=options["overlap"],
                bootstrap=options["bootstrap"],
                seed=options["seed"],
            )
            report, _segment_ids = compute_for_study(study, params)
        except AgreementError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(command_view(report), ensure_ascii=False, indent=2))
