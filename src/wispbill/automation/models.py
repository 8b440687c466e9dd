from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wispbill.automation.switches import Switches


class SwitchFields(models.Model):
    """The periodic-task switches of a zone, or of a client with its own billing."""

    task_invoices = models.BooleanField(_("automatic invoices"), default=True)
    task_notices = models.BooleanField(_("automatic notices"), default=True)
    task_cuts = models.BooleanField(_("automatic cuts"), default=True)
    # Bumped on every change of a switch, so an undo can tell whether anyone touched a row since.
    switches_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    @property
    def switches(self) -> Switches:
        return Switches(self.task_invoices, self.task_notices, self.task_cuts)

    def set_switches(self, switches: Switches) -> None:
        self.task_invoices = switches.invoices
        self.task_notices = switches.notices
        self.task_cuts = switches.cuts


class MassUpdate(models.Model):
    """One "Acciones masivas" run: what it set, where, and what it replaced (its items)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    zone = models.ForeignKey("network.Zone", null=True, blank=True, on_delete=models.SET_NULL)
    zone_name = models.CharField(max_length=200, blank=True)
    all_zones = models.BooleanField(default=False)
    invoices = models.BooleanField(null=True)
    notices = models.BooleanField(null=True)
    cuts = models.BooleanField(null=True)
    zones_changed = models.PositiveIntegerField(default=0)
    clients_changed = models.PositiveIntegerField(default=0)
    zone_billed_clients = models.PositiveIntegerField(default=0)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_name = models.CharField(max_length=150, blank=True)
    undo_restored = models.PositiveIntegerField(default=0)
    undo_skipped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return _("Mass update #%(id)s") % {"id": self.pk}

    @property
    def targets(self) -> dict[str, bool]:
        """The tasks this update set, and to what."""
        return {
            task: value
            for task, value in (
                ("invoices", self.invoices),
                ("notices", self.notices),
                ("cuts", self.cuts),
            )
            if value is not None
        }


class MassUpdateItem(models.Model):
    """A row a mass update changed: the values it replaced and the version it left behind."""

    ZONE = "zone"
    CLIENT = "client"
    KINDS = [(ZONE, _("zone")), (CLIENT, _("client"))]

    mass_update = models.ForeignKey(MassUpdate, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=6, choices=KINDS)
    object_id = models.BigIntegerField()
    before_invoices = models.BooleanField(null=True)
    before_notices = models.BooleanField(null=True)
    before_cuts = models.BooleanField(null=True)
    version_after = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["mass_update", "kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.mass_update_id}:{self.kind}:{self.object_id}"


class ReactivationBilling(models.TextChoices):
    FULL = "full", _("Invoice the whole cycle")
    PRORATED = "prorated", _("Invoice from the reactivation day (prorated)")
    SKIP = "skip", _("Do not invoice that cycle")


class CompanySettings(models.Model):
    """The ISP's rules for the periodic tasks; one row."""

    name = models.CharField(_("company name"), max_length=200, default="Mi ISP")
    run_hour = models.PositiveSmallIntegerField(
        _("daily run hour"),
        default=6,
        help_text=_("The hour of the day (0 to 23, in the ISP's time zone) the tasks run."),
    )
    no_cut_weekdays = models.JSONField(
        _("weekdays without cuts"),
        default=list,
        blank=True,
        help_text=_("0 is Monday, 6 is Sunday."),
    )
    holidays = models.JSONField(_("holidays without cuts"), default=list, blank=True)
    min_debt_to_cut = models.DecimalField(
        _("minimum debt to cut"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    invoice_suspended = models.BooleanField(_("invoice suspended clients"), default=False)
    payment_instructions = models.TextField(_("how to pay"), blank=True)
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
    notice_host = models.CharField(
        _("notice page address"),
        max_length=255,
        blank=True,
        help_text=_("The address at which the routers reach wispbill's notice page."),
    )
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
    portal_promise_days = models.PositiveSmallIntegerField(
        _("longest promise a client can make"),
        default=5,
        help_text=_("Days; 0: clients cannot make promises from their page."),
    )
    portal_promises_per_cycle = models.PositiveSmallIntegerField(
        _("promises a client can make per cycle"), default=1
    )
    last_daily_run = models.DateField(null=True, blank=True, editable=False)
    # The latest day the periodic tasks ran as of (never moves back). Payments, promises and
    # manual actions judge "overdue" as of this day, so they agree with the engine, also when
    # an operator replays or simulates days with run-periodic-tasks --date.
    business_day = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("company settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="company_settings_single"),
            models.CheckConstraint(
                condition=models.Q(run_hour__lte=23, min_debt_to_cut__gte=0),
                name="company_settings_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> "CompanySettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row

    @classmethod
    def advance_business_day(cls, day) -> None:
        cls.load()
        cls.objects.filter(pk=1).filter(
            models.Q(business_day__isnull=True) | models.Q(business_day__lt=day)
        ).update(business_day=day)

    def is_no_cut_day(self, day) -> bool:
        return day.weekday() in self.no_cut_weekdays or day.isoformat() in self.holidays


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPLIED = "applied", _("Applied")
    ERROR = "error", _("Error")


class TaskState(models.Model):
    """The last run of one periodic task for one zone or one own-billing client."""

    kind = models.CharField(max_length=6, choices=MassUpdateItem.KINDS)
    object_id = models.BigIntegerField()
    task = models.CharField(max_length=8)
    last_run_date = models.DateField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(
        max_length=8, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    last_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "task"], name="task_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}:{self.task}"


class ManualRun(models.Model):
    """A "run now" asked from the panel or the API, with its progress."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    actor_name = models.CharField(max_length=150)
    day = models.DateField()
    zone = models.ForeignKey("network.Zone", null=True, blank=True, on_delete=models.SET_NULL)
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.SET_NULL)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=8, default=RUNNING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} {self.day}"


def business_today():
    """The day the billing rules apply as of: the engine's latest day, else today."""
    from django.utils import timezone

    day = CompanySettings.objects.filter(pk=1).values_list("business_day", flat=True).first()
    return day or timezone.localdate()
