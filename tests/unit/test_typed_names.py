"""The names that cross modules are enums now, and keep the strings stored, sent and
documented: a switch's field, a task state's row, a permission's codename."""

import json
import re
from dataclasses import fields
from pathlib import Path

from wispbill.automation.engine import Acted
from wispbill.core.switches import TASKS, Switches, Task
from wispbill.staff.permissions import CODENAMES, Permission

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def test_each_task_names_its_switch_and_what_a_run_acted_on():
    assert [f.name for f in fields(Switches)] == list(TASKS) == [t.value for t in Task]
    assert all(type(name) is str for name in TASKS)  # choices and schemas take them as such
    assert {str(t) for t in Task} <= {f.name for f in fields(Acted)}
    acted = Acted(invoices=[1], cuts=[2, 3], throttles=[3])
    assert acted.of(Task.CUTS) == [2, 3] and acted.any() and not Acted().any()
    # Stored as JSON in a run's summary, under the same keys as before.
    assert json.loads(json.dumps(acted.as_dict()))["invoices"] == [1]


def test_the_permissions_are_the_contracts_codenames():
    section = CONTRACT.read_text().split("## Permissions", 1)[1]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    assert {p.value for p in Permission} == set(CODENAMES) == documented
    assert all(type(codename) is str for codename in CODENAMES)
    assert json.dumps([Permission.MANAGE_CLIENTS]) == '["manage_clients"]'


def test_every_audit_action_is_named_by_the_enum_not_a_literal():
    from wispbill.audit.models import AuditAction

    source = Path(__file__).resolve().parents[2] / "src" / "wispbill"
    stored = {re.escape(action.value) for action in AuditAction}
    literal = re.compile(r"""["']({})["']""".format("|".join(stored)))
    found = [
        f"{path.relative_to(source)}: {match.group(0)}"
        for path in source.rglob("*.py")
        if "migrations" not in path.parts and path.name != "models.py"
        for match in literal.finditer(path.read_text())
    ]
    assert found == []
    # Stored and sent as the same strings as before.
    assert AuditAction.ROUTER_CHANGED == "router.changed"
    assert json.dumps([AuditAction.PLAN_CREATED]) == '["plan.created"]'
