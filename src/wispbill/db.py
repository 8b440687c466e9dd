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
