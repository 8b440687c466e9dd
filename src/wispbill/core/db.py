"""Database helpers the services share: row locks, ids from requests, the generic update."""

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, JSONField, Manager, Model, QuerySet
from django.db.models.expressions import RawSQL

_M = TypeVar("_M", bound=Model)
# A column's adaptation before the driver takes the value (None: the value as it is).
Converter = Callable[[Any], Any] | None


def locked(rows: "QuerySet[_M] | Manager[_M]") -> QuerySet[_M]:
    """Lock the rows a read-then-write service reads.

    PostgreSQL locks the rows; SQLite already holds the database's write lock, because its
    transactions start IMMEDIATE (see settings).
    """
    qs = rows.all()
    if not connection.features.has_select_for_update:
        return qs
    return qs.select_for_update(of=("self",))


def max_length_of(model: type[Model], name: str) -> int:
    """The `max_length` of a model's text field (a field without one is a mistake here)."""
    length = getattr(model._meta.get_field(name), "max_length", None)
    if not isinstance(length, int):
        raise ValueError(f"{model.__name__}.{name} has no max_length")
    return length


def among(ids: Collection[int]) -> RawSQL:
    """The right-hand side of an `__in` filter over many ids, sent as one parameter (a JSON
    array on SQLite, an array on PostgreSQL): `filter(pk__in=among(ids))`. Django's own list
    builds a lookup per id and SQLite splits it into chunks of 999; the daily run filters
    thousands of ids per batch, where that cost was a tenth of the run."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(list(ids))])


# The largest id a database integer column holds on every backend we run on.
MAX_ID = 2**63 - 1


def to_id(value: object) -> int | None:
    """A query-string id as an int; None when it is empty, not a number, or out of range."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


class IdConverter:
    """URL ids: digits that fit a database integer, so a huge one is a 404, not a crash. No id
    is 0 (nor starts with one): `/clients/0/` is a 404, never the page that creates a client."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: object) -> str:
        return str(value)


def jsonable(value: object) -> object:
    """A field's value as an audit log keeps it: ids for related rows, text for dates and
    money, the value itself for None, booleans, numbers and text."""
    if isinstance(value, Model):
        return value.pk
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def model_changes(
    *, instance: Model, fields: Iterable[str], data: dict[str, Any]
) -> dict[str, list[object]]:
    """The audit diff `{field: [before, after]}` of the `fields` that `data` carries and
    changes, without setting anything: what a service authorizes before it writes."""
    return {
        field: [jsonable(getattr(instance, field)), jsonable(data[field])]
        for field in fields
        if field in data and getattr(instance, field) != data[field]
    }


def model_update(
    *,
    instance: Model,
    fields: Iterable[str],
    data: dict[str, Any],
    exclude_clean: Iterable[str] = (),
) -> dict[str, list[object]]:
    """Set the `fields` that `data` carries, validate the row and save it; returns the audit
    diff `{field: [before, after]}` of what really changed (nothing saved when nothing did)."""
    diff = model_changes(instance=instance, fields=fields, data=data)
    for field in diff:
        setattr(instance, field, data[field])
    instance.full_clean(exclude=list(exclude_clean))
    if diff:
        instance.save()
    return diff


def bulk_insert(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """Insert plain rows (values in `fields` order) through the driver's bulk path (COPY on
    PostgreSQL, executemany elsewhere): no model instances, no per-row SQL. For the large
    writes of the daily run and the mass updates, where the ORM's per-object cost would
    dominate. Returns the count of rows sent (with `ignore_conflicts`, rows a unique
    constraint refuses are skipped silently)."""
    opts = model._meta
    columns = [_concrete(opts.get_field(name)) for name in fields]
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    names = ", ".join(quote(column.column) for column in columns)
    ops = connection.ops  # resolved once: the proxy costs a lookup per use
    params = _adapted(rows, [_converter(column, ops) for column in columns])
    if not params:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not ignore_conflicts:
            # COPY: PostgreSQL's own bulk path, several times faster than executemany.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
        else:
            cursor.executemany(
                "INSERT INTO {} ({}) VALUES ({}){}".format(
                    table,
                    names,
                    ", ".join(["%s"] * len(columns)),
                    " ON CONFLICT DO NOTHING" if ignore_conflicts else "",
                ),
                params,
            )
    return len(params)


def bulk_set(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of model instances (all of one model) back to their rows, in one
    statement on PostgreSQL (an UPDATE from the columns sent as arrays) and the driver's
    executemany on SQLite: `QuerySet.bulk_update`'s CASE per row cost seconds per thousand
    rows, most of it building the expression. Returns the count of rows sent."""
    if not objs:
        return 0
    opts = objs[0]._meta
    columns: list[Field[Any, Any]] = []
    for name in fields:
        column = opts.get_field(name)
        if not isinstance(column, Field) or column.column is None:
            raise TypeError(f"{name} is not a column of {opts.label}")
        columns.append(column)
    column_names = [str(column.column) for column in columns]
    quote, ops = connection.ops.quote_name, connection.ops
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    params = _adapted(
        ([obj.pk, *(getattr(obj, column.attname) for column in columns)] for obj in objs),
        [None, *(_converter(column, ops) for column in columns)],
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [quote(name) for name in column_names]
            cursor.execute(
                "UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({pk}, {names}) "
                "WHERE {table}.{pk} = v.{pk}".format(
                    table=table,
                    pk=pk,
                    sets=", ".join(f"{name} = v.{name}" for name in names),
                    arrays=", ".join(
                        f"%s::{field.db_type(connection)}[]" for field in (opts.pk, *columns)
                    ),
                    names=", ".join(names),
                ),
                [list(values) for values in zip(*params, strict=True)],
            )
        else:
            cursor.executemany(
                "UPDATE {} SET {} WHERE {} = %s".format(
                    table, ", ".join(f"{quote(name)} = %s" for name in column_names), pk
                ),
                [(*row[1:], row[0]) for row in params],
            )
    return len(params)


class JSONText(str):
    """A JSON value already encoded, which `bulk_insert` sends as it is: a bulk writer that
    knows its rows' shape encodes them with a format string, ten times cheaper than
    json.dumps of a dict per row."""


def _concrete(field: object) -> "Field[Any, Any]":
    """A model field with a column of its own (bulk_insert writes no relation's other side)."""
    if not isinstance(field, Field) or not field.column:
        raise ValueError(f"{field} has no column of its own")
    return field


def _converter(column: "Field[Any, Any]", ops: BaseDatabaseOperations) -> Converter:
    """What a value needs before the driver takes it: JSON, dates and timestamps get the
    backend's adaptation (SQLite keeps text); money and booleans pass as they are."""
    kind = column.get_internal_type()
    if isinstance(column, JSONField):
        encoder = column.encoder
        return lambda value: (
            value if type(value) is JSONText else ops.adapt_json_value(value, encoder)
        )
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    return None


def _adapted(rows: Iterable[Sequence[Any]], converters: list[Converter]) -> list[tuple[Any, ...]]:
    """The rows with each column converted, a column at a time: a column that holds few
    distinct values (the run's timestamp, the cycles' dates, the shared reason) converts
    each of them once, not once per row."""
    tuples = [tuple(row) for row in rows]
    if not tuples or not any(converters):
        return tuples
    columns = list(zip(*tuples, strict=True))
    for index, convert in enumerate(converters):
        if convert is not None:
            columns[index] = _converted(columns[index], convert)
    return list(zip(*columns, strict=True))


def _converted(column: tuple[Any, ...], convert: Callable[[Any], Any]) -> tuple[Any, ...]:
    try:
        distinct = set(column)
    except TypeError:  # unhashable values (a dict for a JSON column): one by one
        return tuple(map(convert, column))
    if len(distinct) == 1:
        return (convert(column[0]),) * len(column)
    if len(distinct) > len(column) // 4:
        return tuple(map(convert, column))
    as_sent = {value: convert(value) for value in distinct}
    return tuple(map(as_sent.__getitem__, column))


def rows_between(qs: QuerySet[_M], start: int, stop: int, count: int) -> list[_M]:
    """`qs[start:stop]` for an ordered queryset of `count` rows. Past the middle it reads
    from the other end (the reversed order, a short offset), so the last page of 100,000
    rows costs what the first does."""
    if start <= count // 2 or not qs.ordered:
        return list(qs[start:stop])
    stop = min(stop, count)
    rows = list(qs.reverse()[count - stop : count - start])
    rows.reverse()
    return rows
