"""Scratch files in the data dir (a checked import waiting for its confirmation, a forecast's
snapshot): the owner's alone, and dropped once stale, whatever crash or abandoned page left
them behind."""

import contextlib
from pathlib import Path

from django.conf import settings


def scratch_folder(name: str) -> Path:
    folder = Path(settings.DATA_DIR) / name
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def scratch_tidy(folder: Path, *, fresh: Path, older_than: int, pattern: str = "*") -> None:
    """Remove the files of `folder` (matching `pattern`) written more than `older_than`
    seconds before `fresh`, a file just written: ages are read on the file system's clock
    alone."""
    now = fresh.stat().st_mtime
    for old in folder.glob(pattern):
        with contextlib.suppress(FileNotFoundError):
            if now - old.stat().st_mtime > older_than:
                old.unlink()
