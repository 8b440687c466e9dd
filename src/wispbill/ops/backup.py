"""Backup and restore of the whole database, on SQLite and on PostgreSQL.

SQLite: SQLite's online backup API copies the database from one read snapshot in a single step,
so writers go on and the copy holds only whole transactions. PostgreSQL: pg_dump, which reads
from one snapshot too. A backup file is the owner's alone: it holds password hashes and keys.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from django.apps import apps
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# Restore replaces the whole schema: what an older or newer version left there must not remain.
PG_PROLOGUE = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


def backup(target: Path, *, alias: str = "default") -> None:
    """Write a consistent copy of the database to target, 0600, replacing it whole or not at
    all (a backup that fails half-way leaves no half a file behind)."""
    connection = connections[alias]
    target = target.resolve()
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        if connection.vendor == "sqlite":
            _sqlite_backup(Path(connection.settings_dict["NAME"]), partial)
        elif connection.vendor == "postgresql":
            _run(
                ["pg_dump", "--format=custom", "--file", str(partial)],
                connection.settings_dict,
            )
        else:
            raise BackupError(f"Backups of {connection.vendor} databases are not supported.")
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def has_clients(*, alias: str = "default") -> bool:
    """Whether the database holds any client (an empty or never migrated one does not)."""
    connection = connections[alias]
    table = apps.get_model("clients", "Client")._meta.db_table
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return False
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
        return cursor.fetchone() is not None


def check_restorable(source: Path, *, alias: str = "default") -> str:
    """The backup's kind, when it is one that this database can load."""
    vendor = connections[alias].vendor
    kind = backup_kind(source)
    if kind != vendor:
        raise BackupError(
            f"{source} is a {kind} backup, but this wispbill runs on {vendor} "
            "(DATABASE_URL decides which): restore it into the same kind of database."
        )
    return kind


def restore(source: Path, *, alias: str = "default") -> None:
    """Replace the whole database with the backup in source (the caller checked that it may)."""
    connection = connections[alias]
    kind = check_restorable(source, alias=alias)
    connection.close()
    if kind == "sqlite":
        _sqlite_restore(source, Path(connection.settings_dict["NAME"]))
    else:
        _pg_restore(source, connection.settings_dict)


def backup_kind(source: Path) -> str:
    """ "sqlite" or "postgresql", from the file's first bytes."""
    try:
        with source.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"Cannot read {source}: {exc.strerror}.") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{source} is not a wispbill backup.")


def _sqlite_backup(database: Path, target: Path) -> None:
    if not database.exists():
        raise BackupError(f"There is no database at {database} yet.")
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, from one read snapshot, while writers go on.
        source.backup(copy, pages=-1)
        # One self-contained file, without a -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("The copy failed its integrity check.")
    finally:
        copy.close()
        source.close()


def _sqlite_restore(source: Path, database: Path) -> None:
    backup_copy = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if backup_copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{source} is damaged (it fails SQLite's integrity check).")
        tables = {row[0] for row in backup_copy.execute("SELECT name FROM sqlite_master")}
        if "django_migrations" not in tables:
            raise BackupError(f"{source} is not a wispbill backup.")
        live = sqlite3.connect(database, timeout=30)
        try:
            backup_copy.backup(live, pages=-1)
            live.execute("PRAGMA journal_mode=WAL")
        finally:
            live.close()
    finally:
        backup_copy.close()


def _pg_restore(source: Path, settings_dict: dict) -> None:
    """pg_restore turns the dump into SQL that psql runs after dropping the schema, all in one
    transaction: a restore that fails leaves the database as it was."""
    env = _pg_env(settings_dict)
    with tempfile.TemporaryFile() as dump_errors, tempfile.TemporaryFile() as load_errors:
        dump = subprocess.Popen(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(source)],
            stdout=subprocess.PIPE,
            stderr=dump_errors,
            env=env,
        )
        load = subprocess.Popen(
            [
                _tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                "--file=-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=load_errors,
            env=env,
        )
        assert load.stdin is not None and dump.stdout is not None  # both opened as pipes
        try:
            load.stdin.write(PG_PROLOGUE)
            shutil.copyfileobj(dump.stdout, load.stdin)
        except BrokenPipeError:
            pass  # psql stopped at an error; its message says which
        finally:
            load.stdin.close()
            dump.stdout.close()
        dump_code, load_code = dump.wait(), load.wait()
        if dump_code or load_code:
            errors = dump_errors if dump_code else load_errors
            errors.seek(0)
            raise BackupError(
                "The restore failed and changed nothing: "
                + errors.read().decode(errors="replace").strip()[-2000:]
            )


def _run(command: list[str], settings_dict: dict) -> None:
    result = subprocess.run(
        [_tool(command[0]), *command[1:]],
        env=_pg_env(settings_dict),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed; it comes with PostgreSQL's client programs "
            "(Debian: apt install postgresql-client)."
        )
    return path


def _pg_env(settings_dict: dict) -> dict:
    """The connection for pg_dump, pg_restore and psql; the password goes in the environment,
    where other users' `ps` cannot read it."""
    env = dict(os.environ)
    values = {
        "PGDATABASE": settings_dict.get("NAME"),
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in {
        "sslmode": "PGSSLMODE",
        "sslrootcert": "PGSSLROOTCERT",
        "sslcert": "PGSSLCERT",
        "sslkey": "PGSSLKEY",
        "connect_timeout": "PGCONNECT_TIMEOUT",
    }.items():
        values[variable] = options.get(option)
    env.update({name: str(value) for name, value in values.items() if value})
    return env
