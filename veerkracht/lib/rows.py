"""Hand-written queries for the few requests that run most often (applying a code, opening the
workspace), where the ORM spent more CPU building a query than the database answering it, and
each round trip to PostgreSQL counts.

- `Columns` names a model's columns under an alias for a SELECT list and turns its part of a
  row back into an instance, through the converters a queryset would apply (SQLite's datetimes
  and UUIDs, booleans), so the instance is the one `Model.objects.get` would give.
- `insert_together` and `insert_if` insert instances as `bulk_create` would, several models in
  one statement on PostgreSQL (`insert_if` only when a condition holds, in the same statement).
- `execute` runs a query prepared once per PostgreSQL connection.

Every value goes in as a parameter; the SQL is built from the models' own table and column
names only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


class Columns(Generic[M]):
    """The concrete columns of `model` under `alias`: all of them, or `only` these, `skip`
    left out (left out, a column is deferred on the instance and read when first used)."""

    def __init__(
        self,
        model: type[M],
        alias: str,
        *,
        only: Iterable[str] | None = None,
        skip: Iterable[str] = (),
    ) -> None:
        wanted = None if only is None else set(only)
        left_out = set(skip)
        self.model = model
        self.alias = alias
        self.fields: list[Field[Any, Any]] = [
            f
            for f in model._meta.concrete_fields
            if f.name not in left_out and (wanted is None or f.name in wanted)
        ]
        self.attnames = [f.attname for f in self.fields]
        # Per database vendor: (position, column, converters) of the columns that have any.
        self._steps: dict[str, list[tuple[int, Any, list[Callable[..., Any]]]]] = {}
        self._sql: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self, using: str = "default") -> str:
        """The SELECT list for these columns: `alias."column", ...`."""
        connection = connections[using]
        found = self._sql.get(connection.vendor)
        if found is None:
            quote = connection.ops.quote_name
            found = ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)
            self._sql[connection.vendor] = found
        return found

    def converters(self, using: str = "default") -> list[tuple[int, Any, list[Callable[..., Any]]]]:
        """The columns whose values the ORM converts when read from `using` (as the SQL
        compiler gathers their converters): position, expression, converters."""
        connection = connections[using]
        found = self._steps.get(connection.vendor)
        if found is None:
            found = []
            for position, f in enumerate(self.fields):
                column = f.get_col(self.alias)
                steps = connection.ops.get_db_converters(column)
                steps = [*steps, *f.get_db_converters(connection)]  # type: ignore[attr-defined]
                if steps:
                    found.append((position, column, steps))
            self._steps[connection.vendor] = found
        return found

    def row(self, row: Sequence[Any], at: int = 0, using: str = "default") -> list[Any]:
        """This model's values from `row`, from position `at` on, converted, in field order."""
        values = list(row[at : at + len(self.fields)])
        connection = connections[using]
        for position, column, steps in self.converters(using):
            value = values[position]
            for step in steps:
                value = step(value, column, connection)
            values[position] = value
        return values

    def values(self, row: Sequence[Any], at: int = 0, using: str = "default") -> dict[str, Any]:
        """This model's values from `row`, from position `at` on, converted, by attname."""
        return dict(zip(self.attnames, self.row(row, at, using), strict=True))

    def instance(self, row: Sequence[Any], at: int = 0, using: str = "default") -> M:
        """The instance whose columns begin at position `at` of `row`."""
        return self.model.from_db(using, self.attnames, self.row(row, at, using))


def insert_together(first: Sequence[Model], *rest: Sequence[Model], using: str = "default") -> None:
    """Insert `first` (each gets its primary key) and then `rest`, each a list of unsaved
    instances of one model, as `bulk_create` would: the same values (`pre_save`, so
    `auto_now_add` is set on the instances) prepared the same way.

    On PostgreSQL in one statement, `rest` as data-modifying WITH queries (which PostgreSQL runs
    exactly once, in the same statement, so all rows are written or none); elsewhere one
    statement per list. For writes made on most requests (applying a code writes a segment and
    its event), where a round trip to the server costs as much as the rest of the write.
    """
    connection = connections[using]
    lists = [list(objs) for objs in (first, *rest) if objs]
    if not lists or not first:
        raise ValueError("insert_together needs at least one instance in `first`.")
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
        for obj in lists[0]:
            obj.save(force_insert=True, using=using)
        for objs in lists[1:]:
            type(objs[0])._default_manager.using(using).bulk_create(objs)
        return
    statements = [_insert_sql(objs, connection) for objs in lists]
    pk = first[0]._meta.pk
    assert pk is not None
    returning = f" RETURNING {connection.ops.quote_name(pk.column)}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = "".join(
                f"{'WITH' if n == 0 else ','} w{n} AS ({sql}) "
                for n, (sql, _params) in enumerate(statements[1:])
            )
            params = [value for _sql, values in statements[1:] for value in values]
            cursor.execute(sql + statements[0][0] + returning, [*params, *statements[0][1]])
            keys = [row[0] for row in cursor.fetchall()]
        else:
            cursor.execute(statements[0][0] + returning, statements[0][1])
            keys = [row[0] for row in cursor.fetchall()]
            for sql, params in statements[1:]:
                cursor.execute(sql, params)
    _saved(lists, keys, using)


def insert_if(
    condition: str,
    condition_params: Sequence[Any],
    first: Sequence[Model],
    *rest: Sequence[Model],
    answer: Sequence[str] = (),
    answer_params: Sequence[Any] = (),
    using: str = "default",
) -> tuple[list[Any] | None, tuple[Any, ...]]:
    """PostgreSQL: insert `first` and `rest` as `insert_together` does, in one statement, if
    and only if the query `condition` (a SELECT, which may lock rows with FOR UPDATE) yields a
    row; with the `answer` columns (scalar subqueries) read in the same statement, from the
    snapshot before the inserts. Outside a transaction that statement is its own: a write in
    one round trip, where BEGIN, the checking query, the insert and COMMIT took four.

    Returns the primary keys given to `first` (None when the condition yielded no row and
    nothing was written) and the answer's values."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise ValueError("insert_if writes in one statement on PostgreSQL only.")
    lists = [list(objs) for objs in (first, *rest) if objs]
    if not lists or not first:
        raise ValueError("insert_if needs at least one instance in `first`.")
    q = connection.ops.quote_name
    pk = first[0]._meta.pk
    assert pk is not None
    queries = [f"WITH checked AS ({condition})"]
    params: list[Any] = [*condition_params]
    for n, objs in enumerate(lists):
        sql, values = _insert_sql(objs, connection, when="EXISTS (SELECT 1 FROM checked)")
        returning = f" RETURNING {q(pk.column)}" if n == 0 else ""
        queries.append(f"w{n} AS ({sql}{returning})")
        params += values
    made = f"(SELECT array_agg({q(pk.column)} ORDER BY {q(pk.column)}) FROM w0)"
    sql = f"{', '.join(queries)} SELECT {', '.join([made, *answer])}"
    with connection.cursor() as cursor:
        execute(cursor, sql, [*params, *answer_params], using)
        row = cursor.fetchone()
    keys = row[0]
    if keys is None:
        return None, tuple(row[1:])
    _saved(lists, keys, using)
    return keys, tuple(row[1:])


def _saved(lists: list[list[Model]], keys: Sequence[Any], using: str) -> None:
    """Mark inserted instances as saved; the first list's take `keys`, in order."""
    for obj, key in zip(lists[0], keys, strict=True):
        obj.pk = key
    for objs in lists:
        for obj in objs:
            obj._state.adding = False
            obj._state.db = using


# By model, vendor and whether values are cast: the fields an insert writes, their column
# list and each value's placeholder.
_INSERTS: dict[tuple[type[Model], str, bool], tuple[list[Any], str, list[str]]] = {}


def _insert_columns(
    model: type[Model], connection: Any, typed: bool
) -> tuple[list[Any], str, list[str]]:
    key = (model, connection.vendor, typed)
    found = _INSERTS.get(key)
    if found is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not (f.primary_key and f.auto_created)]
        if any(hasattr(f, "get_placeholder") for f in fields):
            raise ValueError(f"{meta.label} has a field that needs its own SQL placeholder.")
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        if typed:
            placeholders = [f"CAST(%s AS {f.db_type(connection)})" for f in fields]
        else:
            placeholders = ["%s"] * len(fields)
        found = _INSERTS[key] = (fields, columns, placeholders)
    return found


def _insert_sql(
    objs: Sequence[Model], connection: Any, when: str | None = None
) -> tuple[str, list[Any]]:
    """INSERT ... VALUES for unsaved instances of one model, their primary key left to the
    database; with `when`, INSERT ... SELECT of those values where that condition holds (each
    value cast to its column's type, as a SELECT cannot tell it)."""
    meta = objs[0]._meta
    fields, columns, placeholders = _insert_columns(objs[0].__class__, connection, when is not None)
    rows, params = [], []
    for obj in objs:
        if type(obj)._meta is not meta or obj.pk is not None:
            raise ValueError("insert_together inserts new instances of one model per list.")
        for f in fields:
            value = f.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):
                raise ValueError(f"{meta.label}.{f.name}: an expression, not a value.")
            params.append(f.get_db_prep_save(value, connection))
        rows.append(f"({', '.join(placeholders)})")
    into = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns})"
    if when is None:
        return f"{into} VALUES {', '.join(rows)}", params
    return f"{into} SELECT * FROM (VALUES {', '.join(rows)}) AS given WHERE {when}", params


# The statements prepared on each PostgreSQL connection: by the SQL they were prepared from,
# their names. A connection Django opens anew starts with none.
_prepared: WeakKeyDictionary[Any, dict[str, str]] = WeakKeyDictionary()
_issued: WeakKeyDictionary[Any, int] = WeakKeyDictionary()
# At most this many names per connection; beyond them a query runs as it is.
PREPARED_PER_CONNECTION = 50
_PLACEHOLDER = re.compile(r"%([%s])")


def execute(cursor: Any, sql: str, params: Sequence[Any], using: str = "default") -> None:
    """`cursor.execute(sql, params)`; on PostgreSQL as a statement prepared once per
    connection (`PREPARE`, then `EXECUTE`), so the server plans it once instead of on every
    request. For the few queries that answer every request of a frequent view, where planning
    cost the server more than running them. `DATABASE_PREPARED=0` turns it off (a pooler in
    transaction mode, such as PgBouncer's, cannot keep prepared statements).

    The first time, PREPARE and EXECUTE go in one round trip (one statement in the query log),
    so a request runs as many queries whether or not its connection prepared them before."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED:
        cursor.execute(sql, params)
        return
    names = _prepared.setdefault(connection.connection, {})
    name = names.get(sql)
    arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
    if name is not None:
        cursor.execute(f"EXECUTE {name}{arguments}", params)
        return
    issued = _issued.get(connection.connection, 0)
    if issued >= PREPARED_PER_CONNECTION:
        cursor.execute(sql, params)
        return
    # A name is never issued twice on a connection: when the EXECUTE fails (a unique
    # constraint, say), its PREPARE stays done, and the next try prepares under a new name.
    _issued[connection.connection] = issued + 1
    name = f"veerkracht_{issued + 1}"
    numbers = iter(range(1, len(params) + 1))
    numbered = _PLACEHOLDER.sub(lambda m: "%%" if m[1] == "%" else f"${next(numbers)}", sql)
    cursor.execute(f"PREPARE {name} AS {numbered}; EXECUTE {name}{arguments}", params)
    cursor.nextset()  # past PREPARE's empty result, to EXECUTE's rows
    names[sql] = name


def prepared_from(sql: str, using: str = "default") -> str:
    """The SQL an `EXECUTE` of `execute` runs (for tests that read the query log); other SQL
    as it is."""
    found = re.match(r"EXECUTE (veerkracht_\d+)\b", sql)
    if found is None:
        return sql
    names = _prepared.get(connections[using].connection, {})
    return next((text for text, name in names.items() if name == found[1]), sql)
