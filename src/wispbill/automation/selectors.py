"""Reads about the periodic tasks: when each runs next, and the rows of the periodic-tasks page."""

from datetime import date, datetime, time, timedelta
from typing import Any, overload

from django.utils import timezone

from wispbill.automation.models import ObjectKind, TaskState, TaskStatus
from wispbill.clients.models import BillingType, Client
from wispbill.core.clock import day_of
from wispbill.core.models import CompanySettings
from wispbill.core.switches import TASKS
from wispbill.network.models import Zone


def next_run_at(
    *, enabled: bool, last_run_date: date | None, run_hour: int, now: datetime | None = None
) -> datetime | None:
    """When a task will next run by itself: today's run hour if today's run is still to come
    (or overdue: the next scheduler tick), else tomorrow's; None when its switch is off."""
    if not enabled:
        return None
    now = timezone.localtime(now)
    today = day_of(now)
    at_hour = timezone.make_aware(datetime.combine(today, time(run_hour)))
    if last_run_date is not None and last_run_date >= today:
        return at_hour + timedelta(days=1)
    if now < at_hour:
        return at_hour
    return (now + timedelta(minutes=5 - now.minute % 5)).replace(second=0, microsecond=0)


class PeriodicTaskRows:
    """Every zone, then every own-billing client, with its three tasks; sliceable so a
    paginator fetches only the page it shows."""

    def __init__(self, *, zone_id: int | None = None):
        self.zones = Zone.objects.select_related("router").order_by("id")
        self.clients = (
            Client.objects.filter(billing_type=BillingType.OWN)
            .select_related("zone__router")
            .order_by("id")
        )
        if zone_id is not None:
            self.zones = self.zones.filter(pk=zone_id)
            self.clients = self.clients.filter(zone_id=zone_id)
        self._zone_count: int | None = None

    def zone_count(self) -> int:
        if self._zone_count is None:
            self._zone_count = self.zones.count()
        return self._zone_count

    def __len__(self) -> int:
        return self.zone_count() + self.clients.count()

    def count(self) -> int:
        return len(self)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop if index.stop is not None else len(self)
        zones_n = self.zone_count()
        objects: list[tuple[str, Zone | Client]] = []
        if start < zones_n:
            objects += [(ObjectKind.ZONE, z) for z in self.zones[start : min(stop, zones_n)]]
        if stop > zones_n:
            objects += [
                (ObjectKind.CLIENT, c)
                for c in self.clients[max(0, start - zones_n) : stop - zones_n]
            ]
        return self._rows(objects)

    def _rows(self, objects: list[tuple[str, Zone | Client]]) -> list[dict[str, Any]]:
        run_hour = CompanySettings.load().run_hour
        states = {}
        for kind in ObjectKind.values:
            ids = [obj.pk for k, obj in objects if k == kind]
            for task_state in TaskState.objects.filter(kind=kind, object_id__in=ids):
                states[(kind, task_state.object_id, task_state.task)] = task_state
        rows = []
        for kind, obj in objects:
            zone = obj if isinstance(obj, Zone) else obj.zone
            tasks = {}
            for task in TASKS:
                state = states.get((kind, obj.pk, task))
                enabled = getattr(obj, f"task_{task}")
                tasks[task] = {
                    "enabled": enabled,
                    "next_run": next_run_at(
                        enabled=enabled,
                        last_run_date=state.last_run_date if state else None,
                        run_hour=run_hour,
                    ),
                    "last_status": state.last_status if state else TaskStatus.PENDING,
                    "last_run_at": state.last_run_at if state else None,
                    "last_count": state.last_count if state else 0,
                    "last_error": state.last_error if state else "",
                }
            rows.append(
                {
                    "kind": kind,
                    "id": obj.pk,
                    "name": obj.name,
                    "zone": zone.pk,
                    "router": zone.router_id,
                    "router_name": zone.router.name,
                    "tasks": tasks,
                }
            )
        return rows
