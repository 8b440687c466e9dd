"""The company's settings: the rules the periodic tasks follow, how to pay, messages."""

import ipaddress
import re
from datetime import date
from typing import Any

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
    "first_invoice",
    "reconnection_fee",
    "bank_name",
    "bank_account",
    # Taxes and the CFDI's issuer (docs/contract.md, "Taxes and CFDI 4.0").
    "tax_rate",
    "prices_include_tax",
    "rfc",
    "legal_name",
    "tax_regime",
    "postal_code",
    "invoice_series",
    "cfdi",
    "cfdi_global_periodicity",
)


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """The values of `data` the periodic tasks, the routers and the outbox can rely on (days
    as ISO dates, weekdays 0..6, an IPv4 notice address, HH:MM-HH:MM quiet hours), or a
    ValidationError naming every field that is not."""
    data, errors = dict(data), {}
    if "holidays" in data:
        days = data["holidays"]
        try:
            if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
                raise ValueError
            data["holidays"] = sorted({date.fromisoformat(d).isoformat() for d in days})
        except ValueError:
            errors["holidays"] = [_("A list of dates, each as YYYY-MM-DD.")]
    if "no_cut_weekdays" in data:
        weekdays = data["no_cut_weekdays"]
        if not isinstance(weekdays, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays
        ):
            errors["no_cut_weekdays"] = [_("A list of weekdays, 0 (Monday) to 6 (Sunday).")]
        else:
            data["no_cut_weekdays"] = sorted(set(weekdays))
    if data.get("notice_host"):
        try:
            data["notice_host"] = str(ipaddress.IPv4Address(data["notice_host"].strip()))
        except ValueError:
            errors["notice_host"] = [
                _("Write the IPv4 address the routers reach the notice page at, e.g. 10.0.0.5.")
            ]
    if "quiet_hours" in data:
        data["quiet_hours"] = (data["quiet_hours"] or "").strip()
        try:
            parse_quiet_hours(data["quiet_hours"])
        except ValueError:
            errors["quiet_hours"] = [
                _(
                    "Write the quiet hours as HH:MM-HH:MM in 24-hour time, for example "
                    "21:00-08:00, or leave them empty to send at any hour."
                )
            ]
    if isinstance(data.get("bank_account"), str):
        # Banks print a CLABE in groups ("002 010 07777777777 1"); it is kept as digits.
        data["bank_account"] = re.sub(r"[\s-]", "", data["bank_account"])
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def company_settings_update(*, actor: User | None, data: dict[str, Any]) -> CompanySettings:
    """Change the company's settings (the `COMPANY_FIELDS` that `data` carries); admins only."""
    require_admin(actor)
    data = _checked(data)
    company = locked(CompanySettings.objects).get(pk=CompanySettings.load().pk)
    changes = model_update(instance=company, fields=COMPANY_FIELDS, data=data)
    if changes:
        audit_record(actor=actor, action=AuditAction.COMPANY_CHANGED, obj=company, changes=changes)
    return company
