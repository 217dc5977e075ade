"""Build the study the load test codes: run before `locust`, against the load database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/veerkracht_load \\
        .venv/bin/python benchmarks/load/setup_study.py benchmarks/load/plan.json

It migrates the database named in DATABASE_URL, refuses one that already holds users (it is
meant for a database of its own), and makes: a study owned by `eigenaar`; 50 coders
`coder01`..`coder50` (password `load-test-wachtwoord`), each assigned every text; 10
interventions of about 3,000 Dutch-looking words; a codebook of 7 themes with 4 codes each.
The plan it writes holds what the simulated coders need: the study, the texts' UUIDs with word
spans (start, end, quote) to code, and the codes' UUIDs.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veerkracht.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from coding.agreement.assignments import assignment_create  # noqa: E402
from coding.codebook import services as codebook  # noqa: E402
from interventions.models import Intervention, Role  # noqa: E402
from interventions.services import membership_add, study_create  # noqa: E402

CODERS = 50
TEXTS = 10
WORDS_PER_TEXT = 3000
PASSWORD = "load-test-wachtwoord"
WORDS = (  # noqa: SIM905
    "het gezin de ouders kinderen hulpverlener coach netwerk school buurt veerkracht "
    "hulpbronnen steun opvoeding vaardigheden vertrouwen samen thuis wekelijks gesprek "
    "doelen aanpak begeleiding zorg jeugdhulp problemen stress armoede schulden "
    "huisvesting werk inkomen identiteit cultuur geloof betekenis gehechtheid structuur "
    "regels betrokkenheid zelfvertrouwen empathie participatie materiële culturele één café"
).split()


def text_of(rng: random.Random) -> str:
    paragraphs = []
    left = WORDS_PER_TEXT
    while left > 0:
        n = min(left, rng.randint(40, 120))
        paragraphs.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
        left -= n
    return "\n".join(paragraphs)


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Every word of the text as (start, end, quote) in code points."""
    spans, start = [], 0
    for word in text.replace("\n", " ").split(" "):
        end = start + len(word.rstrip("."))
        if end > start:
            spans.append((start, end, text[start:end]))
        start += len(word) + 1
    return spans


def main(plan_path: str) -> None:
    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    if users.exists():
        sys.exit("The load database already holds users; drop and create it first.")
    owner = users.create_user("eigenaar", password=PASSWORD)
    study = study_create(name="Belastingtest", owner=owner, template="empty")
    themes = [codebook.code_create(study=study, actor=owner, name=f"Thema {t}") for t in range(7)]
    codes = [
        codebook.code_create(study=study, actor=owner, name=f"Code {t}.{c}", parent=theme)
        for t, theme in enumerate(themes)
        for c in range(4)
    ]
    rng = random.Random(15)
    texts = [
        Intervention.objects.create(study=study, title=f"Interventie {n:02d}", text=text_of(rng))
        for n in range(TEXTS)
    ]
    coders = []
    for n in range(1, CODERS + 1):
        coder = users.create_user(f"coder{n:02d}", password=PASSWORD)
        membership_add(study=study, user=coder, role=Role.CODER)
        assignment_create(study=study, actor=owner, coder=coder, interventions=texts, method="all")
        coders.append(coder.username)
    plan = {
        "study": study.slug,
        "password": PASSWORD,
        "coders": coders,
        "codes": [str(code.uuid) for code in codes],
        "texts": [{"uuid": str(text.uuid), "spans": word_spans(text.text)} for text in texts],
    }
    Path(plan_path).write_text(json.dumps(plan), encoding="utf-8")
    print(f"Study {study.slug}: {len(coders)} coders, {len(texts)} texts, {len(codes)} codes.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/load/plan.json")
