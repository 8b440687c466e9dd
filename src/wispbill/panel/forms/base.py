"""Form pieces the panel pages share: days, money, the switches and the billing schedule."""

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from wispbill.core.models import SCHEDULE_COLUMNS, BillingMode, CutAction
from wispbill.core.money import company_notation_country, parse_money
from wispbill.core.schedule import OPTIONAL, RANGES, schedule_errors
from wispbill.core.switches import TASK_LABELS, TASKS, Task

# Dates as Mexican operators write them, whatever the panel's language: 25/12/2026 (ISO and
# 25-12-2026 are accepted too). A text box, not the browser's date picker, whose format
# follows the browser's locale (an English browser would show 12/25/2026).
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%y"]


class DayInput(forms.DateInput):
    def __init__(self, attrs=None):
        super().__init__(
            attrs={
                "placeholder": _("dd/mm/yyyy"),
                "inputmode": "numeric",
                "autocomplete": "off",
                "class": "day",
                **(attrs or {}),
            },
            format="%d/%m/%Y",
        )


class DayField(forms.DateField):
    """A day typed as dd/mm/yyyy (or ISO)."""

    widget = DayInput
    input_formats = DATE_FORMATS
    default_error_messages = {"invalid": _("Write the date as dd/mm/yyyy, e.g. 25/12/2026.")}

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            # Say which text was refused: 30/02/2027 has the right shape but is no day.
            raise forms.ValidationError(
                _("«%(value)s» is not a date.") % {"value": str(value).strip()[:30]}
                + " "
                + str(self.error_messages["invalid"]),
                code="invalid",
            ) from exc


class MoneyField(forms.DecimalField):
    """An amount typed as the ISP's operators write it (`core.money`: 1,234.50 or 1234.50 in
    Mexico). A text box, not a number input, which would refuse the thousands' comma."""

    widget = forms.TextInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {"inputmode": "decimal", "autocomplete": "off"}

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            try:
                value = parse_money(value, company_notation_country())
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages, code=exc.code) from exc
        return super().to_python(value)


def parse_day(text: str):
    """A day typed in any of the panel's formats, or None."""
    field = DayField(required=False)
    try:
        return field.clean(text)
    except forms.ValidationError:
        return None


TASK_HELP = {
    Task.INVOICES: _("Issue each cycle's invoice on its invoice date."),
    Task.NOTICES: _("Show the payment notice on the client's screen when it is late."),
    Task.CUTS: _("Suspend the service on the cut date if the invoice is unpaid."),
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
        for task in Task
    }


def switch_values(cleaned_data: dict, prefix: str = "task_") -> dict[str, bool] | None:
    """The switches the form sent, or None when it sent none (the user may not set them)."""
    values: dict[str, bool] = {}
    for task in TASKS:
        value = cleaned_data.get(f"{prefix}{task}")
        if value is not None:
            values[task] = value
    return values or None


class LongSelect(forms.Select):
    """A select of hundreds of options (an ISP's zones), written in one pass: Django's Select
    renders two templates per option, 0.45 s for 1,000 zones on every client page."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if key in chosen else "", label)
                for key, label in ((str(v), label) for v, label in self.choices)
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), options)


def _filled(text, **values):
    """`text % values`, translated when shown: these labels are built when the module loads,
    before any request has a language."""
    return lazy(lambda: str(text) % values, str)()


def _range(field: str) -> str:
    low, high = RANGES[field]
    return _filled(_("%(low)s to %(high)s."), low=low, high=high)


SCHEDULE_LABELS = {
    "mode": (
        _("Billing mode"),
        _("Prepaid charges the month ahead; postpaid, the month consumed."),
    ),
    "pay_day": (_("Pay day"), _("1 to 31; in shorter months, their last day.")),
    "invoice_lead_days": (_("Invoice days before the pay date"), None),
    "notice_offset_days": (
        _("Notice days after the pay date"),
        _("-28 to 28; negative: before the pay date."),
    ),
    "grace_days": (_("Grace days (cut and due date after the pay date)"), None),
    "cut_action": (
        _("On the cut date"),
        _("Reducing the speed keeps the client connected, slowly, to the notice and its page."),
    ),
    "throttle_kbps": (
        _("Reduced speed (kbps)"),
        _filled(
            _("%(low)s to %(high)s; never above the plan's speed."),
            low=RANGES["throttle_kbps"][0],
            high=RANGES["throttle_kbps"][1],
        ),
    ),
}
# What the cut does is guarded like the switches (it stops an automatic cut for some).
GUARDED = ("cut_action",)
# Form field name (the model's column) → schedule field, from the one mapping in core.
SCHEDULE_KEYS = {column: field for field, column in SCHEDULE_COLUMNS.items()}


def schedule_fields(required: bool) -> dict[str, forms.Field]:
    """The schedule's form fields, with the ranges of core.schedule."""
    fields: dict[str, forms.Field] = {}
    for column, field in SCHEDULE_KEYS.items():
        label, help_text = SCHEDULE_LABELS[field]
        if field == "mode":
            fields[column] = forms.ChoiceField(
                label=label,
                choices=[("", "—"), *BillingMode.choices],
                required=required,
                help_text=help_text,
            )
        elif field == "cut_action":
            # Never required: left out (a locked select is not sent), it stays as it is.
            fields[column] = forms.ChoiceField(
                label=label, choices=CutAction.choices, required=False, help_text=help_text
            )
        else:
            low, high = RANGES[field]
            fields[column] = forms.IntegerField(
                label=label,
                min_value=low,
                max_value=high,
                required=required and field not in OPTIONAL,
                help_text=help_text or _range(field),
            )
    return fields


def schedule_values(form: forms.Form) -> dict | None:
    """The schedule the form holds, with the cross-field rules checked into the form's errors."""
    data = {key: form.cleaned_data.get(name) for name, key in SCHEDULE_KEYS.items()}
    data = {key: None if value == "" else value for key, value in data.items()}
    if all(data[key] is None for key in SCHEDULE_KEYS.values() if key not in OPTIONAL):
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
    """Show the switches (and what the cut does) read-only. Only the inputs are disabled, not
    the fields: a crafted POST still reaches the service, which refuses it as a whole."""
    if not can_toggle:
        for name in [f"{prefix}{task}" for task in TASKS] + list(GUARDED):
            if name in form.fields:
                form.fields[name].widget.attrs["disabled"] = True


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


# What BillingFieldsMixin is mixed into, for mypy; nothing at run time (the form class that
# uses it brings the form).
if TYPE_CHECKING:
    _FormBase = forms.Form
else:
    _FormBase = object


class BillingFieldsMixin(_FormBase):
    """Adds the schedule fields and the three switches to a form, locked for a user who may not
    set them."""

    schedule_required = True

    def __init__(self, *args, can_toggle: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(schedule_fields(required=self.schedule_required))
        self.fields.update(switch_fields())
        lock_switches(self, can_toggle)
        # The reduced speed only matters when the cut reduces the speed (panel.js).
        self.fields["cut_action"].widget.attrs["data-cut-action"] = ""
        self.fields["throttle_kbps"].widget.attrs["data-throttle-speed"] = ""

    @property
    def schedule_bound_fields(self):
        return [self[name] for name in SCHEDULE_KEYS]

    @property
    def switch_bound_fields(self):
        return [self[f"task_{task}"] for task in TASKS]
