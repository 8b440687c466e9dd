"""Abstract model mixins shared by zones and clients, and the company's settings row."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Self

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Expression, Func, Value
from django.db.models.functions import Lower, Replace
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wispbill.core import schedule as sched
from wispbill.core.bank import validate_clabe
from wispbill.core.fiscal import REGIME_CHOICES, validate_postal_code, validate_rfc
from wispbill.core.switches import TASKS, Switches
from wispbill.core.wire import validate_one_line

# What search ignores: case and accents. The database column and the search terms are folded
# by the same table, so "gomez" finds "Gómez" on SQLite (whose lower() is ASCII-only) and on
# PostgreSQL alike.
# (Spanish's letters only: SQLite's parser caps how deep the column's REPLACE() calls may nest.)
# Every amount someone types (payments, prices, the minimum debt to cut) has at most two
# decimals and is at most this; the columns are wider, so sums (a client's credit) fit.
MAX_MONEY = Decimal("99999999.99")
# The most a client may take on its own page: a promise no longer than the longest grace a
# schedule allows, and a few promises per cycle (beyond that, a person should decide).
MAX_PORTAL_PROMISE_DAYS = 28
MAX_PORTAL_PROMISES_PER_CYCLE = 5
# "16" is what people type for 16 %: what to write instead (the panel's and the API's words).
TAX_RATE_AS_FRACTION = _("The rate is a fraction of the price: write 0.16 for 16 percent.")

FOLD: dict[str, str | int | None] = {
    **dict(zip("áéíóúüñ", "aeiouun", strict=True)),
    **dict(zip("ÁÉÍÓÚÜÑ", "aeiouun", strict=True)),
}


class RfcField(models.CharField):  # type: ignore[type-arg]
    """An RFC as people type it ("pepj8001019qa ") read as SAT writes it, capitals without
    spaces around, before its checks run: in a form, the file import and the services."""

    def to_python(self, value: object) -> str | None:
        text = super().to_python(value)
        return text.strip().upper() if isinstance(text, str) else text


def rfc_field() -> RfcField:
    return RfcField(_("RFC"), max_length=13, blank=True, validators=[validate_rfc])


def fold(text: str) -> str:
    """Text as search compares it: lower case, without accents."""
    return text.lower().translate(str.maketrans(FOLD))


def folded(expression: Expression | str) -> Func:
    """The database expression of `fold` (for a generated column)."""
    text: models.TextField[str, str] = models.TextField()
    folding: Func = Lower(expression, output_field=text)
    for accented, plain in FOLD.items():
        folding = Replace(folding, Value(accented), Value(plain), output_field=text)
    return folding


class BillingMode(models.TextChoices):
    PREPAID = sched.PREPAID, _("Prepaid")
    POSTPAID = sched.POSTPAID, _("Postpaid")


class CutAction(models.TextChoices):
    SUSPEND = sched.SUSPEND, _("Suspend the service")
    THROTTLE = sched.THROTTLE, _("Reduce the speed")


# The fields a mass update sets and undoes, by the name the API and forms use, and their
# columns. Each has a revision counter (`<column>_rev`) bumped on every change, so an undo
# can tell, field by field, whether anyone changed it since.
MASS_FIELDS = {task: f"task_{task}" for task in TASKS} | {
    "cut_action": "cut_action",
    "throttle_kbps": "throttle_kbps",
}


def rev_column(field: str) -> str:
    return f"{MASS_FIELDS[field]}_rev"


# The one place a mass-update field's revision is bumped: on one row in memory, or on many
# rows in one UPDATE (the switches' owner, `clients.switches`, writes through these).
def mass_field_set(obj: models.Model, field: str, value: object) -> bool:
    """Set a mass-update field on one row (in memory), bumping its revision when it changes;
    whether it did."""
    column, rev = MASS_FIELDS[field], rev_column(field)
    if getattr(obj, column) == value:
        return False
    setattr(obj, column, value)
    setattr(obj, rev, getattr(obj, rev) + 1)
    return True


def mass_field_update(field: str, value: object) -> dict[str, object]:
    """The `QuerySet.update()` arguments that set a mass-update field on many rows and bump
    its revision."""
    rev = rev_column(field)
    return {MASS_FIELDS[field]: value, rev: models.F(rev) + 1}


# The column each field of a BillingSchedule is stored in.
SCHEDULE_COLUMNS = {field: field for field in sched.FIELDS} | {"mode": "billing_mode"}


class ScheduleFields(models.Model):
    """The billing schedule of a zone, or of a client with its own billing."""

    billing_mode = models.CharField(
        _("billing mode"), max_length=8, choices=BillingMode.choices, null=True, blank=True
    )
    pay_day = models.PositiveSmallIntegerField(_("pay day"), null=True, blank=True)
    invoice_lead_days = models.PositiveSmallIntegerField(
        _("invoice days before pay date"), null=True, blank=True
    )
    notice_offset_days = models.SmallIntegerField(
        _("notice days after pay date"), null=True, blank=True
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), null=True, blank=True)
    cut_action = models.CharField(
        _("on the cut date"), max_length=8, choices=CutAction.choices, null=True, blank=True
    )
    throttle_kbps = models.PositiveIntegerField(_("reduced speed (kbps)"), null=True, blank=True)
    # Revisions of the schedule fields a mass update sets (see MASS_FIELDS).
    cut_action_rev = models.PositiveIntegerField(default=0, editable=False)
    throttle_kbps_rev = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    @property
    def schedule(self) -> sched.BillingSchedule | None:
        if self.billing_mode is None:
            return None
        return sched.BillingSchedule(
            **{field: getattr(self, column) for field, column in SCHEDULE_COLUMNS.items()}
        )

    def set_schedule(self, schedule: sched.BillingSchedule | None) -> None:
        """Set the schedule's columns, bumping the revision of each mass-update field that
        changes, so an undo leaves a value someone set since."""
        values = schedule.as_dict() if schedule else {}
        for field, column in SCHEDULE_COLUMNS.items():
            if field in MASS_FIELDS:
                mass_field_set(self, field, values.get(field))
            else:
                setattr(self, column, values.get(field))


def schedule_constraints(prefix: str, required: bool) -> list[models.CheckConstraint]:
    """Database checks that hold a stored schedule to its ranges, whoever writes it."""
    bounds = {}
    for field, (low, high) in sched.RANGES.items():
        column = SCHEDULE_COLUMNS[field]
        if low != 0:  # a lower bound of 0 is the unsigned column's own
            bounds[f"{column}__gte"] = low
        bounds[f"{column}__lte"] = high
    # Every column set (a NULL would pass the range checks: SQL counts it as unknown).
    present = {f"{column}__isnull": False for column in SCHEDULE_COLUMNS.values()}
    ranges = (
        models.Q(**present, **bounds)
        & models.Q(notice_offset_days__lte=models.F("grace_days"))
        & models.Q(cut_action__in=sched.CUT_ACTIONS)
    )
    if required:
        condition = ranges
    else:
        condition = ranges | models.Q(
            **{f"{column}__isnull": True for column in SCHEDULE_COLUMNS.values()}
        )
    return [models.CheckConstraint(condition=condition, name=f"{prefix}_schedule_valid")]


class SwitchFields(models.Model):
    """The periodic-task switches of a zone, or of a client with its own billing."""

    task_invoices = models.BooleanField(_("automatic invoices"), default=True)
    task_notices = models.BooleanField(_("automatic notices"), default=True)
    task_cuts = models.BooleanField(_("automatic cuts"), default=True)
    task_invoices_rev = models.PositiveIntegerField(default=0, editable=False)
    task_notices_rev = models.PositiveIntegerField(default=0, editable=False)
    task_cuts_rev = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    @property
    def switches(self) -> Switches:
        return Switches(*(getattr(self, MASS_FIELDS[task]) for task in TASKS))

    def set_switches(self, switches: Switches) -> dict[str, list[bool]]:
        """Set the switches, bumping the revision of each that changes; returns the diff."""
        diff = self.switches.diff(switches)
        for task, (_before, after) in diff.items():
            mass_field_set(self, task, after)
        return diff


if TYPE_CHECKING:
    # What the mixin is mixed into, for the checker: its `name` and Django's own message.
    _NamedModel = models.Model
else:
    _NamedModel = object


class NameTakenMessage(_NamedModel):
    """A model whose unique name, when already taken, is refused with a message that names
    it (`name_taken`: an untranslated message with %(name)s), instead of Django's generic
    "with this Name already exists"."""

    name_taken = ""
    name: str

    def unique_error_message(
        self, model_class: type[Self], unique_check: Sequence[str]
    ) -> ValidationError:
        if unique_check == ("name",) and self.name_taken:
            return ValidationError(gettext(self.name_taken) % {"name": self.name}, code="unique")
        return super().unique_error_message(model_class, unique_check)


# The company's settings row holds what many apps read, so it lives in core, below them all;
# its fields are grouped below by the app that owns their rule (the one that reads them to
# act), one abstract mixin per app, and `CompanySettings` is their sum. The editable ones are
# `automation.services.company.COMPANY_FIELDS`; the panel's form shows them in sections.


class CompanyFields(models.Model):
    """core: who the company is."""

    # The sender's name of every e-mail: one line.
    name = models.CharField(
        _("company name"), max_length=200, default="Mi ISP", validators=[validate_one_line]
    )

    class Meta:
        abstract = True


class CompanyRunFields(models.Model):
    """automation: when the daily run works, and how far it got."""

    run_hour = models.PositiveSmallIntegerField(
        _("daily run hour"),
        default=6,
        validators=[MaxValueValidator(23, message=_("Choose an hour from 0 to 23."))],
        help_text=_("The hour of the day (0 to 23, in the ISP's time zone) the tasks run."),
    )
    last_daily_run = models.DateField(null=True, blank=True, editable=False)
    # The latest day the periodic tasks ran as of (never moves back). Payments, promises and
    # manual actions judge "overdue" as of this day, so they agree with the engine, also when
    # an operator replays or simulates days with run-periodic-tasks --date.
    business_day = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class CompanyCutFields(models.Model):
    """billing: the days and the debt below which nobody is cut (`billing.debt`)."""

    no_cut_weekdays = models.JSONField(
        _("weekdays without cuts"),
        default=list,
        blank=True,
        help_text=_("0 is Monday, 6 is Sunday."),
    )
    holidays = models.JSONField(_("holidays without cuts"), default=list, blank=True)
    min_debt_to_cut = models.DecimalField(
        _("minimum debt to cut"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(MAX_MONEY)],
    )

    class Meta:
        abstract = True

    def is_no_cut_day(self, day: date) -> bool:
        return day.weekday() in self.no_cut_weekdays or day.isoformat() in self.holidays


class ReactivationBilling(models.TextChoices):
    FULL = "full", _("Invoice the whole cycle")
    PRORATED = "prorated", _("Invoice from the reactivation day (prorated)")
    SKIP = "skip", _("Do not invoice that cycle")


class FirstInvoice(models.TextChoices):
    """What the invoice task bills for the cycle a client's service starts in."""

    PRORATED = "prorated", _("Invoice from the start day (prorated)")
    FULL = "full", _("Invoice the whole cycle")
    NEXT_CYCLE = "next_cycle", _("Do not invoice it; start with the next cycle")


class CompanyInvoiceFields(models.Model):
    """billing: what the invoices bill, and their tax (`billing.charges`, `billing.taxes`)."""

    invoice_suspended = models.BooleanField(_("invoice suspended clients"), default=False)
    reactivation_billing = models.CharField(
        _("billing after a cut"),
        max_length=8,
        choices=ReactivationBilling.choices,
        default=ReactivationBilling.PRORATED,
        help_text=_(
            "What the invoice task does, once a client is active again, for a cycle whose "
            "invoice date came while it was suspended and not invoiced."
        ),
    )
    first_invoice = models.CharField(
        _("first invoice"),
        max_length=10,
        choices=FirstInvoice.choices,
        default=FirstInvoice.PRORATED,
        help_text=_(
            "What the invoice task bills for the cycle in which a client's service starts, "
            "when it starts after the cycle's first day."
        ),
    )
    reconnection_fee = models.DecimalField(
        _("reconnection fee"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(MAX_MONEY)],
        help_text=_(
            "Charged on the next invoice when a client whose service was cut gets it back "
            "(not after a payment promise); 0.00 for none."
        ),
    )
    # Taxes: the rate of IVA (0.16 is 16 %) and whether the plans' prices include it.
    tax_rate = models.DecimalField(
        _("tax rate (IVA)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.16"),
        validators=[
            MinValueValidator(Decimal("0.00")),
            MaxValueValidator(Decimal("0.99"), message=TAX_RATE_AS_FRACTION),
        ],
        help_text=_("As a fraction: 0.16 for 16 %; 0.00 for none."),
    )
    prices_include_tax = models.BooleanField(
        _("prices include tax"),
        default=True,
        help_text=_("Checked: a plan's price is what the client pays. Unchecked: tax is added."),
    )

    class Meta:
        abstract = True


class CompanyPaymentFields(models.Model):
    """payments: how clients pay (shown on the documents, the notice page and the client's
    page)."""

    payment_instructions = models.TextField(_("how to pay"), blank=True)
    # Where clients send transfers (SPEI); shown with each client's payment reference.
    bank_name = models.CharField(
        _("bank"), max_length=100, blank=True, validators=[validate_one_line]
    )
    bank_account = models.CharField(
        _("CLABE"),
        max_length=18,
        blank=True,
        validators=[validate_clabe],
        help_text=_("The 18-digit CLABE clients transfer to; its last digit is checked."),
    )

    class Meta:
        abstract = True


class CfdiMode(models.TextChoices):
    """When an invoice of a client with an RFC is stamped (docs/contract.md, "Taxes and
    CFDI 4.0")."""

    OFF = "off", _("Off: no CFDI")
    ON_PAYMENT = "on_payment", _("When it is fully paid (PUE)")
    ON_ISSUE = "on_issue", _("When it is issued (PPD), with a payment complement per payment")


class GlobalPeriodicity(models.TextChoices):
    """SAT's c_Periodicidad, for the global CFDI of the public in general."""

    DAILY = "01", _("Daily")
    WEEKLY = "02", _("Weekly")
    MONTHLY = "04", _("Monthly")
    BIMONTHLY = "05", _("Every two months")


class CompanyCfdiFields(models.Model):
    """cfdi: the issuer of the CFDI, when they are stamped, and the CSD that seals them."""

    # The issuer of the CFDI (Emisor) and where it is issued (LugarExpedicion).
    rfc = rfc_field()
    legal_name = models.CharField(
        _("legal name"),
        max_length=300,
        blank=True,
        validators=[validate_one_line],
        help_text=_("As it appears in the tax certificate (constancia de situación fiscal)."),
    )
    tax_regime = models.CharField(_("tax regime"), max_length=3, blank=True, choices=REGIME_CHOICES)
    postal_code = models.CharField(
        _("postal code of issue"), max_length=5, blank=True, validators=[validate_postal_code]
    )
    invoice_series = models.CharField(
        _("invoice series"),
        max_length=25,
        default="F",
        validators=[validate_one_line],
    )
    cfdi = models.CharField(
        _("electronic invoicing (CFDI)"),
        max_length=10,
        choices=CfdiMode.choices,
        default=CfdiMode.OFF,
    )
    cfdi_global_periodicity = models.CharField(
        _("global CFDI periodicity"),
        max_length=2,
        choices=GlobalPeriodicity.choices,
        default=GlobalPeriodicity.MONTHLY,
    )
    # The CSD (certificado de sello digital): the certificate as it came (DER, base64) and
    # the key and its password encrypted (core.secrets); never shown again.
    csd_certificate = models.TextField(blank=True, editable=False)
    csd_key = models.TextField(blank=True, editable=False)
    csd_password = models.TextField(blank=True, editable=False)
    csd_serial = models.CharField(max_length=40, blank=True, editable=False)
    csd_valid_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class CompanyNetworkFields(models.Model):
    """network: where the routers send the web traffic of listed clients."""

    notice_host = models.CharField(
        _("notice page address"),
        max_length=255,
        blank=True,
        validators=[validate_one_line],
        help_text=_("The address at which the routers reach wispbill's notice page."),
    )

    class Meta:
        abstract = True


class CompanyMessagingFields(models.Model):
    """messaging: when messages may leave, the links they carry, the WhatsApp templates."""

    public_url = models.URLField(
        _("client page address"),
        blank=True,
        help_text=_(
            "The address at which clients reach wispbill, for the links in messages "
            "(for example https://pagos.mi-isp.mx)."
        ),
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        default="MX",
        help_text=_("Two-letter code; phone numbers without a country code are read as of it."),
    )
    quiet_hours = models.CharField(
        _("quiet hours"),
        max_length=11,
        default="21:00-08:00",
        blank=True,
        help_text=_("No message is sent between these hours (HH:MM-HH:MM); empty for none."),
    )
    whatsapp_template_invoice = models.CharField(
        _("WhatsApp template: invoice"), max_length=100, default="wispbill_invoice"
    )
    whatsapp_template_reminder = models.CharField(
        _("WhatsApp template: reminder"), max_length=100, default="wispbill_reminder"
    )
    whatsapp_template_cut = models.CharField(
        _("WhatsApp template: cut"), max_length=100, default="wispbill_cut"
    )
    whatsapp_template_receipt = models.CharField(
        _("WhatsApp template: receipt"), max_length=100, default="wispbill_receipt"
    )
    whatsapp_template_throttled = models.CharField(
        _("WhatsApp template: reduced speed"),
        max_length=100,
        default="wispbill_throttled",
        help_text=_("The cut notice of a client whose speed was reduced instead of cut."),
    )

    class Meta:
        abstract = True


class CompanyPortalFields(models.Model):
    """portal: what a client may do from its own page (checked by `billing.promises`)."""

    portal_promise_days = models.PositiveSmallIntegerField(
        _("longest promise a client can make"),
        default=5,
        validators=[
            MaxValueValidator(
                MAX_PORTAL_PROMISE_DAYS,
                message=_("A promise can be at most %(limit_value)s days long."),
            )
        ],
        help_text=_("Days; 0: clients cannot make promises from their page."),
    )
    portal_promises_per_cycle = models.PositiveSmallIntegerField(
        _("promises a client can make per cycle"),
        default=1,
        validators=[
            MaxValueValidator(
                MAX_PORTAL_PROMISES_PER_CYCLE,
                message=_("A client can make at most %(limit_value)s promises per cycle."),
            )
        ],
    )

    class Meta:
        abstract = True


class CompanySettings(
    CompanyFields,
    CompanyRunFields,
    CompanyCutFields,
    CompanyInvoiceFields,
    CompanyPaymentFields,
    CompanyCfdiFields,
    CompanyNetworkFields,
    CompanyMessagingFields,
    CompanyPortalFields,
    models.Model,
):
    """The ISP's settings; one row."""

    class Meta:
        # The table keeps the name it was created with, so existing databases move as they are.
        db_table = "automation_companysettings"
        verbose_name = _("company settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="company_settings_single"),
            models.CheckConstraint(
                condition=models.Q(run_hour__lte=23, min_debt_to_cut__gte=0),
                name="company_settings_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    portal_promise_days__lte=MAX_PORTAL_PROMISE_DAYS,
                    portal_promises_per_cycle__lte=MAX_PORTAL_PROMISES_PER_CYCLE,
                ),
                name="company_settings_client_limits",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> "CompanySettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row
