"""The `wispbill` command as a person at a terminal meets it: its own commands first, in the
language of their locale; no data dir invented where they did not mean one; and a known
mistake answered in one line, never with a traceback."""

import os
import subprocess
import sys

import pytest

from tests.clock import child_env

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


def _wispbill(cwd, *args, data_dir=None, lang="es_MX.UTF-8"):
    env = {k: v for k, v in os.environ.items() if k not in ("WISPBILL_DATA_DIR", "LC_ALL")}
    env.pop("DATABASE_URL", None)
    env["LANG"] = lang
    if data_dir is not None:
        env["WISPBILL_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "wispbill.cli", *args],
        cwd=cwd,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_the_products_commands_first_in_the_users_language(tmp_path):
    spanish = _wispbill(tmp_path, "--help")
    assert spanish.returncode == 0, spanish.stderr
    lines = spanish.stdout.splitlines()
    commands = [line.split()[0] for line in lines if line.startswith("  ")]
    assert commands[:3] == ["serve", "migrate", "demo"]
    assert "import-clients" in commands and "runserver" not in commands
    assert "Órdenes:" in spanish.stdout and "Carpeta de datos:" in spanish.stdout
    english = _wispbill(tmp_path, "--help", lang="en_US.UTF-8")
    assert "Commands:" in english.stdout and "Órdenes" not in english.stdout
    # Asking for help creates nothing.
    assert not (tmp_path / "var").exists()


def test_outside_its_data_dir_it_says_where_it_looked_and_creates_nothing(tmp_path):
    for command in (["run-periodic-tasks"], ["backup", str(tmp_path / "copia.backup")]):
        result = _wispbill(tmp_path, *command)
        assert result.returncode == 2
        assert "No hay carpeta de datos de wispbill en" in result.stderr
        assert str(tmp_path / "var") in result.stderr and "WISPBILL_DATA_DIR" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "var").exists() and not (tmp_path / "copia.backup").exists()
    # Setting up is asked for by name: `migrate` starts the data dir where it is run.
    assert _wispbill(tmp_path, "migrate", "--verbosity", "0").returncode == 0
    assert (tmp_path / "var" / "wispbill.sqlite3").is_file()


def test_known_mistakes_answer_in_one_line_without_a_traceback(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    unmigrated = _wispbill(tmp_path, "run-periodic-tasks", data_dir=data)
    assert unmigrated.returncode == 1 and "Traceback" not in unmigrated.stderr
    assert "wispbill migrate" in unmigrated.stderr and "no tiene tablas" in unmigrated.stderr
    assert _wispbill(tmp_path, "migrate", "--verbosity", "0", data_dir=data).returncode == 0
    mistakes = {
        ("run-periodic-tasks", "--date", "2026-02-30"): "--date debe ser un día",
        ("run-periodic-tasks", "--zone", "4242"): "No existe la zona 4242.",
        ("import-clients", str(tmp_path / "no-such.csv")): "No existe el archivo",
        ("restore", str(tmp_path / "no-such.backup")): "No existe el archivo",
        ("reconcile-routers", "--router", "77"): "No existe el router 77.",
    }
    for args, message in mistakes.items():
        result = _wispbill(tmp_path, *args, data_dir=data)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr, args
