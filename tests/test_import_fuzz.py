"""A fuzz corpus over every import, on the web path and the management command.

The corpus is generated here, deterministically: for each importer a few valid seed files,
each mutated in the ways damaged and hostile files differ from good ones (cut short, bytes
flipped or cut out, NUL bytes, 5,000-digit numbers and Infinity, another format's bytes under
this name, random bytes, repeated content, deep nesting, formula and script text), plus
hand-made cases such as `huge_number.json`. Every case must end in one of two ways:

- refused with a message (HTTP 400 on the web, CommandError from the command) and not one row
  of the corpus, codebook or coding changed (counted before and after): no partial import;
- accepted as a whole (HTTP 302 on the web, no error from the command);

never a server error or another exception, and within `CASE_SECONDS` (no hang).

To fuzz one more importer, add an `Importer` row to `IMPORTERS`: its seed files, how the web
posts one file (or None for a command-only import) and how the command takes a path. Every
mutation then runs over it. The .qdpx project import is fuzzed through its upload, preview and
confirm (a job that fails counts as refused).
"""

from __future__ import annotations

import io
import json
import random
import signal
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from coding import segments as seg
from coding.codebook import files as codebook_files
from coding.codebook import services as codebook
from coding.codebook.qdc import to_qdc
from coding.codebook.tree import CodeNode
from coding.models import Code, CodingEvent, Segment
from interventions.models import AttributeDefinition, AttributeValue, Intervention, Section
from tests.conftest import Cast

CASE_SECONDS = 10
TEXT = (
    "Samenvatting\nHet gezin leert omgaan met tegenslag.\n\nAanpak\n"
    "Ouders oefenen thuis met nieuwe vaardigheden; de coach geeft feedback. "
    "Het netwerk van buren en school steunt de kinderen. Coördinatie, één gezin, één plan.\n"
)


# Seed files ----------------------------------------------------------------------------------


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Aanpak", level=2)
    for line in TEXT.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    for n, line in enumerate(TEXT.splitlines()):
        pdf.drawString(72, 760 - 16 * n, line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


METADATA_ROWS = [
    ["Interventie", "Primaire doelgroep", "Leeftijd primaire doelgroep", "Setting", "Hoofddoel"],
    ["Gezin Centraal", "Ouders", "0-18", "Thuis", "Afname problemen"],
    ["Samen Sterk", "Gezin", "4-12", "Thuis of zorginstelling", "Versterken van hulpbronnen"],
]
TREE = [
    CodeNode(
        name="Sociale hulpbronnen",
        definition="Banden thuis, op school en in de buurt.",
        children=[CodeNode(name="Doelen", example="“Ouders oefenen thuis.”"), CodeNode("Inhoud")],
    ),
    CodeNode(name="Veerkracht", definition="De tekst noemt veerkracht.", origin="inductive"),
]


def text_seeds() -> dict[str, bytes]:
    html = f"<html><head><title>Gezin</title></head><body><main><h2>Aanpak</h2><p>{TEXT}</p>"
    return {
        "gezin.txt": TEXT.encode("utf-8"),
        "gezin.html": (html + "</main></body></html>").encode("utf-8"),
        "gezin.docx": _docx(),
        "gezin.pdf": _pdf(),
    }


def metadata_seeds() -> dict[str, bytes]:
    csv_text = "\r\n".join(";".join(row) for row in METADATA_ROWS) + "\r\n"
    return {
        "eigenschappen.csv": csv_text.encode("utf-8"),
        "eigenschappen.xlsx": _xlsx(METADATA_ROWS),
    }


def codebook_seeds() -> dict[str, bytes]:
    return {
        "codeboek.json": codebook_files.to_json(TREE),
        "codeboek.csv": codebook_files.to_csv(TREE),
        "codeboek.xlsx": codebook_files.to_xlsx(TREE),
        "codeboek.qdc": to_qdc(TREE),
    }


def segment_seeds() -> dict[str, bytes]:
    start = TEXT.index("Ouders")
    rows = [
        ["intervention", "code", "start", "end", "memo", "coder", "text"],
        ["Gezin Centraal", "Sociaal", str(start), str(start + 6), "memo", "carol", "Ouders"],
        ["Gezin Centraal", "Sociaal", str(start + 7), str(start + 14), "", "carol", "oefenen"],
    ]
    return {"segmenten.csv": ("\r\n".join(",".join(r) for r in rows) + "\r\n").encode()}


# Mutations -----------------------------------------------------------------------------------

HOSTILE = [
    b"\x00",
    b"9" * 5000,
    b"1e999999",
    b"-Infinity",
    b"=cmd|' /C calc'!A0",
    b"<script>alert(1)</script>",
    b"\xff\xfe\x00",
    b"\r\r\n\x1a",
    b'{"codes": [',
    b";" * 3000,
    "é\u0301\u200d👨‍👩‍👧".encode(),
]


def mutations(data: bytes, rng: random.Random, others: list[bytes]) -> Iterator[bytes]:
    """Damaged and hostile variants of one valid file."""
    yield b""
    yield data[: rng.randrange(1, max(2, len(data)))]
    flipped = bytearray(data)
    for _ in range(1 + len(data) // 200):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    yield bytes(flipped)
    cut = rng.randrange(len(data))
    yield data[:cut] + data[cut + rng.randrange(1, 400) :]
    for token in HOSTILE:
        at = rng.randrange(len(data) + 1)
        yield data[:at] + token + data[at:]
    yield rng.randbytes(rng.randrange(1, 4000))
    yield rng.choice(others)
    yield data * 200


# Hand-made cases -------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _nested_json(depth: int) -> bytes:
    return ('{"codes": ' + "[" * depth + "]" * depth + "}").encode()


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "qdpx"


def project_seeds() -> dict[str, bytes]:
    """REFI-QDA projects in the shapes four programs write (tests/fixtures/qdpx)."""
    return {path.name: path.read_bytes() for path in sorted(FIXTURES.glob("*.qdpx"))}


def _qdpx(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_QDE = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="fuzz">'
)
EXTRA_PROJECT_CASES = [
    ("leeg.qdpx", _qdpx({})),
    ("alleen-tekst.qdpx", _qdpx({"project.qde": _QDE})),
    (
        "xxe.qdpx",
        _qdpx(
            {
                "project.qde": b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM '
                b'"file:///etc/passwd">]><Project xmlns="urn:QDA-XML:project:1.0" '
                b'name="&x;" origin="fuzz"/>'
            }
        ),
    ),
    ("bom.qdpx", _qdpx({"project.qde": b"\xef\xbb\xbf" + _QDE + b"</Project>"})),
]


class _Refused:
    """A web import that ended refused after its preview: its job failed."""

    status_code = 400


def _project_web(client: Client, cast: Cast, name: str, data: bytes) -> Any:
    """Upload (parse and preview), then confirm, as the owner does; a job that fails counts as
    refused, so its rows are checked too."""
    from coding.models import ProjectImportJob

    response = client.post(f"/s/{cast.study.slug}/project/import/", {"file": _upload(name, data)})
    if response.status_code != 302:
        return response
    job = ProjectImportJob.objects.filter(study=cast.study).order_by("-pk").first()
    assert job is not None
    confirmed = client.post(f"/s/{cast.study.slug}/project/import/{job.uuid}/confirm/")
    if confirmed.status_code != 302:
        return confirmed
    job.refresh_from_db()
    return _Refused() if job.status == "failed" else confirmed


EXTRA_CASES: dict[str, list[tuple[str, bytes]]] = {
    "texts": [
        ("leeg.docx", _zip({"word/document.xml": b"<w:document/>"})),
        ("bom.docx", _zip({"word/document.xml": b"\x00" * 20_000_000})),
        ("oud.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
        ("geen.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF"),
        ("utf16.txt", "Ouders\x00oefenen".encode("utf-16")),
        ("nul.html", b"<html><body>Ouders\x00oefenen</body></html>"),
    ],
    "metadata": [
        ("nul.csv", b"Interventie;Setting\r\nGezin\x00Centraal;Thuis\r\n"),
        ("breed.csv", (";".join(f"Kolom {n}" for n in range(3000)) + "\r\nA\r\n").encode()),
        ("getal.csv", b"Interventie;Leeftijd\r\nGezin;" + b"9" * 5000 + b"\r\n"),
        ("lang.csv", b"Interventie;Setting\r\n" + b"Gezin;" + b"x" * 200_000 + b"\r\n"),
        ("formule.xlsx", _zip({"[Content_Types].xml": b"<Types/>"})),
    ],
    "codebook": [
        ("huge_number.json", b'{"codes": [{"name": "Groot", "position": 1' + b"0" * 5000 + b"}]}"),
        ("oneindig.json", b'{"codes": [{"name": "Nan", "weight": Infinity}]}'),
        ("nul.json", b'{"codes": [{"name": "Sociaal\\u0000Doelen"}]}'),
        ("diep.json", _nested_json(50_000)),
        ("lijst.json", b'[{"name": "A"}, {"name": "a"}]'),
        ("lang.json", json.dumps({"codes": [{"name": "A", "definition": "x" * 50_000}]}).encode()),
        ("veel.json", json.dumps({"codes": [{"name": f"C{n}"} for n in range(5_001)]}).encode()),
        ("entiteit.qdc", b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><CodeBook>&a;</CodeBook>'),
    ],
    "project": EXTRA_PROJECT_CASES,
    "segments": [
        ("nul.csv", b"intervention,code,start,end\r\nGezin\x00Centraal,Sociaal,0,6\r\n"),
        ("groot.csv", b"intervention,code,start,end\r\nGezin Centraal,Sociaal,0," + b"9" * 5000),
        ("negatief.csv", b"intervention,code,start,end\r\nGezin Centraal,Sociaal,-5,2\r\n"),
    ],
}


# The importers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Importer:
    """One import: its seed files, the web post of one file (None: command only), the command."""

    name: str
    seeds: Callable[[], dict[str, bytes]]
    web: Callable[[Client, Cast, str, bytes], Any] | None
    command: Callable[[Cast, Path], None]


def _upload(filename: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(filename, data, content_type="application/octet-stream")


IMPORTERS = [
    Importer(
        "texts",
        text_seeds,
        lambda client, cast, name, data: client.post(
            f"/s/{cast.study.slug}/interventions/upload/",
            {"documents": [_upload(name, data)], "source": "NJi"},
        ),
        lambda cast, path: call_command(
            "import_interventions", "--study", cast.study.slug, str(path), stdout=io.StringIO()
        ),
    ),
    Importer(
        "metadata",
        metadata_seeds,
        lambda client, cast, name, data: client.post(
            f"/s/{cast.study.slug}/import/", {"file": _upload(name, data)}
        ),
        lambda cast, path: call_command(
            "import_interventions", "--study", cast.study.slug, str(path), stdout=io.StringIO()
        ),
    ),
    Importer(
        "codebook",
        codebook_seeds,
        lambda client, cast, name, data: client.post(
            f"/s/{cast.study.slug}/codebook/import/", {"file": _upload(name, data)}
        ),
        lambda cast, path: call_command(
            "import_codebook", "--study", cast.study.slug, str(path), stdout=io.StringIO()
        ),
    ),
    Importer(
        "project",
        project_seeds,
        _project_web,
        lambda cast, path: call_command(
            "import_project", "--study", cast.study.slug, str(path), stdout=io.StringIO()
        ),
    ),
    Importer(
        "segments",
        segment_seeds,
        None,
        lambda cast, path: call_command(
            "import_segments",
            "--study",
            cast.study.slug,
            "--coder",
            "carol",
            str(path),
            stdout=io.StringIO(),
        ),
    ),
]


def corpus() -> list[tuple[str, str, bytes]]:
    """(importer, file name, bytes) for every case, the same on every run."""
    all_seeds = {i.name: i.seeds() for i in IMPORTERS}
    every_file = [data for seeds in all_seeds.values() for data in seeds.values()]
    cases: list[tuple[str, str, bytes]] = []
    for importer in IMPORTERS:
        for n, (name, data) in enumerate(sorted(all_seeds[importer.name].items())):
            rng = random.Random(f"{importer.name}-{n}")
            others = [other for other in every_file if other != data]
            cases.extend((importer.name, name, bad) for bad in mutations(data, rng, others))
        cases.extend((importer.name, name, data) for name, data in EXTRA_CASES[importer.name])
    return cases


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Intervention,
            Section,
            AttributeDefinition,
            AttributeValue,
            Code,
            Segment,
            CodingEvent,
        )
    )


class CaseTooSlow(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise CaseTooSlow


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    """Run `work` with a hard limit of `CASE_SECONDS` (a hang fails the case)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    started = time.perf_counter()
    try:
        return work(), time.perf_counter() - started
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def study(cast: Cast) -> Cast:
    """The cast's study with what segments and an update need: a text and a code."""
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    codebook.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    seg.segment_create(
        intervention=Intervention.objects.get(pk=cast.intervention.pk),
        coder=cast.coder_b,
        code=Code.objects.get(study=cast.study, name="Sociaal"),
        start=TEXT.index("netwerk"),
        end=TEXT.index("netwerk") + len("netwerk"),
        quote="netwerk",
    )
    return cast


def test_the_corpus_has_at_least_200_malformed_files_over_every_importer() -> None:
    cases = corpus()
    assert len(cases) >= 200
    assert {name for name, _f, _d in cases} == {i.name for i in IMPORTERS}


@pytest.mark.parametrize("importer", IMPORTERS, ids=[i.name for i in IMPORTERS])
def test_every_malformed_file_is_refused_whole_or_imported_whole_quickly(
    study: Cast,
    importer: Importer,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    client = Client()
    client.force_login(study.owner)
    failures = []
    cases = [(name, data) for kind, name, data in corpus() if kind == importer.name]
    for number, (name, data) in enumerate(cases):
        label = f"{importer.name} #{number} {name} ({len(data)} bytes)"
        post = importer.web
        if post is not None:
            before = counts()
            try:
                # A big file becomes a job whose task runs after the commit, here at once.
                with django_capture_on_commit_callbacks(execute=True):
                    response, seconds = timed(partial(post, client, study, name, data))
            except CaseTooSlow:
                failures.append(f"{label}: web took over {CASE_SECONDS} s")
                continue
            if response.status_code not in (302, 400):
                failures.append(f"{label}: web answered {response.status_code}")
            elif response.status_code == 400 and counts() != before:
                failures.append(f"{label}: web refused it but changed {before} to {counts()}")
            elif seconds > CASE_SECONDS:
                failures.append(f"{label}: web took {seconds:.1f} s")
        path = tmp_path / f"{number}-{name}"
        path.write_bytes(data)
        before = counts()
        try:
            timed(partial(importer.command, study, path))
        except CommandError:
            if counts() != before:
                failures.append(f"{label}: command refused it but changed {before} to {counts()}")
        except CaseTooSlow:
            failures.append(f"{label}: command took over {CASE_SECONDS} s")
        except Exception as error:  # noqa: BLE001 (any other error is what this test finds)
            failures.append(f"{label}: command raised {type(error).__name__}: {error}"[:300])
    assert failures == []
