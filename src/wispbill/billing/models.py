from django.db import models
from django.utils.translation import gettext_lazy as _

from wispbill.billing.schedule import BillingSchedule


class BillingMode(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid")
    POSTPAID = "postpaid", _("Postpaid")


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

    class Meta:
        abstract = True

    @property
    def schedule(self) -> BillingSchedule | None:
        if self.billing_mode is None:
            return None
        return BillingSchedule(
            mode=self.billing_mode,
            pay_day=self.pay_day,
            invoice_lead_days=self.invoice_lead_days,
            notice_offset_days=self.notice_offset_days,
            grace_days=self.grace_days,
        )

    def set_schedule(self, schedule: BillingSchedule | None) -> None:
        values = (
            schedule.as_dict()
            if schedule
            else dict.fromkeys(
                ("mode", "pay_day", "invoice_lead_days", "notice_offset_days", "grace_days")
            )
        )
        self.billing_mode = values["mode"]
        self.pay_day = values["pay_day"]
        self.invoice_lead_days = values["invoice_lead_days"]
        self.notice_offset_days = values["notice_offset_days"]
        self.grace_days = values["grace_days"]


SCHEDULE_FIELDS = (
    "billing_mode",
    "pay_day",
    "invoice_lead_days",
    "notice_offset_days",
    "grace_days",
)


def schedule_constraints(prefix: str, required: bool) -> list[models.CheckConstraint]:
    """Database checks that hold a stored schedule to its ranges, whoever writes it."""
    ranges = models.Q(
        pay_day__gte=1,
        pay_day__lte=31,
        invoice_lead_days__gte=1,
        invoice_lead_days__lte=28,
        notice_offset_days__gte=-28,
        notice_offset_days__lte=28,
        grace_days__lte=28,
    ) & models.Q(notice_offset_days__lte=models.F("grace_days"))
    if required:
        condition = ranges & models.Q(billing_mode__isnull=False)
    else:
        condition = ranges | models.Q(
            billing_mode__isnull=True,
            pay_day__isnull=True,
            invoice_lead_days__isnull=True,
            notice_offset_days__isnull=True,
            grace_days__isnull=True,
        )
    return [models.CheckConstraint(condition=condition, name=f"{prefix}_schedule_valid")]
