"""The company's settings: the rules the periodic tasks follow, how to pay, messages."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.core.db import locked, model_update
from wispbill.core.models import CompanySettings
from wispbill.messaging.timing import parse_quiet_hours
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
    "whatsapp_template_throttled",
    "portal_promise_days",
    "portal_promises_per_cycle",
)


def _clean(data: dict) -> dict:
    """The rules a field's own validation cannot know (they live in the layers above core)."""
    if "quiet_hours" not in data:
        return data
    quiet_hours = (data["quiet_hours"] or "").strip()
    try:
        parse_quiet_hours(quiet_hours)
    except ValueError:
        raise ValidationError(
            {
                "quiet_hours": [
                    _(
                        "Write the quiet hours as HH:MM-HH:MM in 24-hour time, for example "
                        "21:00-08:00, or leave them empty to send at any hour."
                    )
                ]
            }
        ) from None
    return {**data, "quiet_hours": quiet_hours}


@transaction.atomic
def company_settings_update(*, actor: User | None, data: dict) -> CompanySettings:
    """Change the company's settings (the `COMPANY_FIELDS` that `data` carries); admins only."""
    require_admin(actor)
    data = _clean(data)
    company = locked(CompanySettings.objects).get(pk=CompanySettings.load().pk)
    changes = model_update(instance=company, fields=COMPANY_FIELDS, data=data)
    if changes:
        audit_record(actor=actor, action=AuditAction.COMPANY_CHANGED, obj=company, changes=changes)
    return company
