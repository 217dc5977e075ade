from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coding.agreement.assignments import (
    AssignmentError,
    assignment_create,
    sample_interventions,
    strata_for,
)
from interventions.management.lookup import study_named, user_named
from interventions.models import Intervention


class Command(BaseCommand):
    help = "Assign interventions to a coder: named ones, all, or a seeded random sample."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("--coder", required=True, help="username of the coder")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--intervention", action="append", metavar="TITLE", help="a title; may repeat"
        )
        which.add_argument("--all", action="store_true", help="every intervention of the study")
        which.add_argument("--sample", type=float, metavar="PCT", help="a random percentage")
        parser.add_argument("--seed", type=int, help="seed of the random sample (required)")
        parser.add_argument("--stratify", default="", help="attribute name to stratify by")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        coder = user_named(options["coder"])
        everything = list(Intervention.objects.filter(study=study).order_by("title"))
        percent, seed, method = None, None, "all"
        if options["intervention"]:
            method = "list"
            by_title = {i.title: i for i in everything}
            missing = [t for t in options["intervention"] if t not in by_title]
            if missing:
                raise CommandError(f"No intervention titled {missing[0]!r} in {study.slug}.")
            chosen = [by_title[t] for t in dict.fromkeys(options["intervention"])]
        elif options["all"]:
            chosen = everything
        else:
            method, percent, seed = "sample", options["sample"], options["seed"]
            if seed is None:
                raise CommandError("--sample needs --seed, so the sample can be drawn again.")
            strata = None
            if options["stratify"]:
                definition = study.attributes.filter(name__iexact=options["stratify"]).first()
                if definition is None:
                    raise CommandError(f"No attribute {options['stratify']!r} in {study.slug}.")
                strata = strata_for(definition)
            try:
                chosen = sample_interventions(everything, percent=percent, seed=seed, strata=strata)
            except AssignmentError as error:
                raise CommandError(str(error)) from None
        try:
            new = assignment_create(
                study=study,
                actor=None,
                coder=coder,
                interventions=chosen,
                method=method,
                percent=percent,
                seed=seed,
                stratify_by=options["stratify"],
            )
        except AssignmentError as error:
            raise CommandError(str(error)) from None
        how = "by title" if method == "list" else "all"
        if method == "sample":
            how = f"{percent:g}% sample, seed {seed}"
        self.stdout.write(
            f"Assigned {len(chosen)} interventions of {study.slug} to {coder.username} "
            f"({how}; {len(new)} new)"
        )
        for intervention in chosen:
            self.stdout.write(f"  {intervention.title}")
