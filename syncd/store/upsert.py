"""Idempotent batched upserts, per dialect.

``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE <some column IS DISTINCT FROM new>``:
a row whose content did not change is not rewritten (its ``stored_at`` stays), so
re-syncing unchanged data costs no writes and no WAL churn.

The statement is built by SQLAlchemy and compiled once per shape; rows then go straight to
the driver with our own value conversion. SQLAlchemy's per-row parameter processing cost
more than the database work itself (bench/store_upsert.py: 5k -> 20k+ issue rows/s on SQLite).
SQLite gets ``executemany`` (a C loop); PostgreSQL gets one ``unnest`` of column arrays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from syncd.store.types import UtcDateTime

_Converter = Callable[[Any], Any]


def dedupe(rows: Sequence[dict[str, Any]], key: Sequence[str]) -> Sequence[dict[str, Any]]:
    """Last row wins per key: one statement may not touch the same row twice."""
    if len(key) == 1:
        k = key[0]
        keys = [row[k] for row in rows]
    else:
        keys = [tuple(row[k] for k in key) for row in rows]
    if len(set(keys)) == len(rows):
        return rows
    return list(dict(zip(keys, rows, strict=True)).values())


def insert_for(dialect_name: str, table: Table) -> Any:
    """The dialect's INSERT, the one that has ``on_conflict_do_*``."""
    return postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)


def _in_key_order(rows: Sequence[dict[str, Any]], key: Sequence[str]) -> Sequence[dict[str, Any]]:
    """Rows sorted by their conflict key, so concurrent transactions lock shared rows (the
    same accounts seen by two repositories) in the same order instead of deadlocking."""
    try:
        return sorted(rows, key=lambda row: tuple(row[k] for k in key))
    except TypeError:  # unorderable key values: keep the given order
        return rows


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    index_where: Any = None,
    ignore_in_compare: Sequence[str] = ("stored_at",),
    keep_known: Sequence[str] = (),
    follows: Mapping[str, str] | None = None,
    newer: str | None = None,
) -> None:
    """Insert ``rows`` or update the existing ones whose content differs.

    Every row must have the same keys. ``index_where`` names the predicate of a partial
    unique index used as the conflict target. Columns in ``keep_known`` never go back to
    NULL: a record that does not know a value (an e-mail hidden in one payload, shown in
    another) keeps the stored one. ``follows`` ties a column to a ``keep_known`` one: it
    keeps its stored value whenever that column is unknown (``email_verified`` goes with
    ``email``). With ``newer`` (a timestamp column) a stored row is only replaced by one
    at least as new.
    """
    if not rows:
        return
    rows = _in_key_order(dedupe(rows, key), key)
    columns = tuple(rows[0].keys())
    shape = _Shape(
        table,
        columns,
        tuple(key),
        index_where,
        tuple(ignore_in_compare),
        tuple(keep_known),
        "update",
        tuple(sorted((follows or {}).items())),
        newer,
    )
    _execute(conn, shape, rows)


def insert_missing(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    index_where: Any = None,
) -> None:
    """Insert rows whose key is not stored yet; leave existing rows untouched."""
    if not rows:
        return
    rows = _in_key_order(dedupe(rows, key), key)
    shape = _Shape(table, tuple(rows[0].keys()), tuple(key), index_where, (), (), "nothing")
    _execute(conn, shape, rows)


class _Shape:
    """What makes two upserts share one compiled statement."""

    def __init__(
        self,
        table: Table,
        columns: tuple[str, ...],
        key: tuple[str, ...],
        index_where: Any,
        ignore_in_compare: tuple[str, ...],
        keep_known: tuple[str, ...],
        on_conflict: str,
        follows: tuple[tuple[str, str], ...] = (),
        newer: str | None = None,
    ) -> None:
        self.table = table
        self.follows = follows
        self.newer = newer
        # The compiled INSERT lists columns in table order; values must follow it.
        self.columns = tuple(c.name for c in table.columns if c.name in columns)
        if len(self.columns) != len(columns):
            unknown = set(columns) - set(self.columns)
            raise KeyError(f"{table.name} has no columns {sorted(unknown)}")
        self.key = key
        self.index_where = index_where
        self.ignore_in_compare = ignore_in_compare
        self.keep_known = keep_known
        self.on_conflict = on_conflict
        self.cache_key = (
            table.name,
            columns,
            key,
            str(index_where),
            ignore_in_compare,
            keep_known,
            on_conflict,
            follows,
            newer,
        )

    def statement(self, dialect_name: str) -> Any:
        table = self.table
        stmt = insert_for(dialect_name, table)
        updatable = [c for c in self.columns if c not in self.key]
        if self.on_conflict == "nothing" or not updatable:
            return stmt.on_conflict_do_nothing(
                index_elements=list(self.key), index_where=self.index_where
            )
        new: dict[str, Any] = {
            c: func.coalesce(stmt.excluded[c], table.c[c])
            if c in self.keep_known
            else stmt.excluded[c]
            for c in updatable
        }
        for column, leader in self.follows:
            new[column] = case(
                (stmt.excluded[leader].is_(None), table.c[column]), else_=stmt.excluded[column]
            )
        compared = [c for c in updatable if c not in self.ignore_in_compare]
        changed = (
            or_(*(table.c[c].is_distinct_from(new[c]) for c in compared)) if compared else None
        )
        if self.newer is not None:
            not_older = stmt.excluded[self.newer] >= table.c[self.newer]
            changed = not_older if changed is None else and_(not_older, changed)
        return stmt.on_conflict_do_update(
            index_elements=list(self.key),
            index_where=self.index_where,
            set_=new,
            where=changed,
        )


_compiled: dict[tuple[Any, ...], tuple[str, list[_Converter]]] = {}


def _execute(conn: Connection, shape: _Shape, rows: Sequence[dict[str, Any]]) -> None:
    dialect = conn.dialect
    cache_key = (dialect.name, *shape.cache_key)
    if cache_key not in _compiled:
        compiled = shape.statement(dialect.name).compile(
            dialect=dialect, column_keys=list(shape.columns), for_executemany=True
        )
        converters = [_converter(dialect.name, shape.table.c[c].type) for c in shape.columns]
        sql = str(compiled)
        if dialect.name == "postgresql":
            sql = _unnest_sql(sql, shape, dialect)
        _compiled[cache_key] = (sql, converters)
    sql, converters = _compiled[cache_key]
    if dialect.name == "sqlite":
        conn.exec_driver_sql(sql, _tuples(rows, shape.columns, converters))
        return
    # PostgreSQL: one statement per batch, each column sent as one array and unnested, so
    # the statement text (and its plan) is the same whatever the batch size.
    columns = list(zip(*_tuples(rows, shape.columns, converters), strict=True))
    conn.exec_driver_sql(sql, tuple(list(values) for values in columns))


def _tuples(
    rows: Sequence[dict[str, Any]], columns: tuple[str, ...], converters: list[_Converter]
) -> list[tuple[Any, ...]]:
    get = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    convert = [(i, c) for i, c in enumerate(converters) if c is not _same]
    if not convert:
        return [get(row) for row in rows]
    out = []
    for row in rows:
        values = list(get(row))
        for i, c in convert:
            values[i] = c(values[i])
        out.append(tuple(values))
    return out


def _unnest_sql(sql: str, shape: _Shape, dialect: Any) -> str:
    """``INSERT ... VALUES (%(a)s, ...) ...`` -> ``INSERT ... SELECT * FROM unnest(%s::T1[],
    ...) ...``, the array types being the columns' own."""
    match = re.search(r"VALUES \((.*?)\)(?= ON CONFLICT|$)", sql)
    if match is None:
        raise ValueError(f"unexpected INSERT shape: {sql[:200]}")
    arrays = ", ".join(
        f"%s::{shape.table.c[c].type.dialect_impl(dialect).compile(dialect=dialect)}[]"
        for c in shape.columns
    )
    # WHERE true: PostgreSQL's parser needs it to tell ON CONFLICT from a join clause.
    return f"{sql[: match.start()]}SELECT * FROM unnest({arrays}) WHERE true{sql[match.end() :]}"


def _converter(dialect_name: str, column_type: Any) -> _Converter:
    """Python value -> what the driver stores, matching what SQLAlchemy itself would bind."""
    if isinstance(column_type, UtcDateTime):
        return _sqlite_datetime if dialect_name == "sqlite" else _aware
    if isinstance(column_type, JSON):
        if dialect_name == "sqlite":
            return lambda v: None if v is None else json.dumps(v)
        from psycopg.types.json import Jsonb

        return lambda v: None if v is None else Jsonb(v)
    if isinstance(column_type, Date) and dialect_name == "sqlite":
        return lambda v: None if v is None else v.isoformat()
    return _same


def _same(value: Any) -> Any:
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
    return value


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format, so reads and comparisons agree.
    if value is None:
        return None
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def one_of(column: Any, values: Sequence[Any], dialect_name: str) -> Any:
    """``column IN (values)`` with the whole list as ONE bound parameter (a JSON array on
    SQLite, a PostgreSQL array): no per-value expansion, one cached statement."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(
        select(literal_column("value")).select_from(
            func.json_each(bindparam(None, json.dumps(list(values)), type_=String()))
        )
    )


def id_map(
    conn: Connection,
    table: Table,
    key_column: str,
    values: Iterable[Any],
    **filters: Any,
) -> dict[Any, int]:
    """``{key value: id}`` for the rows of ``table`` whose ``key_column`` is in ``values``."""
    wanted = list({v for v in values if v is not None})
    if not wanted:
        return {}
    col = table.c[key_column]
    stmt = select(col, table.c.id).where(one_of(col, wanted, conn.dialect.name))
    for name, value in filters.items():
        stmt = stmt.where(table.c[name] == value)
    return {k: i for k, i in conn.execute(stmt)}
