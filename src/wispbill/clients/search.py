"""Finding clients fast: a trigram index over the folded search column (`Client.search_text`),
so any part of a name, e-mail, phone, address or IP is found without reading every client.

SQLite: an FTS5 table with the trigram tokenizer, kept by triggers. PostgreSQL: a GIN trigram
index (pg_trgm). Both are made, and remade, after every `migrate` (a migration that rebuilds
the clients table drops SQLite's triggers with it); where they cannot be made (no pg_trgm), the
search still works, by reading the column.
"""

import logging

from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from wispbill.clients.models import Client

log = logging.getLogger(__name__)
INDEX = "clients_client_search"
# Trigram indexes answer words of three characters or more; shorter ones read the column.
INDEXED = 3
SEARCHED = ("name", "email", "phone", "address", "ip")


def _sqlite_statements(table: str) -> list[str]:
    columns = ", ".join(SEARCHED)
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX} USING fts5(search_text, "
        f"content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {INDEX}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {INDEX}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER IF NOT EXISTS {INDEX}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {INDEX}({INDEX}, rowid, search_text) "
        f"VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER IF NOT EXISTS {INDEX}_au AFTER UPDATE OF {columns} ON {table} BEGIN "
        f"INSERT INTO {INDEX}({INDEX}, rowid, search_text) "
        f"VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {INDEX}(rowid, search_text) VALUES (new.id, new.search_text); END",
    ]


def ensure_search_index(using: str = "default") -> None:
    """Make the trigram index if it is missing (and fill it again if its triggers were)."""
    connection = connections[using]
    table = Client._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [f"{INDEX}_%"],
            )
            complete = cursor.fetchone()[0] == 3
            for statement in _sqlite_statements(table):
                cursor.execute(statement)
            if not complete:
                cursor.execute(f"INSERT INTO {INDEX}({INDEX}) VALUES ('rebuild')")
        elif connection.vendor == "postgresql":
            try:
                with transaction.atomic(using=using):  # a refusal must not spoil the rest
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    cursor.execute(
                        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} "
                        "USING gin (search_text gin_trgm_ops)"
                    )
            except DatabaseError:
                log.warning("No trigram index for the clients search (pg_trgm unavailable).")


# Past this many matches the index no longer pays on SQLite (see `containing`).
BROAD = 1000


def search_index_tidy(using: str = "default") -> None:
    """Merge SQLite's trigram index into one piece. Each bulk write of clients (an import,
    thousands of rows) leaves it in many pieces that every search must read (a search over
    100,000 imported clients took 50-80 ms instead of 0.4 ms); the scheduler also tidies it
    once a day. PostgreSQL's index needs nothing (its own vacuum tidies it)."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {INDEX}({INDEX}) VALUES ('optimize')")


def containing(words: list[str]) -> Q:
    """Clients whose folded search text contains every one of `words` (already folded).

    On SQLite the index is asked once for all its words when they are rare; a search that
    matches more than `BROAD` clients ("cliente", "10.0.") reads the column instead: the
    list, in name order, then stops at its first page's matches, where a set of every match
    from the index cost 0.15 s at 100,000 clients (twice: the count and the page). One small
    probe of the index (it stops at `BROAD` + 1) tells the two apart."""
    condition = Q()
    indexed = [w for w in words if len(w) >= INDEXED]
    if indexed and connections["default"].vendor == "sqlite":
        likes = " AND ".join(["search_text LIKE %s"] * len(indexed))
        params = [f"%{w}%" for w in indexed]
        if not _broad(likes, params):
            condition &= Q(pk__in=RawSQL(f"SELECT rowid FROM {INDEX} WHERE {likes}", params))
            words = [w for w in words if len(w) < INDEXED]
    for word in words:
        condition &= Q(search_text__contains=word)
    return condition


def _broad(likes: str, params: list[str]) -> bool:
    """Whether the index finds more than `BROAD` clients for these words."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {INDEX} WHERE {likes} LIMIT %s)",
            [*params, BROAD + 1],
        )
        return cursor.fetchone()[0] > BROAD


def on_post_migrate(sender, *, using: str = "default", **kwargs) -> None:
    if sender.name == "wispbill.clients":
        ensure_search_index(using)
