"""The start-up step of the test process. pytest-django reads the settings before any conftest
runs, and the settings only read the data dir; this plugin (`-p` in pyproject's addopts) makes
it first, as the `wispbill` command does for its own processes."""

import pytest

from wispbill.ops.files import prepare_data_dir


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    prepare_data_dir()
