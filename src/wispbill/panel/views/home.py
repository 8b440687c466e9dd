"""The dashboard."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from wispbill.clients.models import BillingType, Client, ClientState
from wispbill.network.models import Router, Zone


@login_required
def home(request):
    states = Client.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(state=ClientState.ACTIVE)),
        suspended=Count("id", filter=Q(state=ClientState.SUSPENDED)),
        own=Count("id", filter=Q(billing_type=BillingType.OWN)),
    )
    zones_off = Zone.objects.filter(
        Q(task_invoices=False) | Q(task_notices=False) | Q(task_cuts=False)
    ).count()
    return render(
        request,
        "panel/home.html",
        {
            "states": states,
            "routers": Router.objects.count(),
            "zones": Zone.objects.count(),
            "zones_off": zones_off,
        },
    )
