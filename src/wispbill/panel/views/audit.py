from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from wispbill.audit.models import OBJECT_TYPE_LABELS, AuditAction
from wispbill.audit.selectors import audit_event_list
from wispbill.core.db import to_id
from wispbill.panel.views.base import paginate


@login_required
def audit_list(request):
    params = request.GET
    object_id = params.get("object_id", "")
    qs = audit_event_list(
        object_type=params.get("object_type") or None,
        object_id=to_id(object_id),
        action=params.get("action") or None,
        actor=params.get("actor") or None,
    )
    page, query = paginate(request, qs)
    return render(
        request,
        "audit/audit_list.html",
        {
            "page_obj": page,
            "query": query,
            "params": params,
            "events": page,
            "actions": AuditAction.choices,
            "object_types": OBJECT_TYPE_LABELS.items(),
            "show_object": True,
        },
    )
