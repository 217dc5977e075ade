"""segments_import, the one write path for a table of segments (the command calls it)."""

from __future__ import annotations

import pytest

from coding.codebook import services
from coding.models import CodingEvent, Segment
from coding.segment_table import segments_import, segments_table
from coding.segments import SegmentError
from tests.conftest import Cast

TEXT = "Het gezin maakt een plan met de coördinator. Ouders oefenen thuis."


def _table(*rows: str) -> bytes:
    return ("intervention;code;start;end;memo\n" + "\n".join(rows) + "\n").encode("cp1252")


@pytest.fixture
def setup(cast: Cast) -> Cast:
    cast.intervention.text = TEXT
    cast.intervention.save()
    services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    return cast


def test_it_imports_every_row_with_an_event_each(setup: Cast) -> None:
    start = TEXT.index("coördinator")
    data = _table(
        f"Gezin Centraal;Sociale hulpbronnen;{start};{start + 11};Rol",
        "Gezin Centraal;Sociale hulpbronnen;0;9;",
    )

    created = segments_import(study=setup.study, coder=setup.coder_a, filename="a.csv", data=data)

    assert [s.quote for s in created] == ["coördinator", "Het gezin"]
    assert Segment.objects.filter(coder=setup.coder_a).count() == 2
    assert CodingEvent.objects.filter(action="segment_create").count() == 2


def test_it_refuses_the_whole_file_for_one_bad_row(setup: Cast) -> None:
    data = _table(
        "Gezin Centraal;Sociale hulpbronnen;0;9;",
        "Gezin Centraal;Bestaat niet;0;9;",
    )

    with pytest.raises(SegmentError, match=r"Nothing imported; 1 row refused. Row 3: there is no"):
        segments_import(study=setup.study, coder=setup.coder_a, filename="a.csv", data=data)

    assert not Segment.objects.exists()


def test_it_refuses_a_member_who_does_not_code(setup: Cast) -> None:
    data = _table("Gezin Centraal;Sociale hulpbronnen;0;9;")

    with pytest.raises(SegmentError, match="sam cannot code in gezin"):
        segments_import(study=setup.study, coder=setup.supervisor, filename="a.csv", data=data)

    assert not Segment.objects.exists()


def test_what_it_exports_imports_back_for_another_coder(setup: Cast) -> None:
    segments_import(
        study=setup.study,
        coder=setup.coder_a,
        filename="a.csv",
        data=_table("Gezin Centraal;Sociale hulpbronnen;0;9;Eerste"),
    )
    headers, rows = segments_table(study=setup.study, coder=setup.coder_a)
    lines = [";".join(str(v) for v in row[:5]) for row in rows]

    segments_import(study=setup.study, coder=setup.coder_b, filename="b.csv", data=_table(*lines))

    copied = Segment.objects.get(coder=setup.coder_b)
    assert headers[:5] == ["intervention", "code", "start", "end", "memo"]
    assert (copied.start, copied.end, copied.quote, copied.memo) == (0, 9, "Het gezin", "Eerste")
