"""The company's settings: the rules the periodic tasks follow, how to pay, messages."""

from django.contrib.auth.models import User
from django.db import transaction

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.core.db import locked, model_update
from wispbill.core.models import CompanySettings
from wispbill.staff.permissions import require_admin

# The one list of the settings an admin edits: the panel's form and the API derive theirs.
COMPANY_FIELDS = (
    "name",
    "run_hour",
    "no_cut_weekdays",
    "holidays",
    "min_debt_to_cut",
    "invoice_suspended",
    "reactivation_billing",
    "payment_instructions",
    "notice_host",
    "public_url",
    "country",
    "quiet_hours",
    "whatsapp_template_invoice",
    "whatsapp_template_reminder",
    "whatsapp_template_cut",
    "whatsapp_template_receipt",
    "portal_promise_days",
    "portal_promises_per_cycle",
)


@transaction.atomic
def company_settings_update(*, actor: User | None, data: dict) -> CompanySettings:
    """Change the company's settings (the `COMPANY_FIELDS` that `data` carries); admins only."""
    require_admin(actor)
    company = locked(CompanySettings.objects).get(pk=CompanySettings.load().pk)
    changes = model_update(instance=company, fields=COMPANY_FIELDS, data=data)
    if changes:
        audit_record(actor=actor, action=AuditAction.COMPANY_CHANGED, obj=company, changes=changes)
    return company
