"""Model instances from a hand-written query's row, converted as the ORM converts them.

For the few queries that answer every request of a frequent view: the ORM spends more CPU
building such a query (its joins, its annotations) than the database spends answering it.
`Columns` names a model's columns under an alias for the SELECT list and turns its part of the
row back into an instance, through the same converters a queryset would apply (SQLite's
datetimes and UUIDs, booleans), so the instance is the one `Model.objects.get` would give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

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
        self._steps: dict[str, list[tuple[Any, list[Callable[..., Any]]]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self, using: str = "default") -> str:
        """The SELECT list for these columns: `alias."column", ...`."""
        quote = connections[using].ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def converters(self, using: str = "default") -> list[tuple[Any, list[Callable[..., Any]]]]:
        """Per column, its expression and the converters the ORM applies to a value read from
        `using` (as the SQL compiler gathers them)."""
        connection = connections[using]
        found = self._steps.get(connection.vendor)
        if found is None:
            found = []
            for f in self.fields:
                column = f.get_col(self.alias)
                steps = connection.ops.get_db_converters(column)
                found.append((column, [*steps, *f.get_db_converters(connection)]))  # type: ignore[attr-defined]
            self._steps[connection.vendor] = found
        return found

    def values(self, row: Sequence[Any], at: int = 0, using: str = "default") -> dict[str, Any]:
        """This model's values from `row`, from position `at` on, converted, by attname."""
        connection = connections[using]
        converted = {}
        for offset, (name, (column, steps)) in enumerate(
            zip(self.attnames, self.converters(using), strict=True)
        ):
            value = row[at + offset]
            for step in steps:
                value = step(value, column, connection)
            converted[name] = value
        return converted

    def instance(self, row: Sequence[Any], at: int = 0, using: str = "default") -> M:
        """The instance whose columns begin at position `at` of `row`."""
        values = self.values(row, at, using)
        return self.model.from_db(using, self.attnames, [values[n] for n in self.attnames])
