"""Database helpers the services share: row locks, ids from requests, the generic update."""

import json
from collections.abc import Collection, Iterable, Sequence

from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL


def locked(qs: QuerySet) -> QuerySet:
    """Lock the rows a read-then-write service reads.

    PostgreSQL locks the rows; SQLite already holds the database's write lock, because its
    transactions start IMMEDIATE (see settings).
    """
    if not connection.features.has_select_for_update:
        return qs
    return qs.select_for_update(of=("self",))


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


def to_id(value) -> int | None:
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

    def to_url(self, value) -> str:
        return str(value)


def jsonable(value):
    """A field's value as an audit log keeps it: ids for related rows, text for dates and
    money, the value itself for None, booleans, numbers and text."""
    if isinstance(value, Model):
        return value.pk
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def model_update(
    *, instance: Model, fields: Iterable[str], data: dict, exclude_clean: Iterable[str] = ()
) -> dict[str, list]:
    """Set the `fields` that `data` carries, validate the row and save it; returns the audit
    diff `{field: [before, after]}` of what really changed (nothing saved when nothing did)."""
    diff = {}
    for field in fields:
        if field not in data:
            continue
        before, after = getattr(instance, field), data[field]
        if before != after:
            diff[field] = [jsonable(before), jsonable(after)]
            setattr(instance, field, after)
    instance.full_clean(exclude=list(exclude_clean))
    if diff:
        instance.save()
    return diff


def bulk_insert(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """Insert plain rows (values in `fields` order) through the driver's bulk path (COPY on
    PostgreSQL, executemany elsewhere): no model instances, no per-row SQL. For the large
    writes of the daily run and the mass updates, where the ORM's per-object cost would
    dominate. Returns the count of rows sent (with `ignore_conflicts`, rows a unique
    constraint refuses are skipped silently)."""
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
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
    columns = [opts.get_field(name) for name in fields]
    quote, ops = connection.ops.quote_name, connection.ops
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    params = _adapted(
        ([obj.pk, *(getattr(obj, column.attname) for column in columns)] for obj in objs),
        [None, *(_converter(column, ops) for column in columns)],
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [quote(column.column) for column in columns]
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
                    table, ", ".join(f"{quote(column.column)} = %s" for column in columns), pk
                ),
                [(*row[1:], row[0]) for row in params],
            )
    return len(params)


class JSONText(str):
    """A JSON value already encoded, which `bulk_insert` sends as it is: a bulk writer that
    knows its rows' shape encodes them with a format string, ten times cheaper than
    json.dumps of a dict per row."""


def _converter(column, ops):
    """What a value needs before the driver takes it: JSON, dates and timestamps get the
    backend's adaptation (SQLite keeps text); money and booleans pass as they are."""
    kind = column.get_internal_type()
    if kind == "JSONField":
        return lambda value: (
            value if type(value) is JSONText else ops.adapt_json_value(value, column.encoder)
        )
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    return None


def _adapted(rows: Iterable[Sequence], converters: list) -> list[tuple]:
    """The rows with each column converted, a column at a time: a column that holds few
    distinct values (the run's timestamp, the cycles' dates, the shared reason) converts
    each of them once, not once per row."""
    rows = [tuple(row) for row in rows]
    if not rows or not any(converters):
        return rows
    columns = list(zip(*rows, strict=True))
    for index, convert in enumerate(converters):
        if convert is not None:
            columns[index] = _converted(columns[index], convert)
    return list(zip(*columns, strict=True))


def _converted(column: tuple, convert) -> tuple:
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


def rows_between(qs, start: int, stop: int, count: int) -> list:
    """`qs[start:stop]` for an ordered queryset of `count` rows. Past the middle it reads
    from the other end (the reversed order, a short offset), so the last page of 100,000
    rows costs what the first does."""
    if start <= count // 2 or not qs.ordered:
        return list(qs[start:stop])
    stop = min(stop, count)
    rows = list(qs.reverse()[count - stop : count - start])
    rows.reverse()
    return rows
