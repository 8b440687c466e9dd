"""The notice page: what a listed client sees instead of the site it asked for."""

from django.shortcuts import render
from django.utils import translation

from wispbill.billing.selectors import client_balance, pending_invoices
from wispbill.clients.models import Client, ClientState
from wispbill.core.models import CompanySettings


def notice_page(request):
    """What a listed client sees instead of the site it asked for: found by its source IP,
    never showing anything to an address that is not a client's."""
    if request.GET.get("lang") in ("es", "en"):
        translation.activate(request.GET["lang"])
    address = request.META.get("REMOTE_ADDR", "")
    client = (
        Client.objects.select_related("zone")
        .filter(ip=address)
        .exclude(state=ClientState.CANCELLED)
        .first()
    )
    company = CompanySettings.load()
    context = {"company": company, "client": None}
    if client is not None:
        oldest = pending_invoices(client).first()
        context.update(
            client=client,
            owed=max(client_balance(client), 0),
            invoice=oldest,
            suspended=client.state == ClientState.SUSPENDED,
        )
    response = render(request, "network/notice.html", context, status=200 if client else 404)
    response["Cache-Control"] = "no-store"
    return response
