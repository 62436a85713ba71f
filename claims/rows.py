"""Hand-written SELECTs: a model's rows read as the ORM reads them, with a query built
once per database.

Composing a query with the ORM costs about ten times what running it does, and the app's
most frequent requests (an analyst annotating claim after claim) read the same few rows
each time: the session and its user, the claim with the member's role, its verdicts,
citations, evidence and history (``claims.access``), and inside the write verbs the row a
change starts from (``one``). Each gives what the ORM would: tests/test_round_trip.py and
tests/test_rows.py hold them to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model


class Columns:
    """One model's columns in a hand-written SELECT, each qualified by ``alias``, and its
    instances built from a row's values as the ORM builds them: each value through the
    database's converters (SQLite's dates, booleans, UUIDs). Only the fields ``only``
    names (all by default) but those ``leave_out`` names are read; the rest are deferred,
    read on first use (one query each: tests pin the count)."""

    def __init__(
        self,
        model: type[Model],
        alias: str,
        *,
        only: tuple[str, ...] = (),
        leave_out: tuple[str, ...] = (),
    ) -> None:
        self.model, self.alias = model, alias
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if (not only or f.attname in only) and f.attname not in leave_out
        ]
        self.names = [f.attname for f in self.fields]
        # Per connection (one per thread): the converters of the columns that have any.
        self.converters: WeakKeyDictionary[Any, list[tuple[int, Any, list[Any]]]] = (
            WeakKeyDictionary()
        )

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self) -> str:
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return ", ".join(f"{self.alias}.{quote(str(f.column))}" for f in self.fields)

    def table(self) -> str:
        """The model's table, as ``alias``: for a FROM or JOIN clause."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return f"{quote(self.model._meta.db_table)} {self.alias}"

    def build(self, row: Sequence[Any], at: int = 0) -> Any:
        """The instance whose values start at ``row[at]``."""
        db = connections[DEFAULT_DB_ALIAS]
        converters = self.converters.get(db)
        if converters is None:
            every = [
                (i, f.cached_col, db.ops.get_db_converters(f.cached_col) + f.get_db_converters(db))
                for i, f in enumerate(self.fields)
            ]
            converters = self.converters[db] = [found for found in every if found[2]]
        values = list(row[at : at + len(self.fields)])
        for i, column, functions in converters:
            for function in functions:
                values[i] = function(values[i], column, db)
        return self.model.from_db(db.alias, self.names, values)


def vendor() -> str:
    """The database's kind: hand-written SELECTs are written once for each."""
    return connections[DEFAULT_DB_ALIAS].vendor


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a hand-written SELECT."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class Lookup(NamedTuple):
    """``one``'s SELECT of a model by some of its fields, built once per database."""

    columns: Columns
    fields: list[Field[Any, Any]]
    sql: str


@cache
def _lookup(model: type[Model], names: tuple[str, ...], vendor: str) -> Lookup:
    columns = Columns(model, "t")
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    fields = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, Field) or not field.concrete:
            raise TypeError(f"{model.__name__}.{name} is not a column.")
        fields.append(field)
    where = " AND ".join(f"t.{quote(str(field.column))} = %s" for field in fields)
    return Lookup(columns, fields, f"SELECT {columns.sql()} FROM {columns.table()} WHERE {where}")


def one[M: Model](model: type[M], **key: Any) -> M | None:
    """The row of ``model`` whose fields have the values ``key`` gives, a unique key (a
    related field's value may be an instance), or None: what
    ``model._base_manager.filter(**key).first()`` gives, at a fraction of its cost."""
    names = tuple(sorted(key))
    lookup = _lookup(model, names, vendor())
    connection = connections[DEFAULT_DB_ALIAS]
    params = []
    for name, field in zip(names, lookup.fields, strict=True):
        value = key[name]
        if isinstance(value, Model):
            value = value.pk
        params.append(field.get_db_prep_value(value, connection))
    found = fetch(lookup.sql, params)
    if len(found) > 1:
        raise ValueError(f"{model.__name__} has {len(found)} rows for {key}: not a unique key.")
    row: M | None = lookup.columns.build(found[0]) if found else None
    return row
