"""Everything wispbill writes is readable by its owner only: the data dir holds the database,
password hashes, session keys and the key that encrypts router passwords."""

import contextlib
import os
import secrets
import stat
from pathlib import Path

# New files 0600 and folders 0700, in this process and in every process it starts.
PRIVATE_UMASK = 0o077


SECRET_KEY_FILE = "secret_key"
# collectstatic's target (STATIC_ROOT), inside the data dir.
STATIC_FOLDER = "static"


def restrict_umask() -> None:
    """Make this process (and its children) create files for their owner only."""
    os.umask(PRIVATE_UMASK)


def data_dir() -> Path:
    """The data dir that WISPBILL_DATA_DIR names (default ./var), as an absolute path."""
    return Path(os.environ.get("WISPBILL_DATA_DIR", "./var")).resolve()


def stored_secret_key(root: Path) -> str:
    """The secret key generated into the data dir, or "" before start-up has made one."""
    try:
        return (root / SECRET_KEY_FILE).read_text().strip()
    except FileNotFoundError:
        return ""


def start_up() -> Path:
    """What every wispbill process does before Django reads its settings (the CLI, wsgi.py):
    files for the owner only, then the data dir ready. Settings only read; this writes."""
    restrict_umask()
    return prepare_data_dir()


def prepare_data_dir() -> Path:
    """Make the data dir and its static folder, tighten what an older version left open, and
    generate the secret key once unless WISPBILL_SECRET_KEY gives one."""
    root = data_dir()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    (root / STATIC_FOLDER).mkdir(mode=0o700, exist_ok=True)
    tighten(root)
    if not os.environ.get("WISPBILL_SECRET_KEY"):
        _generate_secret_key(root / SECRET_KEY_FILE)
    return root


def _generate_secret_key(path: Path) -> None:
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(50))


def tighten(root: Path) -> None:
    """Take group and other permissions off root and everything under it.

    Files left by older versions (or by a process started with a looser umask) were 0644;
    files and folders we cannot change (not ours) are left alone rather than stopping start-up.
    """
    _strip(root)
    for folder, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            _strip(Path(folder) / name)


def _strip(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:  # a -wal or -shm file that SQLite just removed
        return
    if stat.S_ISLNK(mode) or not mode & 0o077:
        return
    with contextlib.suppress(PermissionError):
        path.chmod(stat.S_IMODE(mode) & ~0o077)
