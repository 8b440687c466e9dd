"""The Spanish catalogue is complete, and the compiled one shipped in the repo matches it."""

import gettext
import shutil
import subprocess
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
