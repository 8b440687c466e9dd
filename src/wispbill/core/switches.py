"""The three periodic-task switches as plain values."""

from dataclasses import asdict, dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Task(StrEnum):
    """A periodic task: the name of its switch, of its state rows and of its runs' counts."""

    INVOICES = "invoices"
    NOTICES = "notices"
    CUTS = "cuts"


TASKS = tuple(task.value for task in Task)  # plain strings: for choices, schemas, JSON
TASK_LABELS = {
    Task.INVOICES: _("Automatic invoices"),
    Task.NOTICES: _("Automatic on-screen notices"),
    Task.CUTS: _("Automatic cuts"),
}


@dataclass(frozen=True)
class Switches:
    invoices: bool = True
    notices: bool = True
    cuts: bool = True

    def as_dict(self) -> dict[str, bool]:
        return asdict(self)

    def replace(self, **changes: bool | None) -> "Switches":
        """A copy with the given tasks set; a task given as None stays as it is."""
        values = self.as_dict()
        values.update({k: v for k, v in changes.items() if v is not None})
        return Switches(**values)

    def diff(self, other: "Switches") -> dict[str, list[bool]]:
        """{task: [before, after]} for every task that `other` sets differently."""
        return {
            task: [getattr(self, task), getattr(other, task)]
            for task in TASKS
            if getattr(self, task) != getattr(other, task)
        }
