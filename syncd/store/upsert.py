"""Idempotent batched upserts, one statement per batch, per dialect.

``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE <some column IS DISTINCT FROM new>``:
a row whose content did not change is not rewritten (its ``stored_at`` stays), so
re-syncing unchanged data costs no writes and no WAL churn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are not implemented for {name}")


def dedupe(rows: Iterable[dict[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """Last row wins per key: one statement may not touch the same row twice."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        by_key[tuple(row[k] for k in key)] = row
    return list(by_key.values())


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    index_where: Any = None,
    ignore_in_compare: Sequence[str] = ("stored_at",),
    keep_known: Sequence[str] = (),
) -> None:
    """Insert ``rows`` or update the existing ones whose content differs.

    Every row must have the same keys. ``index_where`` names the predicate of a partial
    unique index used as the conflict target. Columns in ``keep_known`` never go back to
    NULL: a record that does not know a value (an e-mail hidden in one payload, shown in
    another) keeps the stored one.
    """
    if not rows:
        return
    rows = dedupe(rows, key)
    columns = list(rows[0].keys())
    stmt = _insert(conn, table)
    updatable = [c for c in columns if c not in key]
    if updatable:
        compared = [c for c in updatable if c not in ignore_in_compare]
        new = {
            c: func.coalesce(stmt.excluded[c], table.c[c]) if c in keep_known else stmt.excluded[c]
            for c in updatable
        }
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key),
            index_where=index_where,
            set_=new,
            where=or_(*(table.c[c].is_distinct_from(new[c]) for c in compared))
            if compared
            else None,
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key), index_where=index_where)
    conn.execute(stmt, rows)  # executemany: the driver batches (sqlite3 C loop, psycopg pipeline)


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
    rows = dedupe(rows, key)
    stmt = _insert(conn, table).on_conflict_do_nothing(
        index_elements=list(key), index_where=index_where
    )
    conn.execute(stmt, rows)


def id_map(
    conn: Connection,
    table: Table,
    key_column: str,
    values: Iterable[Any],
    **filters: Any,
) -> dict[Any, int]:
    """``{key value: id}`` for the rows of ``table`` whose ``key_column`` is in ``values``."""
    wanted = list({v for v in values if v is not None})
    found: dict[Any, int] = {}
    col = table.c[key_column]
    for start in range(0, len(wanted), 5_000):
        stmt = select(col, table.c.id).where(col.in_(wanted[start : start + 5_000]))
        for name, value in filters.items():
            stmt = stmt.where(table.c[name] == value)
        found.update({k: i for k, i in conn.execute(stmt)})
    return found


def pair_map(
    conn: Connection, table: Table, columns: tuple[str, str], pairs: Iterable[tuple[Any, Any]]
) -> dict[tuple[Any, Any], int]:
    """Like ``id_map`` for a two-column key."""
    wanted = list(set(pairs))
    a, b = table.c[columns[0]], table.c[columns[1]]
    found: dict[tuple[Any, Any], int] = {}
    for start in range(0, len(wanted), 2_000):
        stmt = select(a, b, table.c.id).where(tuple_(a, b).in_(wanted[start : start + 2_000]))
        found.update({(x, y): i for x, y, i in conn.execute(stmt)})
    return found
