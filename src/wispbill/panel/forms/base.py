"""Form pieces the panel pages share: the switches and the billing schedule."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.core.models import BillingMode
from wispbill.core.schedule import RANGES, schedule_errors
from wispbill.core.switches import TASK_LABELS, TASKS

TASK_HELP = {
    "invoices": _("Issue each cycle's invoice on its invoice date."),
    "notices": _("Show the payment notice on the client's screen when it is late."),
    "cuts": _("Suspend the service on the cut date if the invoice is unpaid."),
}
TASK_NAMES = TASK_LABELS


class SwitchInput(forms.CheckboxInput):
    """A hidden "0" before the checkbox's "1": a switch left off is still sent, and a switch
    the user may not touch (disabled) is not sent at all, so it is left as it is."""

    template_name = "panel/widgets/switch.html"

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        values = [v for v in values if v is not None]
        if not values:
            return None
        return values[-1] in ("1", "on", "true", "True")

    def value_omitted_from_data(self, data, files, name):
        return name not in data


class SwitchField(forms.NullBooleanField):
    widget = SwitchInput


def switch_fields(prefix: str = "task_") -> dict[str, forms.Field]:
    return {
        f"{prefix}{task}": SwitchField(
            label=TASK_NAMES[task], help_text=TASK_HELP[task], required=False
        )
        for task in TASKS
    }


def switch_values(cleaned_data: dict, prefix: str = "task_") -> dict[str, bool] | None:
    """The switches the form sent, or None when it sent none (the user may not set them)."""
    values = {
        task: cleaned_data.get(f"{prefix}{task}")
        for task in TASKS
        if cleaned_data.get(f"{prefix}{task}") is not None
    }
    return values or None


def schedule_fields(required: bool) -> dict[str, forms.Field]:
    def number(label, key, help_text):
        low, high = RANGES[key]
        return forms.IntegerField(
            label=label, min_value=low, max_value=high, required=required, help_text=help_text
        )

    return {
        "billing_mode": forms.ChoiceField(
            label=_("Billing mode"),
            choices=[("", "—"), *BillingMode.choices],
            required=required,
            help_text=_("Prepaid charges the month ahead; postpaid, the month consumed."),
        ),
        "pay_day": number(
            _("Pay day"), "pay_day", _("1 to 31; in shorter months, their last day.")
        ),
        "invoice_lead_days": number(
            _("Invoice days before the pay date"), "invoice_lead_days", _("1 to 28.")
        ),
        "notice_offset_days": number(
            _("Notice days after the pay date"),
            "notice_offset_days",
            _("-28 to 28; negative: before the pay date."),
        ),
        "grace_days": number(
            _("Grace days (cut and due date after the pay date)"), "grace_days", _("0 to 28.")
        ),
    }


SCHEDULE_KEYS = {
    "billing_mode": "mode",
    "pay_day": "pay_day",
    "invoice_lead_days": "invoice_lead_days",
    "notice_offset_days": "notice_offset_days",
    "grace_days": "grace_days",
}


def schedule_values(form: forms.Form) -> dict | None:
    """The schedule the form holds, with the cross-field rules checked into the form's errors."""
    data = {key: form.cleaned_data.get(name) for name, key in SCHEDULE_KEYS.items()}
    if all(v in (None, "") for v in data.values()):
        return None
    for name, messages in schedule_errors(data).items():
        field = next(f for f, k in SCHEDULE_KEYS.items() if k == name)
        for message in messages:
            if field not in form.errors:
                form.add_error(field, message)
    return data


def initial_schedule(obj) -> dict:
    schedule = obj.schedule
    if schedule is None:
        return {}
    return {name: getattr(schedule, key) for name, key in SCHEDULE_KEYS.items()}


def initial_switches(switches) -> dict:
    return {f"task_{task}": value for task, value in switches.as_dict().items()}


def lock_switches(form: forms.Form, can_toggle: bool, prefix: str = "task_") -> None:
    """Show the switches read-only. Only the inputs are disabled, not the fields: a crafted
    POST still reaches the service, which refuses it as a whole."""
    if not can_toggle:
        for task in TASKS:
            form.fields[f"{prefix}{task}"].widget.attrs["disabled"] = True


def apply_errors(form: forms.Form, exc) -> None:
    """Put a service's ValidationError on the form, on its fields where the form has them."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                for message in error.messages:
                    form.add_error(
                        target, message if target or field == "__all__" else f"{field}: {message}"
                    )
    else:
        for message in exc.messages:
            form.add_error(None, message)


class BillingFieldsMixin:
    """Adds the schedule fields and the three switches to a form, locked for a user who may not
    set them."""

    schedule_required = True

    def __init__(self, *args, can_toggle: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(schedule_fields(required=self.schedule_required))
        self.fields.update(switch_fields())
        lock_switches(self, can_toggle)

    @property
    def schedule_bound_fields(self):
        return [self[name] for name in SCHEDULE_KEYS]

    @property
    def switch_bound_fields(self):
        return [self[f"task_{task}"] for task in TASKS]
