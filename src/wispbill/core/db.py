"""Database helpers shared by the services."""

from django.db import connection
from django.db.models import QuerySet


def locked(qs: QuerySet) -> QuerySet:
    """Lock the rows a read-then-write service reads.

    PostgreSQL locks the rows; SQLite already holds the database's write lock, because its
    transactions start IMMEDIATE (see settings).
    """
    if not connection.features.has_select_for_update:
        return qs
    return qs.select_for_update(of=("self",))


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
    """URL ids: digits that fit a database integer, so a huge one is a 404, not a crash."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
