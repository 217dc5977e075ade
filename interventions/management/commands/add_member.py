from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from interventions import services
from interventions.management.lookup import study_named
from interventions.models import Role


class Command(BaseCommand):
    help = "Add a user to a study in a role; creates the user (unusable password) if absent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument("--role", required=True, choices=Role.values)

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_named(options["study"])
        username = options["user"].strip()
        if not username:
            raise CommandError("The username is empty.")
        user_model = get_user_model()
        try:
            with transaction.atomic():
                user = user_model.objects.filter(username=username).first()
                created = user is None
                if user is None:
                    user = user_model(username=username)
                    user.set_unusable_password()
                    user.full_clean(exclude=["password"])
                    user.save()
                membership = services.membership_add(study=study, user=user, role=options["role"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        except services.ServiceError as error:
            raise CommandError(str(error)) from None
        note = " (new user, no password yet)" if created else ""
        self.stdout.write(f"{username}{note} is {membership.role} in {study.slug}")
