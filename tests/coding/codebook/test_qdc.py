"""REFI-QDA codebooks: exports that the official schema accepts, imports that forgive and tell."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from coding.codebook.qdc import (
    NAMESPACE,
    SCHEMA_PATH,
    format_description,
    from_qdc,
    parse_description,
    to_qdc,
    validate_qdc,
)
from coding.codebook.tree import CodebookFormatError, CodeNode, walk
from tests.coding.codebook.test_tree import (
    EMOJI_NAME,
    SPECIAL_NAME,
    _english_messages,  # noqa: F401  (autouse fixture: English messages here too)
    sample_tree,
)

SHARED_SCHEMA = Path("/work/shared/refi/Codebook.xsd")


def _codebook(codes: str, *, namespace: str = NAMESPACE, extra: str = "") -> bytes:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<CodeBook{xmlns}><Codes>{codes}</Codes>'
        f"{extra}</CodeBook>"
    ).encode()


def _guid() -> str:
    return str(uuid.uuid4())


# ---- export ---------------------------------------------------------------------------------


def test_the_export_validates_against_the_refi_schema() -> None:
    data = to_qdc(sample_tree())
    validate_qdc(data)
    # Independently of our own helper: the schema file itself, loaded fresh.
    xmlschema.XMLSchema(str(SCHEMA_PATH)).validate(etree.fromstring(data))


def test_our_schema_copy_is_the_published_one() -> None:
    if not SHARED_SCHEMA.exists():
        pytest.skip("the shared REFI-QDA folder is not on this machine")
    assert SCHEMA_PATH.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_the_export_has_the_expected_shape() -> None:
    data = to_qdc(sample_tree())
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = etree.fromstring(data)
    assert root.tag == f"{{{NAMESPACE}}}CodeBook"
    first = root.find(f"{{{NAMESPACE}}}Codes/{{{NAMESPACE}}}Code")
    assert first is not None
    assert first.get("name") == "Eigenschappen interventies"
    assert first.get("isCodable") == "true"
    assert first.get("color") == "#4C78A8"
    assert first.find(f"{{{NAMESPACE}}}Description") is not None
    assert b'name="Ouders &lt;&amp;&gt; kinderen"' in data


def test_the_export_reads_back_to_the_same_tree() -> None:
    tree = sample_tree()
    nodes, report = from_qdc(to_qdc(tree))
    assert report == []
    assert nodes == tree


def test_a_second_export_keeps_the_guids() -> None:
    tree = sample_tree()
    for _path, node in walk(tree):
        node.guid = ""
    first = to_qdc(tree)
    guids = [node.guid for _path, node in walk(tree)]
    assert all(uuid.UUID(guid) for guid in guids)
    assert len(set(guids)) == len(guids)
    assert to_qdc(tree) == first
    nodes, _report = from_qdc(first)
    assert [node.guid for _path, node in walk(nodes)] == guids


def test_an_empty_codebook_cannot_be_exported() -> None:
    with pytest.raises(CodebookFormatError, match="needs at least one"):
        to_qdc([])


def test_validate_qdc_names_the_first_problem() -> None:
    data = _codebook('<Code name="Veerkracht" isCodable="true"/>')
    with pytest.raises(CodebookFormatError, match="REFI-QDA schema.*guid"):
        validate_qdc(data)


# ---- description layout ---------------------------------------------------------------------


def test_the_description_layout_is_as_documented() -> None:
    node = CodeNode(
        "Veerkracht beschrijven",
        definition="De tekst noemt veerkracht.",
        inclusion="Uitleg of belang.",
        exclusion="Hoe eraan gewerkt wordt.",
        example="“Veerkrachtige gezinnen.”",
        origin="inductive",
    )
    assert format_description(node) == (
        "De tekst noemt veerkracht.\n"
        "\n"
        "Inclusie: Uitleg of belang.\n"
        "Exclusie: Hoe eraan gewerkt wordt.\n"
        "Voorbeeld: “Veerkrachtige gezinnen.”\n"
        "Herkomst: inductief"
    )
    # Nothing of our own to add: no description at all, rather than an invented origin.
    assert format_description(CodeNode("Leeg")) == ""


@pytest.mark.parametrize(
    "node",
    [
        CodeNode("a", definition="Eén alinea.\n\nNog een.\n", example="Regel 1\n\n  Regel 3"),
        CodeNode("b", definition="Lijkt op een staart:\n\nInclusie: niet echt"),
        CodeNode("c", definition="Inclusie: ook dit is definitie"),
        CodeNode("d", inclusion="\nbegint met een lege regel", exclusion=" spatie vooraan"),
        CodeNode("e", definition="\n\n", origin="inductive"),
    ],
    ids=["paragraphs", "looks-like-trailer", "only-label", "odd-whitespace", "blank-lines"],
)
def test_tricky_texts_survive_the_description_exactly(node: CodeNode) -> None:
    nodes, _report = from_qdc(to_qdc([node]))
    read = nodes[0]
    assert (read.definition, read.inclusion, read.exclusion, read.example, read.origin) == (
        node.definition,
        node.inclusion,
        node.exclusion,
        node.example,
        node.origin,
    )


def test_a_description_without_our_layout_is_the_definition_whole() -> None:
    text = "Passages over het gezin.\n\nZie ook: hulpbronnen."
    assert parse_description(text) == (text, {})


def test_a_foreign_description_with_english_labels_is_understood() -> None:
    assert parse_description("A definition.\n\nExample: a quote\nOrigin: inductive") == (
        "A definition.",
        {"example": "a quote", "origin": "inductive"},
    )


# ---- forgiving import -----------------------------------------------------------------------


def test_it_reads_a_minimal_codebook_without_namespace_description_or_iscodable() -> None:
    nodes, report = from_qdc(_codebook('<Code name="Veerkracht"/>', namespace=""))
    assert nodes == [CodeNode("Veerkracht")]
    assert any("no REFI-QDA namespace" in line for line in report)


def test_it_reads_another_version_of_the_namespace_and_says_so() -> None:
    data = _codebook(
        f'<Code guid="{_guid()}" name="A" isCodable="true"/>', namespace="urn:QDA-XML:codebook:2.0"
    )
    nodes, report = from_qdc(data)
    assert [node.name for node in nodes] == ["A"]
    assert any("urn:QDA-XML:codebook:2.0" in line for line in report)


@pytest.mark.parametrize(
    ("color", "expected"),
    [
        ("#4C78A8", "#4c78a8"),
        ("#abc", "#aabbcc"),
        ("#FF4C78A8", "#4c78a8"),
        ("rgb(76,120,168)", "#4c78a8"),
    ],
)
def test_it_reads_the_colour_notations_in_use(color: str, expected: str) -> None:
    nodes, _report = from_qdc(_codebook(f'<Code name="A" isCodable="true" color="{color}"/>'))
    assert nodes[0].color == expected


def test_it_leaves_an_unknown_colour_empty_and_reports_it() -> None:
    nodes, report = from_qdc(_codebook('<Code name="Rood" isCodable="true" color="rood"/>'))
    assert nodes[0].color == ""
    assert report == ["Code ‘Rood’: colour ‘rood’ not understood, left empty."]


def test_it_reads_nested_codes_including_a_nested_codes_wrapper() -> None:
    data = _codebook(
        '<Code name="Sociale hulpbronnen" isCodable="false">'
        "<Description>Banden thuis.</Description>"
        '<Code name="Doelen" isCodable="true"/>'
        '<Codes><Code name="Inhoud" isCodable="true">'
        '<Code name="Ouders" isCodable="true"/></Code></Codes>'
        "</Code>"
    )
    nodes, report = from_qdc(data)
    assert nodes == [
        CodeNode(
            "Sociale hulpbronnen",
            definition="Banden thuis.",
            children=[CodeNode("Doelen"), CodeNode("Inhoud", children=[CodeNode("Ouders")])],
            is_codable=False,
        )
    ]
    assert any("not codable (Sociale hulpbronnen)" in line for line in report)


def test_it_drops_sets_and_unknown_parts_and_reports_them() -> None:
    guid = _guid()
    data = _codebook(
        f'<Code guid="{guid}" name="A" isCodable="true" weight="3">'
        f'<NoteRef targetGUID="{_guid()}"/></Code>',
        extra=f'<Sets><Set guid="{_guid()}" name="Favorieten">'
        f'<MemberCode guid="{guid}"/></Set></Sets>',
    )
    nodes, report = from_qdc(data)
    assert nodes == [CodeNode("A", guid=guid)]
    assert any("code set (Favorieten)" in line and "1 member reference" in line for line in report)
    assert any("<NoteRef>" in line for line in report)
    assert any("‘weight’" in line for line in report)


def test_it_renames_duplicate_siblings_and_replaces_bad_or_repeated_guids() -> None:
    guid = _guid()
    data = _codebook(
        f'<Code guid="{guid}" name="Doelen" isCodable="true"/>'
        f'<Code guid="{guid}" name="doelen" isCodable="true"/>'
        '<Code guid="not-a-guid" name="" isCodable="true"/>'
    )
    nodes, report = from_qdc(data)
    assert [node.name for node in nodes] == ["Doelen", "doelen (2)", "Naamloze code"]
    assert [node.guid for node in nodes] == [guid, "", ""]
    assert len(report) == 4


def test_emoji_and_diacritics_survive_the_qdc() -> None:
    nodes, _report = from_qdc(to_qdc(sample_tree()))
    names = [node.name for _path, node in walk(nodes)]
    assert EMOJI_NAME in names
    assert SPECIAL_NAME in names
    assert "Materiële hulpbronnen" in names


# ---- refused input --------------------------------------------------------------------------


def test_it_refuses_malformed_xml_with_the_line() -> None:
    data = b'<?xml version="1.0"?>\n<CodeBook>\n<Codes>\n<Code name="A">\n</Codes></CodeBook>'
    with pytest.raises(
        CodebookFormatError, match=r"not well-formed XML \(line 5\): mismatched tag"
    ):
        from_qdc(data)


XXE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE CodeBook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
    b'<Code guid="8f6ce1d2-7a44-4a57-9a53-4c1b8c3e5a11" name="&xxe;" isCodable="true">'
    b"<Description>&xxe;</Description></Code></Codes></CodeBook>"
)

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<CodeBook><Codes><Code name="&lol3;"/></Codes></CodeBook>'
)


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_it_refuses_entities_and_never_resolves_them(payload: bytes) -> None:
    with pytest.raises(CodebookFormatError, match="DTD or entities") as caught:
        from_qdc(payload)
    with pytest.raises(CodebookFormatError) as caught_validation:
        validate_qdc(payload)
    for error in (caught.value, caught_validation.value):
        message = str(error)
        assert "root:" not in message
        assert "lollol" not in message
        assert "\n" not in message


def test_it_refuses_a_project_file() -> None:
    data = b'<Project xmlns="urn:QDA-XML:project:1.0" name="P"><CodeBook/></Project>'
    with pytest.raises(CodebookFormatError, match="project, not a codebook"):
        from_qdc(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"<CodeBook><Codes/></CodeBook>", b"<html><body>hoi</body></html>"],
    ids=["empty", "no-codes", "not-a-codebook"],
)
def test_it_refuses_files_without_codes(data: bytes) -> None:
    with pytest.raises(CodebookFormatError):
        from_qdc(data)


def test_it_refuses_codes_nested_deeper_than_12_levels() -> None:
    inner = '<Code name="Diep" isCodable="true"/>'
    for level in range(13):
        inner = f'<Code name="Niveau {level}" isCodable="true">{inner}</Code>'
    with pytest.raises(CodebookFormatError, match="deeper than 12 levels"):
        from_qdc(_codebook(inner))


def test_it_refuses_thousands_of_nested_codes_wrappers() -> None:
    data = _codebook("<Codes>" * 5_000 + '<Code name="A"/>' + "</Codes>" * 5_000)
    with pytest.raises(CodebookFormatError, match="nests <Codes> elements"):
        from_qdc(data)
