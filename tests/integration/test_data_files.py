"""Every file wispbill keeps in its data dir is readable by its owner only: the ones it creates,
the ones its processes create later, and the ones an older version left readable by all."""

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.clock import child_env

# The files in question are the embedded (SQLite) ones.
pytestmark = [pytest.mark.slow, pytest.mark.embedded]


def _env(data_dir) -> dict:
    env = {**os.environ, "WISPBILL_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return child_env(env)


def _loose(data_dir: Path) -> dict[str, str]:
    """Every path under data_dir that others may read, write or enter, with its mode."""
    found = {}
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            found[str(path.relative_to(data_dir))] = oct(stat.S_IMODE(mode))
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_files_created_by_every_process_are_the_owners_alone(tmp_path):
    data = tmp_path / "data"
    cli = [sys.executable, "-m", "wispbill.cli"]
    # A shell with the usual umask, as an operator's would be.
    old = os.umask(0o022)
    try:
        subprocess.run([*cli, "migrate", "-v", "0"], env=_env(data), check=True)
        assert {"wispbill.sqlite3", "tasks.sqlite3", "secret_key", "static"} <= {
            p.name for p in data.iterdir()
        }
        assert _loose(data) == {}

        port, notice_port = _free_port(), _free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--notice-port", str(notice_port)],
            env=_env(data),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.umask(old)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "wispbill serve did not start"
                time.sleep(0.3)
        # The task consumer holds its queue open: SQLite's -wal and -shm files exist now,
        # created by a process that serve started.
        deadline = time.monotonic() + 30
        while not (data / "tasks.sqlite3-wal").exists():
            assert time.monotonic() < deadline, "the task consumer never opened its queue"
            time.sleep(0.3)
        assert (data / "static" / "panel" / "panel.css").exists()
        assert _loose(data) == {}
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _loose(data) == {}


def test_files_an_older_version_left_open_are_tightened_at_start_up(tmp_path):
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "wispbill.cli", "migrate", "-v", "0"], env=_env(data), check=True
    )
    # What the first versions left: the database and its folder readable by everyone.
    for path, mode in [
        (data, 0o755),
        (data / "wispbill.sqlite3", 0o644),
        (data / "secret_key", 0o644),
        (data / "static", 0o755),
    ]:
        path.chmod(mode)
    (data / "exports").mkdir(mode=0o755)
    (data / "exports" / "clients.csv").write_text("name,ip\n")
    (data / "exports" / "clients.csv").chmod(0o644)
    assert len(_loose(data)) == 6

    subprocess.run(
        [sys.executable, "-m", "wispbill.cli", "check"],
        env=_env(data),
        check=True,
        capture_output=True,
    )
    assert _loose(data) == {}
    assert stat.S_IMODE((data / "wispbill.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "exports").stat().st_mode) == 0o700
