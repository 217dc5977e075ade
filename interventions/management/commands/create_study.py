from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interventions import services
from interventions.models import Study


class Command(BaseCommand):
    help = "Create a study owned by an existing user, optionally from the Veerkracht template."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", default="")
        parser.add_argument("--template", choices=Study.Template.values, default="empty")
        parser.add_argument("--owner", required=True, help="username of the owner (the student)")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user {options['owner']!r}; create it first.")
        try:
            study = services.study_create(
                name=options["name"],
                slug=options["slug"],
                template=options["template"],
                owner=owner,
            )
        except services.ServiceError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Created study {study.slug} ({study.name}) from template {study.template}, "
            f"owner {owner.username}, {study.attributes.count()} attributes"
        )
