"""Hand-written reads and writes (`veerkracht.lib.rows`) give what the ORM gives."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from coding.models import Code, CodingEvent, Segment
from tests.conftest import Cast
from veerkracht.lib import rows
from veerkracht.lib.rows import Columns, insert_if, insert_together, prepared_from
from veerkracht.lib.rows import execute as rows_execute


def _fields(instance: Any, skip: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in skip
    }


def _segment(cast: Cast, code: Code, start: int) -> Segment:
    text = cast.intervention.text
    return Segment(
        intervention=cast.intervention,
        code=code,
        coder=cast.coder_a,
        start=start,
        end=start + 4,
        quote=text[start : start + 4],
        memo="Een notitie",
    )


def _event(segment: Segment, cast: Cast) -> CodingEvent:
    return CodingEvent(
        study=cast.study,
        actor=cast.coder_a,
        action="segment_create",
        code=segment.code,
        code_uuid=segment.code.uuid,
        code_name=segment.code.name,
        segment_uuid=segment.uuid,
        after={"quote": segment.quote, "start": segment.start, "path": ["Ouders", "Doelen"]},
    )


@pytest.fixture
def code(cast: Cast) -> Code:
    return Code.objects.create(study=cast.study, name="Doelen")


def test_inserted_rows_equal_those_bulk_create_writes(cast: Cast, code: Code) -> None:
    ours = [_segment(cast, code, 0), _segment(cast, code, 5)]
    events = [_event(s, cast) for s in ours]
    with CaptureQueriesContext(connection) as queries:
        insert_together(ours, events)
    # One statement on PostgreSQL (the events in a WITH query), one per model elsewhere.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    assert all(s.pk is not None and not s._state.adding for s in ours)
    django = Segment.objects.bulk_create([_segment(cast, code, 10)])[0]
    skip = {"id", "uuid", "start", "end", "quote", "created_at", "updated_at"}
    for segment in ours:
        stored = Segment.objects.get(pk=segment.pk)
        assert _fields(stored) == _fields(segment)
        assert _fields(stored, skip) == _fields(django, skip)
        assert stored.created_at.tzinfo is not None
    stored_events = CodingEvent.objects.filter(segment_uuid__in=[s.uuid for s in ours])
    assert {e.segment_uuid: e.after for e in stored_events} == {
        s.uuid: {"quote": s.quote, "start": s.start, "path": ["Ouders", "Doelen"]} for s in ours
    }


def test_a_database_that_cannot_return_keys_from_an_insert_gets_one_row_at_a_time(
    cast: Cast, code: Code, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    made = [_segment(cast, code, 0), _segment(cast, code, 5)]
    insert_together(made, [_event(s, cast) for s in made])
    assert [Segment.objects.get(pk=s.pk).start for s in made] == [0, 5]
    assert CodingEvent.objects.filter(segment_uuid__in=[s.uuid for s in made]).count() == 2


def test_a_refused_row_writes_nothing_of_the_statement(cast: Cast, code: Code) -> None:
    Segment.objects.bulk_create([_segment(cast, code, 0)])
    twin = _segment(cast, code, 0)  # the same span, code and coder: the unique constraint
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_together([twin], [_event(twin, cast)])
    assert Segment.objects.count() == 1
    assert not CodingEvent.objects.filter(segment_uuid=twin.uuid).exists()


def test_saved_instances_and_empty_lists_are_refused(cast: Cast, code: Code) -> None:
    saved = Segment.objects.create(**_fields(_segment(cast, code, 0), {"id"}))
    with pytest.raises(ValueError, match="new instances"):
        insert_together([saved])
    with pytest.raises(ValueError, match="at least one"):
        insert_together([], [_event(saved, cast)])


def test_columns_read_a_row_as_the_orm_does(cast: Cast, code: Code) -> None:
    segment = _segment(cast, code, 0)
    insert_together([segment], [_event(segment, cast)])
    columns = Columns(CodingEvent, "e", skip=["undone_by"])
    q = connection.ops.quote_name
    key = CodingEvent._meta.get_field("segment_uuid").get_db_prep_value(segment.uuid, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns.sql()} FROM {q(CodingEvent._meta.db_table)} e "
            f"WHERE e.{q('segment_uuid')} = %s",
            [key],
        )
        row = cursor.fetchone()
    ours = columns.instance(row)
    theirs = CodingEvent.objects.get(segment_uuid=segment.uuid)
    assert _fields(ours, {"undone_by_id"}) == _fields(theirs, {"undone_by_id"})
    assert isinstance(ours.segment_uuid, UUID)
    assert isinstance(ours.after, dict)
    assert "undone_by_id" in ours.get_deferred_fields()


# Prepared statements (`execute`) ------------------------------------------------------------


def _asked(test: str) -> str:
    """The query of one test: a connection may outlive a test, with what it prepared."""
    if connection.vendor == "postgresql":  # PREPARE needs each parameter's type
        return (
            f"SELECT /* {test} */ %s::integer + 1, %s::text || '%%', %s::uuid, "
            "%s::timestamptz IS NULL"
        )
    return f"SELECT /* {test} */ %s + 1, %s || '%%', %s, %s IS NULL"


_PARAMS = [41, "vijftig", "12345678123456781234567812345678", None]


def _ask(sql: str, params: list[Any] = _PARAMS) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        rows_execute(cursor, sql, params)
        row = cursor.fetchone()
    return row, [q["sql"] for q in queries.captured_queries]


def test_a_query_is_prepared_once_and_answers_as_the_plain_query(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_asked("once"), _PARAMS)
        expected = cursor.fetchone()
    first, logged = _ask(_asked("once"))
    assert first == expected
    assert first[:2] == (42, "vijftig%")
    assert len(logged) == 1  # one statement in the log, prepared or not
    if connection.vendor != "postgresql":
        assert logged[0].startswith("SELECT")
        return
    assert logged[0].startswith("PREPARE veerkracht_")
    again, logged = _ask(_asked("once"))
    assert again == expected
    assert logged[0].startswith("EXECUTE veerkracht_")
    assert prepared_from(logged[0]) == _asked("once")
    assert prepared_from("SELECT 1") == "SELECT 1"


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_or_a_rolled_back_transaction_prepares_again_as_needed() -> None:
    asked = _asked("again")
    first, _logged = _ask(asked)

    def fail_after_asking() -> None:
        with transaction.atomic():
            assert _ask(asked)[0] == first
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail_after_asking()
    assert _ask(asked)[0] == first  # the statement outlives the rolled-back transaction
    connection.close()
    again, logged = _ask(asked)  # Django opens a new connection, which prepares it anew
    assert again == first
    if connection.vendor == "postgresql":
        assert logged[0].startswith("PREPARE")


def test_without_prepared_statements_or_past_the_limit_a_query_runs_as_it_is(
    db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DATABASE_PREPARED = False
    row, logged = _ask("SELECT /* off */ %s * 2", [21])
    assert row == (42,)
    assert not logged[0].startswith(("PREPARE", "EXECUTE"))
    settings.DATABASE_PREPARED = True
    monkeypatch.setattr(rows, "PREPARED_PER_CONNECTION", 0)
    row, logged = _ask("SELECT /* limit */ %s * 3", [14])
    assert row == (42,)
    assert not logged[0].startswith(("PREPARE", "EXECUTE"))


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="insert_if is PostgreSQL's one-statement write"
)


@needs_postgresql
def test_a_failed_first_execute_does_not_block_the_next_try(db: Any) -> None:
    """PREPARE stays done when its EXECUTE fails; the next try prepares under a new name."""
    asked = "SELECT /* divide */ 10 / %s::integer"

    def divide_by_zero() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            rows_execute(cursor, asked, [0])

    with pytest.raises(DatabaseError, match="division by zero"):
        divide_by_zero()
    assert _ask(asked, [5])[0] == (2,)
    assert _ask(asked, [2])[0] == (5,)


@needs_postgresql
def test_insert_if_writes_all_or_nothing_by_its_condition(cast: Cast, code: Code) -> None:
    table = connection.ops.quote_name(Segment._meta.db_table)
    count = f"(SELECT COUNT(*) FROM {table})"
    never = _segment(cast, code, 0)
    keys, answer = insert_if("SELECT 1 WHERE FALSE", [], [never], [_event(never, cast)])
    assert keys is None
    assert answer == ()
    assert not Segment.objects.exists()
    assert not CodingEvent.objects.exists()
    assert never.pk is None
    made = [_segment(cast, code, 0), _segment(cast, code, 5)]
    events = [_event(s, cast) for s in made]
    events[0].code = None  # NULL in an integer column: every value is cast to its column
    keys, answer = insert_if(
        "SELECT 1 WHERE %s", [True], made, events, answer=[count], answer_params=[]
    )
    assert keys == [s.pk for s in made]
    assert answer == (0,)  # read from the snapshot before the insert
    assert [Segment.objects.get(pk=k).start for k in keys] == [0, 5]
    assert CodingEvent.objects.filter(code__isnull=True).count() == 1
    twin = _segment(cast, code, 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_if("SELECT 1", [], [twin], [_event(twin, cast)])
    assert Segment.objects.count() == 2
    assert CodingEvent.objects.count() == 2
