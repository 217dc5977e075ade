from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from coding.models import Segment
from interventions import metadata, services
from interventions.demo.round import round_finish, round_play
from interventions.models import Role, Study

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_SLUG = "veerkracht-demo"
DEMO_PASSWORD = "veerkracht-demo"
# (username, role, who they are in the story)
DEMO_USERS = [
    ("student", Role.OWNER, "thesis student, owner"),
    ("begeleider", Role.SUPERVISOR, "supervisor"),
    ("beoordelaar", Role.CODER, "second rater"),
]


class Command(BaseCommand):
    help = (
        "Load the demo study (six fictional interventions) and its three users, with a round "
        "played: double coding, an agreement run, some consensus and a discussion; idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="do not print logins")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        played = None
        with transaction.atomic():
            users = {}
            for username, _role, _about in DEMO_USERS:
                user, created = user_model.objects.get_or_create(username=username)
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                users[username] = user
            study = Study.objects.filter(slug=DEMO_SLUG).first()
            if study is None:
                study = services.study_create(
                    name="Veerkracht in gezinsgerichte interventies (demo)",
                    slug=DEMO_SLUG,
                    description=(
                        "Voorbeeldstudie met zes verzonnen interventiebeschrijvingen: welke "
                        "hulpbronnen versterken gezinsgerichte interventies voor gezinnen met "
                        "meervoudige en complexe problemen?"
                    ),
                    template=Study.Template.VEERKRACHT,
                    owner=users["student"],
                )
                texts = [
                    (path.name, path.read_text(encoding="utf-8"))
                    for path in sorted((DEMO_DIR / "texts").glob("*.txt"))
                ]
                # A demo text's first line is its title; the file name is only a slug.
                titled = [(text.split("\n", 1)[0].strip() + ".txt", text) for _n, text in texts]
                metadata.interventions_from_texts(study=study, texts=titled, source="")
                csv_path = DEMO_DIR / "attributes.csv"
                table = metadata.read_table(
                    csv_path.name, csv_path.read_bytes(), locale=study.language
                )
                metadata.import_apply(study=study, table=table, new_attributes=[])
                self.stdout.write(
                    f"Loaded demo study {study.slug}: {study.interventions.count()} interventions"
                )
            else:
                self.stdout.write(f"Demo study {study.slug} is there already")
            for username, role, _about in DEMO_USERS:
                services.membership_add(study=study, user=users[username], role=role)
            # Also for a demo study loaded before the demo had its round (an older database).
            if not Segment.objects.filter(intervention__study=study).exists():
                played = round_play(study=study, users=users)
        if played is not None:
            run = round_finish(played.run)
            self.stdout.write(
                f"Played the demo round: {played.segments} segments by two raters, agreement "
                f"run {run.status}, {played.decisions} consensus decisions, an open discussion"
            )
        if not options["quiet_logins"]:
            self.stdout.write(f"Demo logins (password for all three: {DEMO_PASSWORD}):")
            for username, _role, about in DEMO_USERS:
                self.stdout.write(f"  {username:<12} {about}")
            self.stdout.write(
                "Log in as student to see the round under way: coding by two raters, an "
                "agreement report, consensus begun and an open discussion."
            )
