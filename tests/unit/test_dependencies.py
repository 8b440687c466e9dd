"""What the product imports, it installs: every package a module of `src/` imports at run time
is one of the project's own dependencies, not only of its `test` extra (the demo command
installs the product alone: a stub helper imported from the test extra broke it once)."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "wispbill"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normal(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in project["dependencies"]
    }


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Lines of imports under `if TYPE_CHECKING:`, which never run."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _imported() -> dict[str, set[str]]:
    """Top-level names imported at run time, each with the files that import it."""
    found: dict[str, set[str]] = {}
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        skip = _type_checking_only(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


# The pytest plugin that makes the data dir before a test run imports pytest: it only ever
# loads inside pytest.
TEST_RUNNER_ONLY = {"pytest": {"src/wispbill/ops/pytest_startup.py"}}


def test_every_package_the_product_imports_is_a_dependency_of_the_product():
    declared = _declared()
    distributions = packages_distributions()
    missing = {}
    for top, files in _imported().items():
        if top in sys.stdlib_module_names or top == "wispbill":
            continue
        if files <= TEST_RUNNER_ONLY.get(top, set()):
            continue
        owners = {_normal(d) for d in distributions.get(top, [top])}
        if not owners & declared:
            missing[top] = sorted(files)[:3]
    assert missing == {}
