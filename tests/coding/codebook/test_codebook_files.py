"""Codebook files: every format is written for real, then read back (with python-docx, openpyxl,
lxml) or parsed again, as a user's program would."""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from collections.abc import Callable

import docx
import openpyxl
import pytest
from docx.text.paragraph import Paragraph
from lxml import etree

from coding.codebook import files as codebook_files
from coding.codebook.files import (
    TABLE_COLUMNS,
    from_json,
    from_table,
    to_csv,
    to_docx_table,
    to_docx_tree,
    to_json,
    to_markdown,
    to_svg,
    to_xlsx,
)
from coding.codebook.tree import CodebookFormatError, CodeNode, count, walk
from tests.coding.codebook.test_tree import (
    DIACRITICS_NAME,
    EMOJI_NAME,
    SPECIAL_NAME,
    _english_messages,  # noqa: F401  (autouse fixture: English messages here too)
    sample_tree,
)

TITLE = "Codeboek Veerkracht en hulpbronnen"


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _names(nodes: list[CodeNode]) -> list[str]:
    return [node.name for _path, node in walk(nodes)]


# ---- JSON -----------------------------------------------------------------------------------


def test_json_round_trip_gives_the_same_tree_and_the_same_bytes() -> None:
    tree = sample_tree()
    data = to_json(tree)
    assert from_json(data) == tree
    assert to_json(from_json(data)) == data


def test_json_is_our_format_exactly() -> None:
    document = json.loads(to_json(sample_tree()))
    assert list(document) == ["codes"]
    theme = document["codes"][0]
    assert list(theme) == [
        "name",
        "definition",
        "inclusion",
        "exclusion",
        "example",
        "color",
        "origin",
        "guid",
        "children",
    ]
    assert theme["origin"] == "deductive"
    assert theme["children"][5]["origin"] == "inductive"


def test_json_is_utf8_without_escapes() -> None:
    data = to_json(sample_tree())
    assert EMOJI_NAME.encode("utf-8") in data
    assert b"\\u" not in data


def test_json_forgives_missing_optional_keys() -> None:
    data = json.dumps({"codes": [{"name": "Veerkracht", "children": [{"name": "Beschrijven"}]}]})
    assert from_json(data.encode()) == [CodeNode("Veerkracht", children=[CodeNode("Beschrijven")])]


def test_json_says_where_a_value_has_the_wrong_type() -> None:
    codes: list[dict[str, object]] = [
        {"name": "A"},
        {"name": "B"},
        {"name": "C", "children": [{"name": 7}]},
    ]
    with pytest.raises(CodebookFormatError, match=r"codes\[2\]\.children\[0\]: name must be text"):
        from_json(json.dumps({"codes": codes}).encode())


def test_json_refuses_children_that_are_not_a_list() -> None:
    with pytest.raises(CodebookFormatError, match=r"codes\[0\]\.children: must be a list"):
        from_json(b'{"codes": [{"name": "A", "children": "B"}]}')


def test_json_reports_bad_json_with_its_line() -> None:
    with pytest.raises(CodebookFormatError, match=r"not valid JSON \(line 3\)"):
        from_json(b'{"codes": [\n{"name": "A"},\n{"name": }]}')


def test_json_refuses_codes_nested_deeper_than_12_levels() -> None:
    code: dict[str, object] = {"name": "Diep"}
    for level in range(13):
        code = {"name": f"Niveau {level}", "children": [code]}
    with pytest.raises(CodebookFormatError, match="nested deeper than 12 levels"):
        from_json(json.dumps({"codes": [code]}).encode())


def test_json_reads_dutch_origin_words() -> None:
    nodes = from_json(b'{"codes": [{"name": "A", "origin": "inductief"}]}')
    assert nodes[0].origin == "inductive"


# ---- CSV and XLSX ---------------------------------------------------------------------------


def test_csv_has_a_bom_the_columns_and_parents_before_children() -> None:
    data = to_csv(sample_tree())
    assert data.startswith(codecs.BOM_UTF8)
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ",".join(TABLE_COLUMNS)
    assert lines[1].startswith("Eigenschappen interventies,Eigenschappen interventies,")
    assert lines[2].startswith("Eigenschappen interventies > Primaire doelgroep,")


def test_csv_round_trip_gives_the_same_tree_and_the_same_bytes() -> None:
    tree = sample_tree()
    data = to_csv(tree)
    assert from_table("codeboek.csv", data) == tree
    assert to_csv(from_table("codeboek.csv", data)) == data


def test_xlsx_round_trip_gives_the_same_tree_with_a_bold_header() -> None:
    tree = sample_tree()
    data = to_xlsx(tree)
    assert from_table("codeboek.xlsx", data) == tree
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == list(TABLE_COLUMNS)
    assert all(cell.font.bold for cell in sheet[1])
    assert not sheet["A2"].font.bold


def test_a_definition_that_looks_like_a_formula_stays_text() -> None:
    tree = [CodeNode("=Doelen", definition='=HYPERLINK("http://x")', example="-5 punten")]
    csv_data = to_csv(tree)
    assert b"'=HYPERLINK" in csv_data
    assert from_table("c.csv", csv_data) == tree
    xlsx_data = to_xlsx(tree)
    assert from_table("c.xlsx", xlsx_data) == tree
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_data)).active
    assert sheet is not None
    assert sheet["C2"].data_type == "s"


def test_csv_with_semicolons_cp1252_and_dutch_headers() -> None:
    text = (
        "Pad;Naam;Definitie;Inclusiecriteria;Exclusiecriteria;Voorbeeld;Kleur;Herkomst\r\n"
        "Materiële hulpbronnen;Materiële hulpbronnen;Inkomen en wonen;;;;#EECA3B;deductief\r\n"
        "Materiële hulpbronnen > Doelen;Doelen;Bestaanszekerheid;Geld;Werk;“Schulden”;;"
        "inductief\r\n"
    )
    nodes = from_table("codeboek.csv", _csv(text, "cp1252"))
    assert nodes == [
        CodeNode(
            "Materiële hulpbronnen",
            definition="Inkomen en wonen",
            color="#eeca3b",
            children=[
                CodeNode(
                    "Doelen",
                    definition="Bestaanszekerheid",
                    inclusion="Geld",
                    exclusion="Werk",
                    example="“Schulden”",
                    origin="inductive",
                )
            ],
        )
    ]


def test_headers_are_matched_ignoring_case_accents_and_spaces() -> None:
    text = "CODE PAD,  Définitie ,inclusie criteria,Colour\nVeerkracht,Het vermogen,Ja,#abc\n"
    nodes = from_table("c.csv", _csv(text))
    assert nodes == [
        CodeNode("Veerkracht", definition="Het vermogen", inclusion="Ja", color="#aabbcc")
    ]


def test_csv_path_creates_missing_intermediate_levels() -> None:
    text = "path,definition\nVeerkracht > Versterken > Via ouders,Ouders als bron\nVeerkracht,V\n"
    nodes = from_table("c.csv", _csv(text))
    assert nodes == [
        CodeNode(
            "Veerkracht",
            definition="V",
            children=[
                CodeNode(
                    "Versterken", children=[CodeNode("Via ouders", definition="Ouders als bron")]
                )
            ],
        )
    ]


def test_csv_keeps_names_that_contain_the_path_separator() -> None:
    tree = [
        CodeNode(
            "Leeftijd > 12 jaar",
            children=[CodeNode("Ouder > 40", children=[CodeNode("Alleenstaand")])],
        )
    ]
    assert from_table("c.csv", to_csv(tree)) == tree


def test_csv_refuses_a_path_deeper_than_12_levels() -> None:
    path = " > ".join(f"Niveau {level}" for level in range(1, 14))
    with pytest.raises(CodebookFormatError, match="Row 2: the path is deeper than 12 levels"):
        from_table("c.csv", _csv(f"path\n{path}\n"))


def test_csv_refuses_two_rows_with_the_same_path() -> None:
    text = "path\nVeerkracht\nVeerkracht > Doelen\nveerkracht >  doelen\n"
    with pytest.raises(CodebookFormatError, match="Rows 3 and 4 have the same path"):
        from_table("c.csv", _csv(text))


def test_csv_refuses_a_name_that_is_not_the_end_of_its_path() -> None:
    text = "path,name\nVeerkracht > Doelen,Inhoud\n"
    with pytest.raises(CodebookFormatError, match="Row 2: the name ‘Inhoud’ is not the last part"):
        from_table("c.csv", _csv(text))


def test_name_and_parent_columns_build_the_tree() -> None:
    text = (
        "naam,ouder,herkomst\n"
        "Sociale hulpbronnen,,\n"
        "Materiële hulpbronnen,,\n"
        "Doelen,Sociale hulpbronnen,\n"
        "Doelen,Materiële hulpbronnen,inductief\n"
        "Schulden,Materiële hulpbronnen > Doelen,\n"
        "Vrienden,Sociale hulpbronnen > Doelen,\n"
    )
    nodes = from_table("c.csv", _csv(text))
    assert nodes == [
        CodeNode(
            "Sociale hulpbronnen", children=[CodeNode("Doelen", children=[CodeNode("Vrienden")])]
        ),
        CodeNode(
            "Materiële hulpbronnen",
            children=[CodeNode("Doelen", origin="inductive", children=[CodeNode("Schulden")])],
        ),
    ]


def test_name_and_parent_refuse_a_parent_cycle_naming_the_codes() -> None:
    text = "name,parent\nVeerkracht,\nAlpha,Beta\nBeta,Alpha\n"
    with pytest.raises(CodebookFormatError, match="cycle") as caught:
        from_table("c.csv", _csv(text))
    assert "‘Alpha’" in str(caught.value)
    assert "‘Beta’" in str(caught.value)


def test_name_and_parent_refuse_an_unknown_parent() -> None:
    text = "name,parent\nVeerkracht,\nBeschrijven,Veerkrachtt\n"
    with pytest.raises(CodebookFormatError, match="Row 3: the parent ‘Veerkrachtt’"):
        from_table("c.csv", _csv(text))


def test_name_and_parent_refuse_an_ambiguous_parent_name_and_suggest_a_path() -> None:
    text = "name,parent\nA,\nB,\nDoelen,A\nDoelen,B\nSchulden,Doelen\n"
    with pytest.raises(
        CodebookFormatError, match="several codes are called ‘Doelen’.*‘A > Doelen’"
    ):
        from_table("c.csv", _csv(text))


def test_it_refuses_two_codes_of_one_name_under_one_parent() -> None:
    text = "name,parent\nVeerkracht,\nBeschrijven,Veerkracht\nbeschrijven,Veerkracht\n"
    with pytest.raises(CodebookFormatError, match="‘Beschrijven’ and ‘beschrijven’"):
        from_table("c.csv", _csv(text))
    text = "path\nVeerkracht\nVeerkracht > Beschrijven\nVeerkracht > BESCHRIJVEN \n"
    with pytest.raises(CodebookFormatError, match="same path"):
        from_table("c.csv", _csv(text))


def test_it_refuses_a_csv_of_20000_rows() -> None:
    text = "path\n" + "".join(f"Code {index}\n" for index in range(20_000))
    with pytest.raises(CodebookFormatError) as caught:
        from_table("groot.csv", _csv(text))
    assert str(caught.value) == "The file has 20,000 rows; at most 5,000 codes are accepted."


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"  \r\n", "empty"), (b"path,name\r\n", "no codes")],
)
def test_it_refuses_an_empty_file(data: bytes, message: str) -> None:
    with pytest.raises(CodebookFormatError, match=message):
        from_table("c.csv", data)


def test_it_refuses_a_table_without_known_columns() -> None:
    with pytest.raises(CodebookFormatError, match="needs a ‘path’ column"):
        from_table("c.csv", b"foo,bar\n1,2\n")


def test_it_refuses_a_bad_colour_or_origin_with_its_row() -> None:
    with pytest.raises(CodebookFormatError, match="Row 3: the colour ‘paars’"):
        from_table("c.csv", b"path,kleur\nA,#fff\nB,paars\n")
    with pytest.raises(CodebookFormatError, match="Row 2: the origin ‘soms’"):
        from_table("c.csv", b"path,herkomst\nA,soms\n")


def test_xlsx_refuses_formulas() -> None:
    data = _xlsx([["path", "definition"], ["Veerkracht", "=1+1"]])
    with pytest.raises(CodebookFormatError, match="Cell B2 holds a formula"):
        from_table("c.xlsx", data)


def test_xlsx_reads_dutch_headers_and_numbers() -> None:
    data = _xlsx(
        [["Naam", "Ouder", "Kleur"], ["Leeftijd", None, "#123456"], [12, "Leeftijd", None]]
    )
    assert from_table("c.xlsx", data) == [
        CodeNode("Leeftijd", color="#123456", children=[CodeNode("12")])
    ]


def test_xlsx_refuses_a_file_that_is_not_a_zip() -> None:
    with pytest.raises(CodebookFormatError, match="not an Excel workbook"):
        from_table("c.xlsx", b"path\nVeerkracht\n")


def test_xlsx_refuses_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(CodebookFormatError, match="cannot be read as an Excel workbook"):
        from_table("c.xlsx", buffer.getvalue())


def test_xlsx_refuses_a_zip_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _xlsx([["path"], ["Veerkracht"]])
    monkeypatch.setattr(codebook_files, "MAX_XLSX_UNPACKED_BYTES", 1024)
    with pytest.raises(CodebookFormatError, match="unpacks to more than"):
        from_table("c.xlsx", data)
    monkeypatch.undo()
    monkeypatch.setattr(codebook_files, "MAX_XLSX_MEMBERS", 3)
    with pytest.raises(CodebookFormatError, match="unpacks to more than"):
        from_table("c.xlsx", data)


def test_it_refuses_other_file_types() -> None:
    with pytest.raises(CodebookFormatError, match="use .csv or .xlsx"):
        from_table("codeboek.pdf", b"%PDF-1.7")


# ---- Markdown -------------------------------------------------------------------------------


def test_markdown_marks_origin_and_nests_the_tree() -> None:
    text = to_markdown(sample_tree(), TITLE).decode("utf-8")
    assert text.startswith(f"# {TITLE}\n")
    assert "- **Eigenschappen interventies** (D)" in text
    assert "  - Setting (I)" in text
    assert "    - Gezin als geheel 👨‍👩‍👧 (I)" in text
    assert "*Inclusie:* Uitleg of belang van veerkracht." in text
    assert "*Voorbeeld:* “Veerkrachtige gezinnen vinden zelf hun weg.”" in text
    assert "Ouders &lt;&amp;&gt; kinderen" in text


def test_markdown_in_english() -> None:
    text = to_markdown(sample_tree(), TITLE, language="en").decode("utf-8")
    assert "*Exclusion:*" in text


# ---- Word -----------------------------------------------------------------------------------


def _style(paragraph: Paragraph) -> str:
    return paragraph.style.name if paragraph.style is not None else ""


def _table(data: bytes) -> docx.table.Table:
    document = docx.Document(io.BytesIO(data))
    assert len(document.tables) == 1
    return document.tables[0]


def test_docx_table_has_a_header_and_one_row_per_code_in_tree_order() -> None:
    tree = sample_tree()
    data = to_docx_table(tree, TITLE)
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[0].text == TITLE
    assert _style(document.paragraphs[0]) == "Heading 1"
    table = _table(data)
    assert [cell.text for cell in table.rows[0].cells] == ["Code", "Definitie", "Voorbeeld"]
    assert len(table.rows) == count(tree) + 1
    assert [row.cells[0].text for row in table.rows[1:]] == _names(tree)


def test_docx_table_in_english() -> None:
    table = _table(to_docx_table(sample_tree(), TITLE, language="en"))
    assert [cell.text for cell in table.rows[0].cells] == ["Code", "Definition", "Example"]


def test_docx_table_bolds_themes_underlines_inductive_codes_and_indents_depth() -> None:
    table = _table(to_docx_table(sample_tree(), TITLE))
    rows = {row.cells[0].text: row for row in table.rows[1:]}

    theme = rows["Eigenschappen interventies"].cells[0].paragraphs[0]
    assert theme.runs[0].bold
    assert not theme.runs[0].underline
    assert not theme.paragraph_format.left_indent

    deductive = rows["Primaire doelgroep"].cells[0].paragraphs[0]
    assert not deductive.runs[0].bold
    assert not deductive.runs[0].underline

    inductive = rows["Setting"].cells[0].paragraphs[0]
    assert inductive.runs[0].underline
    assert not inductive.runs[0].bold

    subcode = rows[EMOJI_NAME].cells[0].paragraphs[0]
    assert subcode.paragraph_format.left_indent > inductive.paragraph_format.left_indent > 0


def test_docx_table_puts_criteria_with_the_definition_and_the_example_apart() -> None:
    table = _table(to_docx_table(sample_tree(), TITLE))
    row = next(row for row in table.rows if row.cells[0].text == "Veerkracht beschrijven")
    definition = row.cells[1].text
    assert definition.startswith("De tekst noemt veerkracht")
    assert "Inclusie: Uitleg of belang van veerkracht." in definition
    assert "Exclusie: Hoe eraan gewerkt wordt" in definition
    assert row.cells[2].text == "“Veerkrachtige gezinnen vinden zelf hun weg.”"


def test_docx_tree_is_a_nested_bulleted_list() -> None:
    tree = sample_tree()
    tree[0].children[0].children = [
        CodeNode("Kind", children=[CodeNode("Jonger dan 12", children=[CodeNode("Baby")])])
    ]
    document = docx.Document(io.BytesIO(to_docx_tree(tree, TITLE)))
    bullets = [p for p in document.paragraphs if _style(p).startswith("List Bullet")]
    assert [p.text for p in bullets] == _names(tree)
    items = {p.text: p for p in bullets}
    assert _style(items["Eigenschappen interventies"]) == "List Bullet"
    assert items["Eigenschappen interventies"].runs[0].bold
    assert _style(items["Primaire doelgroep"]) == "List Bullet 2"
    assert items["Setting"].runs[0].underline
    assert _style(items["Kind"]) == "List Bullet 3"
    assert _style(items["Baby"]) == "List Bullet 3"
    assert (
        items["Baby"].paragraph_format.left_indent
        > items["Jonger dan 12"].paragraph_format.left_indent
    )


# ---- SVG ------------------------------------------------------------------------------------


def test_svg_is_valid_xml_with_every_name_escaped() -> None:
    tree = sample_tree()
    data = to_svg(tree, TITLE)
    assert b"Ouders &lt;&amp;&gt; kinderen" in data
    root = etree.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == TITLE
    assert texts[1:-1] == _names(tree)
    assert SPECIAL_NAME in texts


def test_svg_size_grows_with_the_tree_and_boxes_carry_the_colour() -> None:
    small = etree.fromstring(to_svg([CodeNode("Veerkracht", color="#4c78a8")], TITLE))
    large = etree.fromstring(to_svg(sample_tree(), TITLE))
    assert float(large.get("height")) > float(small.get("height"))
    rect = small.find("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
    assert rect is not None
    assert rect.get("stroke") == "#4c78a8"
    # A light tint of the colour behind dark text.
    assert rect.get("fill") == "#e4ebf2"


def test_svg_gives_codes_without_a_colour_their_themes_colour() -> None:
    root = etree.fromstring(
        to_svg([CodeNode("Veerkracht", color="#f58518", children=[CodeNode("Beschrijven")])], TITLE)
    )
    rects = root.findall("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
    assert [rect.get("stroke") for rect in rects] == ["#f58518", "#f58518"]
    assert (
        etree.fromstring(to_svg([CodeNode("Grijs")], TITLE))
        .find("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
        .get("stroke")
        == "#7f7f7f"
    )


def test_svg_dashes_inductive_codes_and_draws_connectors() -> None:
    root = etree.fromstring(to_svg(sample_tree(), TITLE))
    rects = root.findall("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
    assert sum(1 for rect in rects if rect.get("stroke-dasharray")) == sum(
        1 for _path, node in walk(sample_tree()) if node.origin == "inductive"
    )
    connectors = root.find("{http://www.w3.org/2000/svg}path")
    assert connectors is not None
    assert connectors.get("d", "").count("M") == count(sample_tree()) - len(sample_tree())


# ---- every format -----------------------------------------------------------------------------


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)


EXPORTS: dict[str, Callable[[list[CodeNode]], str]] = {
    "json": lambda nodes: to_json(nodes).decode("utf-8"),
    "csv": lambda nodes: to_csv(nodes).decode("utf-8-sig"),
    "markdown": lambda nodes: to_markdown(nodes, TITLE).decode("utf-8"),
    "docx table": lambda nodes: _docx_text(to_docx_table(nodes, TITLE)),
    "docx tree": lambda nodes: _docx_text(to_docx_tree(nodes, TITLE)),
    "svg": lambda nodes: "\n".join(etree.fromstring(to_svg(nodes, TITLE)).itertext()),
    "xlsx": lambda nodes: "\n".join(
        str(cell.value)
        for row in openpyxl.load_workbook(io.BytesIO(to_xlsx(nodes))).active.iter_rows()  # type: ignore[union-attr]
        for cell in row
    ),
}


@pytest.mark.parametrize("export", EXPORTS.values(), ids=EXPORTS.keys())
def test_dutch_diacritics_and_emoji_survive_every_export(
    export: Callable[[list[CodeNode]], str],
) -> None:
    text = export(sample_tree())
    assert EMOJI_NAME in text
    assert DIACRITICS_NAME in text
    assert "Materiële hulpbronnen" in text


def test_control_characters_do_not_break_the_xml_formats() -> None:
    tree = [CodeNode("Veerkracht\x0b", definition="Tekst\x00 uit een pdf\x1f")]
    for export in (to_docx_table, to_docx_tree, to_svg):
        assert export(tree, TITLE)
    assert to_xlsx(tree)


HOSTILE_TEXTS = [
    "<script>alert('codeboek')</script>",
    "<img src=x onerror=alert(1)>",
    "[klik hier](javascript:alert(1))",
    "<javascript:alert(1)>",
    "![plaatje](javascript:alert(2))",
    "Zie JavaScript :alert(3) en data:text/html,<b>vet</b>",
    "&lt;script&gt; als entiteit",
]


def test_markdown_keeps_html_and_script_links_from_code_texts_as_plain_text() -> None:
    from markdown_it import MarkdownIt

    nodes = [
        CodeNode(
            name=text,
            definition=text,
            inclusion=text,
            exclusion=text,
            example=text,
            children=[CodeNode(name=text, definition=text)],
        )
        for text in HOSTILE_TEXTS
    ]
    source = to_markdown(nodes, "<b>Titel</b>").decode("utf-8")
    # A renderer that lets raw HTML through and makes links of bare URLs, as a wiki would.
    rendered = MarkdownIt("commonmark", {"html": True}).enable("linkify").render(source)
    lowered = rendered.lower()
    for forbidden in ("<script", "<img", "<b>", "<a ", "href="):
        assert forbidden not in lowered, forbidden
    # ...and each text still reads as written, escaped for HTML.
    assert "&lt;script&gt;alert('codeboek')&lt;/script&gt;" in rendered.replace("&#x27;", "'")
    assert "[klik hier](javascript:alert(1))" in rendered
    assert "&amp;lt;script&amp;gt; als entiteit" in rendered
