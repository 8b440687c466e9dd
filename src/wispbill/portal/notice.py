"""The notice page: what a listed client sees instead of the site it asked for, told as it
is — suspended, at reduced speed, warned (and until when it keeps its service), or owing
nothing. Served on the notice port (`notice_urls`, `middleware.NoticePortMiddleware`) and at
/aviso/; the panel shows staff the same page as a client would see it (`notice_response`)."""

import contextlib
from datetime import date

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt

from wispbill.billing.debt import client_dismiss_notice, client_next_cut
from wispbill.billing.selectors import client_balance, pending_invoices
from wispbill.clients.models import WITH_SERVICE, Client, ClientState
from wispbill.core.clock import today
from wispbill.core.models import CompanySettings, CutAction

LANGUAGES = dict(settings.LANGUAGES)
DISMISS_SALT = "wispbill.notice.dismiss"


def _language(request, client: Client | None, *, preview: bool) -> str:
    """?lang= when given; else the client's browser's language on its own screen, and in a
    preview (staff's browser is not the client's) the language its record says it reads."""
    if request.GET.get("lang") in LANGUAGES:
        return request.GET["lang"]
    if preview and client is not None and client.language in LANGUAGES:
        return client.language
    return translation.get_language_from_request(request)


def notice_facts(client: Client, *, day: date, company: CompanySettings) -> dict:
    """What the page tells a client, from its real state: which headline, what it owes and
    since when, and a cut date only when a cut is really coming (never a past date)."""
    balance = client_balance(client)
    owed = max(balance, 0)
    oldest = pending_invoices(client).first() if owed else None
    if client.state == ClientState.SUSPENDED:
        headline = "suspended"
    elif client.state == ClientState.THROTTLED:
        headline = "throttled"
    elif owed:
        headline = "warned"
    else:
        headline = "clear"
    next_cut = client_next_cut(client=client, day=day, company=company) if owed else None
    promise = client.promise_until
    return {
        "headline": headline,
        "owed": owed,
        "credit": -balance if balance < 0 else 0,
        "oldest": oldest,
        "overdue": bool(oldest and oldest.due_date < day),
        "next_cut": next_cut,
        "cut_today": next_cut == day,
        "promise": promise if promise and promise >= day else None,
        "dismissed": client.notice_dismissed_on == day,
        "can_dismiss": client.notice_active and client.state in WITH_SERVICE,
        # What the cut does to this client: suspend it, or reduce its speed.
        "throttles": client.effective_cut_action[0] == CutAction.THROTTLE,
    }


def notice_response(request, client: Client | None, *, preview: bool = False, status: int = 200):
    """The notice page for `client` (None: an address that is no client's); a preview is
    marked as one, with its banner in the staff's own language."""
    company = CompanySettings.load()
    staff_texts = _staff_texts(client) if preview and client else {}
    language = _language(request, client, preview=preview)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    context = {
        "company": company,
        "client": client,
        "preview": preview,
        "lang": language,
        **staff_texts,
    }
    if client is not None:
        day = today()
        context.update(notice_facts(client, day=day, company=company))
        context["token"] = signing.dumps({"c": client.pk, "d": day.isoformat()}, salt=DISMISS_SALT)
    response = render(request, "notice/page.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _staff_texts(client: Client) -> dict:
    """What a preview says to the staff member looking at it, in the panel's language (the
    page itself is in the client's)."""
    return {
        "preview_banner": translation.gettext(
            "Preview: this is the notice page as %(name)s sees it now. Nothing you do here "
            "reaches the client."
        )
        % {"name": client.name},
        "preview_only_client": translation.gettext(
            "Only the client can do this, from its own connection."
        ),
    }


def _client_at(request) -> Client | None:
    return (
        Client.objects.select_related("zone__router", "plan")
        .filter(ip=request.META.get("REMOTE_ADDR", ""))
        .exclude(state=ClientState.CANCELLED)
        .first()
    )


@csrf_exempt  # reached on the notice port, outside the panel; the form carries its own token
def notice_page(request):
    """What a listed client sees instead of the site it asked for: found by its source IP,
    never showing anything to an address that is not a client's. A POST is "Understood, keep
    browsing", with the token the page gave that same client today."""
    client = _client_at(request)
    if client is None:
        return notice_response(request, None, status=404)
    if request.method == "POST":
        try:
            token = signing.loads(request.POST.get("token", ""), salt=DISMISS_SALT, max_age=86400)
        except signing.BadSignature:
            token = {}
        if token == {"c": client.pk, "d": today().isoformat()}:
            # Nothing left to dismiss (paid meanwhile): the page shows what is true now.
            with contextlib.suppress(ValidationError):
                client_dismiss_notice(actor=None, client=client)
        return redirect(_back_here(request))
    return notice_response(request, client)


def _back_here(request) -> str:
    """The address the client asked for, as a path on this host; "/" when the path would
    read as another site ("//evil.example", "/\\evil.example"), so the page redirects nowhere
    but here."""
    target = request.get_full_path()
    # The decoded path too: "/\\x" is escaped to "/%5Cx", harmless, but says where it aimed.
    local = all(url_has_allowed_host_and_scheme(url, None) for url in (target, request.path))
    return target if local else "/"
