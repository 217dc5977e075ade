"""import_codebook and export_codebook: round trips through every format and clear refusals."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from coding.codebook import services
from coding.models import Code
from interventions.models import Role, Study
from tests.factories import MembershipFactory, UserFactory


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def make_study(slug: str) -> Study:
    study = Study.objects.create(name=slug, slug=slug)
    MembershipFactory(study=study, user=UserFactory(username=f"eigenaar-{slug}"), role=Role.OWNER)
    return study


def tree_of(study: Study) -> list[Any]:
    def strip(nodes: list[Any]) -> list[Any]:
        return [
            (
                n.name,
                n.definition,
                n.inclusion,
                n.exclusion,
                n.example,
                n.color,
                n.origin,
                strip(n.children),
            )
            for n in nodes
        ]

    return strip(services.codebook_tree(study))


@pytest.mark.parametrize("fmt", ["json", "csv", "qdc", "xlsx"])
def test_an_export_imports_into_a_new_study_as_the_same_tree(
    db: Any, tmp_path: Path, fmt: str
) -> None:
    source = make_study("bron")
    services.codebook_apply_template(study=source, actor=None, template="veerkracht")
    target = make_study("doel")
    out_file = tmp_path / f"codeboek.{fmt}"
    out = run("export_codebook", "--study", "bron", "--format", fmt, "-o", str(out_file))
    assert out.strip() == f"Exported 27 codes of bron as {fmt} to {out_file}"
    out = run("import_codebook", "--study", "doel", str(out_file))
    assert out.splitlines()[0] == "Imported codebook into doel: 27 added, 0 changed, 0 unchanged"
    assert tree_of(target) == tree_of(source)


def test_qdc_exports_keep_their_guids_from_one_export_to_the_next(db: Any, tmp_path: Path) -> None:
    study = make_study("bron")
    services.codebook_apply_template(study=study, actor=None, template="veerkracht")
    first, second = tmp_path / "a.qdc", tmp_path / "b.qdc"
    run("export_codebook", "--study", "bron", "--format", "qdc", "-o", str(first))
    run("export_codebook", "--study", "bron", "--format", "qdc", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    assert str(Code.objects.filter(study=study).first().uuid) in first.read_text()


def test_importing_into_a_filled_codebook_merges_and_says_what_it_changed(
    db: Any, tmp_path: Path
) -> None:
    study = make_study("s")
    services.code_create(study=study, actor=None, name="Sociale hulpbronnen")
    file = tmp_path / "codes.csv"
    file.write_text(
        "path,definition\n"
        "Sociale hulpbronnen,Banden thuis en daarbuiten\n"
        "Sociale hulpbronnen > Netwerk,Steun van buren en familie\n",
        encoding="utf-8",
    )
    out = run("import_codebook", "--study", "s", str(file))
    assert out.splitlines() == [
        "Imported codebook into s: 1 added, 1 changed, 0 unchanged",
        "  added   Sociale hulpbronnen > Netwerk",
        "  changed Sociale hulpbronnen",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cyclus.csv", "name,parent\nA,B\nB,A\n", "cycle"),
        ("dubbel.csv", "path\nThema > Code\nThema > code\n", "already|twice|same"),
        ("kapot.qdc", "<CodeBook><Codes><Code name='x'>", "well-formed"),
        ("leeg.json", "", "empty"),
        ("codes.txt", "Thema", "not a codebook file"),
    ],
)
def test_a_bad_codebook_file_is_refused_and_changes_nothing(
    db: Any, tmp_path: Path, name: str, content: str, message: str
) -> None:
    study = make_study("s")
    services.code_create(study=study, actor=None, name="Bestaand")
    file = tmp_path / name
    file.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run("import_codebook", "--study", "s", str(file))
    assert list(Code.objects.values_list("name", flat=True)) == ["Bestaand"]


def test_a_20000_row_file_is_refused(db: Any, tmp_path: Path) -> None:
    make_study("s")
    file = tmp_path / "groot.csv"
    file.write_text("path\n" + "".join(f"Thema > Code {n}\n" for n in range(20_000)))
    with pytest.raises(CommandError, match="20,000|20000"):
        run("import_codebook", "--study", "s", str(file))
    assert not Code.objects.exists()


def test_export_refuses_an_unknown_study(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No study"):
        run("export_codebook", "--study", "x", "--format", "md", "-o", str(tmp_path / "x.md"))
