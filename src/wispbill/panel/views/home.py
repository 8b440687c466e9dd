"""The dashboard: the money first, then who the periodic tasks leave out."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from wispbill.billing.reports import money_overview
from wispbill.clients.models import BillingType, Client, ClientState
from wispbill.core.clock import business_day, today
from wispbill.core.switches import TASK_LABELS
from wispbill.network.models import Router, Zone


@login_required
def home(request):
    day = today()
    states = Client.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(state=ClientState.ACTIVE)),
        suspended=Count("id", filter=Q(state=ClientState.SUSPENDED)),
        throttled=Count("id", filter=Q(state=ClientState.THROTTLED)),
        own=Count("id", filter=Q(billing_type=BillingType.OWN)),
    )
    zones_off = Zone.objects.filter(
        Q(task_invoices=False) | Q(task_notices=False) | Q(task_cuts=False)
    ).count()
    off = Client.objects.tasks_off()
    return render(
        request,
        "panel/home.html",
        {
            "day": day,
            "money": money_overview(day=day, overdue_on=business_day()),
            "states": states,
            "routers": Router.objects.count(),
            "zones": Zone.objects.count(),
            "zones_off": zones_off,
            "tasks_off": [(task, label, off[task]) for task, label in TASK_LABELS.items()],
        },
    )
