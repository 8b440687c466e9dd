"""Everything wispbill writes is readable by its owner only: the data dir holds the database,
password hashes, session keys and the key that encrypts router passwords."""

import contextlib
import os
import stat
from pathlib import Path

# New files 0600 and folders 0700, in this process and in every process it starts.
PRIVATE_UMASK = 0o077


def restrict_umask() -> None:
    """Make this process (and its children) create files for their owner only."""
    os.umask(PRIVATE_UMASK)


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
