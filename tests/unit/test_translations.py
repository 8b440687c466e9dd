"""The Spanish catalogue is complete, and the compiled one shipped in the repo matches it."""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import wispbill

PO = Path(wispbill.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_spanish_catalogue_is_complete_and_compiled(tmp_path):
    fresh = tmp_path / "es.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(fresh), str(PO)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    with fresh.open("rb") as f:
        expected = gettext.GNUTranslations(f)._catalog
    with PO.with_suffix(".mo").open("rb") as f:
        shipped = gettext.GNUTranslations(f)._catalog
    assert shipped == expected, "run `wispbill compilemessages` and commit django.mo"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext's tools are not installed")
def test_every_message_the_code_and_templates_use_has_a_spanish_translation(tmp_path):
    """makemessages over a copy of the code (the repository's catalogue stays untouched):
    any msgid it finds that the shipped catalogue does not translate fails here, so English
    can never slip into the Spanish panel unnoticed."""
    package = PO.parents[3]
    copy = tmp_path / "wispbill"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    # Without settings, makemessages writes to the copy's own locale/ folder.
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "es", "--no-location"],
        cwd=copy,
        env=env,
        capture_output=True,
        check=True,
    )
    fresh = copy / "locale" / "es" / "LC_MESSAGES" / "django.po"
    lacking = [
        subprocess.run(
            ["msgattrib", flag, "--no-obsolete", "--no-wrap", str(fresh)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for flag in ("--untranslated", "--only-fuzzy")
    ]
    msgids = [
        line
        for text in lacking
        for line in text.splitlines()
        if line.startswith("msgid ") and line != 'msgid ""'  # the header is not a message
    ]
    assert not msgids, "\n".join(msgids)
