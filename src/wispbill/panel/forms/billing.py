from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.billing.models import PaymentMethod


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PromiseForm(forms.Form):
    until = forms.DateField(
        label=_("Promise until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class InvoiceDateForm(forms.Form):
    date = forms.DateField(
        label=_("Cycle of the day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
