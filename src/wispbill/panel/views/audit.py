from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext

from wispbill.audit.models import OBJECT_TYPE_LABELS, SYSTEM, AuditAction
from wispbill.audit.selectors import audit_event_list
from wispbill.core.db import to_id
from wispbill.panel.audit import audit_rows, events_about
from wispbill.panel.views.base import paginate


@login_required
def audit_list(request):
    """Bitácora: every change, filtered by what it is about (a client's or router's name),
    the kind of object, the action or who did it."""
    params = request.GET
    actor = params.get("actor", "").strip()
    if actor.lower() in (SYSTEM, gettext("System").lower()):
        actor = SYSTEM  # the product's own actions, as the log shows them in each language
    qs = audit_event_list(
        object_type=params.get("object_type") or None,
        object_id=to_id(params.get("object_id", "")),
        action=params.get("action") or None,
        actor=actor or None,
    )
    if name := params.get("q", "").strip():
        qs = events_about(qs, name)
    page, query = paginate(request, qs)
    return render(
        request,
        "audit/audit_list.html",
        {
            "page_obj": page,
            "query": query,
            "params": params,
            "rows": audit_rows(page),
            "actions": AuditAction.choices,
            "object_types": OBJECT_TYPE_LABELS.items(),
            "show_object": True,
        },
    )
