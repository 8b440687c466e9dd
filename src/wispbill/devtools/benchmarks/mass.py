"""Mass updates over every zone, their undo, and the floor: a bare UPDATE of the same rows."""

import statistics
import time

from django.db import transaction

from wispbill.automation.services.mass_updates import mass_update_apply, mass_update_undo
from wispbill.clients.models import BillingType, Client
from wispbill.core.switches import Task
from wispbill.network.models import Zone


def time_mass_updates(admin, repeat: int) -> dict:
    own = Client.objects.filter(billing_type=BillingType.OWN)
    own_count = own.count()
    timings: dict[str, list[float]] = {"apply": [], "undo": [], "bare": []}
    for _ in range(repeat):
        start = time.perf_counter()
        mass_update = mass_update_apply(actor=admin, all_zones=True, values={Task.CUTS: False})
        timings["apply"].append(time.perf_counter() - start)
        assert mass_update.clients_changed == own_count
        start = time.perf_counter()
        mass_update_undo(actor=admin, mass_update=mass_update)
        timings["undo"].append(time.perf_counter() - start)
        # The floor: one UPDATE of the same rows, with no bookkeeping at all.
        start = time.perf_counter()
        with transaction.atomic():
            own.update(task_cuts=False)
            Zone.objects.update(task_cuts=False)
        timings["bare"].append(time.perf_counter() - start)
        with transaction.atomic():
            own.update(task_cuts=True)
            Zone.objects.update(task_cuts=True)
    apply_s, undo_s, bare_s = (statistics.median(timings[k]) for k in ("apply", "undo", "bare"))
    return {
        "own_billing_clients": own_count,
        "mass_update_all_zones_s": apply_s,
        "mass_update_undo_s": undo_s,
        "bare_update_same_rows_s": bare_s,
        "mass_update_over_bare_update_ratio": apply_s / bare_s,
        "mass_update_undo_over_bare_update_ratio": undo_s / bare_s,
    }
