"""How well sections are found, and how clean PDF text comes out (issue 12).

Run from the repository root: ``.venv/bin/python benchmarks/sections.py``.

Sections. Every text of `benchmarks/sections_corpus/` carries its headings marked by hand (a
line starting with "§ "); the six demo descriptions have theirs listed below. Each text is
also turned into a DOCX with Word heading styles and read back through the import, and the
PDF-like and report texts are rendered as PDFs (tests/documents.py: running header, a footer
"TNO 2023 R10055 n/N" that differs per page and sits mid-text on page 2, Dutch hyphenation at
line ends, one and two columns) and read back. For each document the headings the finder
gives are compared with the marked ones (by their text, a number prefix and a colon ignored):
precision, recall, and the misses and false headings by name. Target: both >= 0.9 overall.

PDF text. For every rendered PDF: page numbers or running header/footer left in the text
(target none), and hyphenation errors: every word of the extracted text that is not a word
of the source (a wrong join or a hyphen left in), listed.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veerkracht.settings")

import django  # noqa: E402

django.setup()

from pypdf import PdfReader  # noqa: E402

from interventions.textimport import (  # noqa: E402
    detect_sections,
    extract_document,
    extract_text,
)
from tests.documents import heading_docx, marked_paragraphs, report_pdf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "benchmarks" / "sections_corpus"
DEMO = ROOT / "interventions" / "demo" / "texts"
DEMO_HEADINGS = {
    "gezinsopname-de-lindehoeve.txt": "Samenvatting Doelgroep Doel Aanpak Onderbouwing Uitvoering",
    "kring-van-zeven.txt": "Samenvatting Doel Doelgroep Aanpak Uitvoering Onderbouwing "
    "Effectiviteit",
    "ouders-voorop.txt": "Samenvatting Doel Doelgroep Aanpak Uitvoering Onderbouwing Effectiviteit",
    "rustpunt-thuis.txt": "Samenvatting Doel Doelgroep Aanpak Uitvoering Onderbouwing "
    "Effectiviteit",
    "twee-oevers.txt": "Samenvatting Doelgroep Doel Aanpak Uitvoering Onderbouwing Effectiviteit",
    "vaste-grond.txt": "Samenvatting Doel Doelgroep Aanpak Uitvoering Onderbouwing Effectiviteit",
}
PDF_SOURCES = ("rivm_zonder_witregels.txt", "nji_werkzame_factoren.txt", "thesis.txt")
HEADER = "Interventiebeschrijving | Nederlands Jeugdinstituut"
FOOTER_LEFTOVER = re.compile(r"TNO|R10055|\b\d{1,2}/\d{1,2}\b|Interventiebeschrijving \|")
BREAKS: dict[str, int] = {}
DOCX_HEADINGS: dict[str, tuple[str, ...]] = {}
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*-?")


def key(heading: str) -> str:
    heading = heading.strip().rstrip(":")
    return re.sub(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+", "", heading).casefold()


def score(found: list[str], marked: list[str]) -> tuple[int, list[str], list[str]]:
    remaining = [key(h) for h in marked]
    hits, false = 0, []
    for heading in found:
        if key(heading) in remaining:
            remaining.remove(key(heading))
            hits += 1
        else:
            false.append(heading)
    missed = [h for h in marked if key(h) in remaining]
    return hits, missed, false


def documents() -> list[tuple[str, str, list[str], str]]:
    """(name, text as imported, marked headings, source text) per document."""
    docs = []
    for path in sorted(CORPUS.glob("*.txt")):
        marked_text = path.read_text(encoding="utf-8")
        plain = "\n".join(
            line[2:] if line.startswith("§ ") else line for line in marked_text.split("\n")
        )
        marked = [line[2:] for line in marked_text.split("\n") if line.startswith("§ ")]
        docs.append((path.name, extract_text(path.name, plain.encode()), marked, plain))
        paragraphs = marked_paragraphs(marked_text)
        # A DOCX is read as the upload reads it: the text and its heading styles.
        document = extract_document(path.stem + ".docx", heading_docx(paragraphs))
        DOCX_HEADINGS[path.stem + ".docx"] = document.headings
        docs.append((path.stem + ".docx", document.text, marked, plain))
        if path.name in PDF_SOURCES:
            for columns in (1, 2):
                pdf = report_pdf(paragraphs, columns=columns, header=HEADER, rows=14)
                name = f"{path.stem}.{columns}col.pdf"
                raw = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
                BREAKS[name] = sum(1 for line in raw.split("\n") if line.rstrip().endswith("-"))
                docs.append((name, extract_text(name, pdf), marked, plain))
    for name, headings in DEMO_HEADINGS.items():
        text = (DEMO / name).read_text(encoding="utf-8")
        docs.append((name, extract_text(name, text.encode()), headings.split(), text))
    return docs


def hyphenation_errors(extracted: str, source: str) -> list[str]:
    words = {w.casefold() for w in WORD.findall(source)}
    return sorted(
        {w for w in WORD.findall(extracted) if w.casefold() not in words and not w.isupper()}
    )


def main() -> None:
    load_before = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    total_hits = total_found = total_marked = 0
    print(f"{'document':44} {'found':>5} {'marked':>6} {'P':>5} {'R':>5}")
    pdf_problems: list[str] = []
    for name, text, marked, source in documents():
        found = [span.heading for span in detect_sections(text, DOCX_HEADINGS.get(name, ()))]
        hits, missed, false = score(found, marked)
        total_hits += hits
        total_found += len(found)
        total_marked += len(marked)
        precision = hits / len(found) if found else 1.0
        recall = hits / len(marked) if marked else 1.0
        print(f"{name:44} {len(found):5} {len(marked):6} {precision:5.2f} {recall:5.2f}")
        for heading in missed:
            print(f"    missed: {heading}")
        for heading in false:
            print(f"    not a heading: {heading}")
        if name.endswith(".pdf"):
            leftovers = [line for line in text.split("\n") if FOOTER_LEFTOVER.search(line)]
            errors = hyphenation_errors(text, source)
            pdf_problems.append(
                f"{name}: {BREAKS[name]} line-end hyphens in the PDF, "
                f"{len(leftovers)} header/footer/page-number lines left, "
                f"{len(errors)} hyphenation errors {errors}"
            )
            pdf_problems.extend(f"    left: {line}" for line in leftovers)
    precision = total_hits / total_found
    recall = total_hits / total_marked
    print(
        f"overall: precision {precision:.3f}, recall {recall:.3f} ({total_hits} of "
        f"{total_found} found, {total_marked} marked)"
    )
    print("PDF text:")
    for line in pdf_problems:
        print("  " + line)
    print(f"wall {time.perf_counter() - wall:.2f} s, process CPU {time.process_time() - cpu:.2f} s")
    print(f"load before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"commit {os.popen('git rev-parse --short HEAD').read().strip()}")


if __name__ == "__main__":
    main()
