import secrets
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.billing.models import Payment, PaymentMethod
from wispbill.cfdi.models import CancelReason
from wispbill.core.models import MAX_MONEY
from wispbill.panel.forms.base import DayField, MoneyField


class PaymentForm(forms.Form):
    amount = MoneyField(label=_("Amount"), min_value=Decimal("0.01"), max_value=MAX_MONEY)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    paid_on = DayField(
        label=_("Payment date"),
        help_text=Payment._meta.get_field("paid_on").help_text,
        required=False,  # empty: today
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=Payment._meta.get_field("reference").help_text,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    # A one-time token per form shown: the same form sent twice (a double click, the browser
    # resending it) is one payment.
    once = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["once"].initial = secrets.token_urlsafe(24)


class PromiseForm(forms.Form):
    until = DayField(label=_("Promise until"))


class InvoiceDateForm(forms.Form):
    date = DayField(label=_("Cycle of the day"), required=False)
    # The pending charges alone when the cycle already has its invoice.
    charges = forms.BooleanField(required=False)


class ChargeForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=200)
    amount = MoneyField(
        label=_("Amount"),
        min_value=-MAX_MONEY,
        max_value=MAX_MONEY,
        help_text=_("Negative for a discount."),
    )


class PaymentVoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=Payment._meta.get_field("void_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the history with who voided it."),
    )


class InvoiceCancelForm(forms.Form):
    """SAT's reason to cancel the stamped CFDI of an invoice being cancelled."""

    # No reason chosen for the operator: 01 first in SAT's list is the one that needs more.
    reason = forms.ChoiceField(
        label=_("SAT's reason"), choices=[("", _("Choose a reason…")), *CancelReason.choices]
    )
    substitution = forms.UUIDField(
        label=_("UUID of the CFDI that replaces it"),
        required=False,
        help_text=_("Only for reason 01: the CFDI issued in its place."),
    )

    def clean_substitution(self) -> str:
        value = self.cleaned_data.get("substitution")
        return str(value).upper() if value else ""
