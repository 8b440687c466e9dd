"""Mensajes: the outbox with its filters and "reenviar"; a client's channels and page link."""

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wispbill.clients.models import Client
from wispbill.core.db import to_id
from wispbill.messaging.models import Channel, Kind, Message, MessageStatus
from wispbill.messaging.selectors import (
    channels_state,
    client_opt_outs,
    message_counts,
    message_list,
    message_outlooks,
)
from wispbill.messaging.services import (
    client_set_opt_out,
    message_resend,
    portal_link_create,
    portal_links_revoke,
)
from wispbill.panel.views.base import forbidden, paginate, run_action
from wispbill.panel.views.payments import client_payment_links_context
from wispbill.staff.permissions import MANAGE_CLIENTS, REGISTER_PAYMENTS, has_permission

# The fresh client-page link waits here between its POST and the page that shows it.
PORTAL_LINK_SESSION_KEY = "panel.portal_link"
CLIENT_TAB_MESSAGES = 20


def _day(value: str | None) -> date | None:
    """The day filter: the date picker's 2026-10-29, or 29/10/2026 as people type it."""
    value = (value or "").strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        return None


@login_required
def message_list_page(request):
    """Every message, newest first, filtered by client, kind, channel, status and day."""
    params = request.GET
    choices = {"kind": Kind.values, "channel": Channel.values, "status": MessageStatus.values}
    chosen = {
        key: params.get(key) if params.get(key) in values else None
        for key, values in choices.items()
    }
    qs = message_list(
        client=to_id(params.get("client")),
        search=params.get("q", ""),
        day=_day(params.get("day")),
        **chosen,
    )
    page, query = paginate(request, qs)
    message_outlooks(page.object_list)
    states = channels_state()
    counts = message_counts()
    client_id = to_id(params.get("client"))
    return render(
        request,
        "messaging/message_list.html",
        {
            "page_obj": page,
            "query": query,
            "params": params,
            "kinds": Kind.choices,
            "channels": Channel.choices,
            "statuses": MessageStatus.choices,
            "channel_states": states,
            "channels_off": [value for value, _label, off in states if off],
            "counts": [(value, label, counts[value]) for value, label in MessageStatus.choices],
            "filter_client": Client.objects.filter(pk=client_id).first() if client_id else None,
            "can_resend": has_permission(request.user, MANAGE_CLIENTS),
        },
    )


def _back(request, fallback: str) -> str:
    """Where the form came from (this site only), else `fallback`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@login_required
@require_POST
def message_resend_view(request, pk):
    message = get_object_or_404(Message, pk=pk)
    refused = run_action(
        request,
        lambda: message_resend(actor=request.user, message=message),
        lambda: (
            _("The message to %(recipient)s is queued again.") % {"recipient": message.recipient}
        ),
    )
    return refused or redirect(_back(request, reverse("panel:message-list")))


def _client_messages_url(pk) -> str:
    return f"{reverse('panel:client-edit', args=[pk])}#messages"


@login_required
@require_POST
def client_channels(request, pk):
    """The client's per-channel switches: on receives messages, off opted out."""
    client = get_object_or_404(Client, pk=pk)
    try:
        changed = [
            client_set_opt_out(
                actor=request.user,
                client=client,
                channel=channel,
                opted_out=request.POST.get(channel) != "1",
            )
            for channel in Channel.values
        ]
    except PermissionDenied as exc:
        return forbidden(request, exc)
    if any(changed):
        messages.success(request, _("Channels saved."))
    return redirect(_client_messages_url(pk))


@login_required
@require_POST
def client_portal_link(request, pk):
    """A fresh signed link to the client's page, shown once on the client's messages tab."""
    client = get_object_or_404(Client, pk=pk)
    try:
        link = portal_link_create(actor=request.user, client=client, request=request)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    request.session[PORTAL_LINK_SESSION_KEY] = {
        "client": client.pk,
        "url": link.url,
        "expires_at": link.expires_at.isoformat(),
    }
    return redirect(_client_messages_url(pk))


@login_required
@require_POST
def client_portal_links_revoke(request, pk):
    """Every link to the client's page issued so far stops working."""
    client = get_object_or_404(Client, pk=pk)
    try:
        portal_links_revoke(actor=request.user, client=client)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    messages.success(request, _("Every link to this client's page issued so far no longer works."))
    return redirect(_client_messages_url(pk))


def client_messages_context(request, client: Client) -> dict:
    """What the client page's messages tab shows."""
    recent = list(message_list(client=client.pk)[:CLIENT_TAB_MESSAGES])
    message_outlooks(recent)
    opted_out = client_opt_outs(client.pk)
    states = channels_state()
    link = request.session.pop(PORTAL_LINK_SESSION_KEY, None)
    if link and link.get("client") == client.pk:
        link["expires_at"] = datetime.fromisoformat(link["expires_at"])
    else:
        link = None
    return {
        "client_messages": recent,
        "client_messages_more": len(recent) == CLIENT_TAB_MESSAGES,
        "channels_off": [value for value, _label, off in states if off],
        "message_channels": [
            {
                "value": value,
                "label": label,
                "off": off,
                "receives": value not in opted_out,
                "address": client.email if value == Channel.EMAIL else client.phone,
            }
            for value, label, off in states
        ],
        "portal_link": link,
        **client_payment_links_context(request, client),
        "can_manage_clients": has_permission(request.user, MANAGE_CLIENTS),
        "can_create_link": has_permission(request.user, MANAGE_CLIENTS)
        or has_permission(request.user, REGISTER_PAYMENTS),
    }
