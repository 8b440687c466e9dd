"""The server install of docs/operations.md, tested: settings that only read, the shipped
systemd units as systemd sees them, and Caddy with its own CA in front of `wispbill serve`."""

import os
import stat
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


def _env(data_dir, **extra) -> dict:
    env = {**os.environ, "WISPBILL_DATA_DIR": str(data_dir), **extra}
    for name in ("DATABASE_URL", "REDIS_URL", "WISPBILL_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_importing_the_settings_writes_nothing(tmp_path):
    data = tmp_path / "nowhere" / "data"
    code = (
        "import wispbill.settings as s; "
        "print(s.DATA_DIR); print(repr(s.SECRET_KEY)); print(s.STATIC_ROOT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(data),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split("\n")[:3] == [str(data), "''", str(data / "static")]
    assert list(tmp_path.iterdir()) == []


def test_a_wispbill_command_makes_the_data_dir_and_its_key_once(tmp_path):
    data = tmp_path / "srv" / "data"
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    cli = [sys.executable, "-m", "wispbill.cli", "shell", "--no-imports", "-c", code]
    first = subprocess.run(cli, env=_env(data), capture_output=True, text=True, check=True)
    key = (data / "secret_key").read_text().strip()
    assert first.stdout.strip() == key and len(key) >= 50
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600
    again = subprocess.run(cli, env=_env(data), capture_output=True, text=True, check=True)
    assert again.stdout.strip() == key


def test_a_key_from_the_environment_is_not_written_to_the_data_dir(tmp_path):
    data = tmp_path / "data"
    key = "k" * 50
    subprocess.run(
        [sys.executable, "-m", "wispbill.cli", "check"],
        env=_env(data, WISPBILL_SECRET_KEY=key),
        capture_output=True,
        check=True,
    )
    assert data.is_dir() and not (data / "secret_key").exists()


def test_the_web_application_for_gunicorn_makes_the_data_dir_too(tmp_path):
    data = tmp_path / "data"
    code = "import wispbill.wsgi; from django.conf import settings; print(settings.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(data), capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (data / "secret_key").read_text().strip()
