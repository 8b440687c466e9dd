"""The CFDI documents: a queue like the messages' outbox. A document is created in the
transaction that causes it (an invoice paid, issued, a period ended), built and signed with the
company's CSD and stamped by the PAC after the commit, retried with back-off, stamped once."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CfdiKind(models.TextChoices):
    INVOICE = "invoice", pgettext_lazy("cfdi", "Invoice")
    GLOBAL = "global", pgettext_lazy("cfdi", "Global (public in general)")
    PAYMENT = "payment", pgettext_lazy("cfdi", "Payment complement")


class CfdiStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("cfdi", "Pending")
    STAMPED = "stamped", pgettext_lazy("cfdi", "Stamped")
    ERROR = "error", pgettext_lazy("cfdi", "Error")
    CANCELLED = "cancelled", pgettext_lazy("cfdi", "Cancelled")


class CancelReason(models.TextChoices):
    """SAT's reasons to cancel a CFDI."""

    WITH_RELATION = "01", _("01: issued with errors, replaced by another CFDI")
    WITHOUT_RELATION = "02", _("02: issued with errors, not replaced")
    NOT_CARRIED_OUT = "03", _("03: the operation did not take place")
    GLOBAL_NOMINATIVE = "04", _("04: nominative operation in a global CFDI")


class CfdiDocument(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=CfdiKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=CfdiStatus.choices, default=CfdiStatus.PENDING
    )
    # PUE (paid in one go) or PPD (paid later, with payment complements): an invoice's.
    method = models.CharField(max_length=3, blank=True)
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="cfdis"
    )
    payments = models.ManyToManyField("billing.Payment", blank=True, related_name="cfdis")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    series = models.CharField(max_length=25, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # The signed XML until it is stamped, then the stamped one (with its TimbreFiscalDigital).
    xml = models.TextField(blank=True)
    uuid = models.CharField(max_length=36, blank=True, db_index=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    stamped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=2, blank=True, choices=CancelReason.choices)
    substitution = models.CharField(max_length=36, blank=True)
    # Re-issued with corrected data: the CFDI this one replaces (related to it as SAT's
    # TipoRelacion 04, and cancelled with reason 01 and this one's UUID once this is
    # stamped); on the replaced one, `superseded` (it is no longer the invoice's live CFDI).
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    superseded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("CFDI")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="cfdi_pending",
            ),
            # The few replaced CFDIs still to cancel, looked for at every stamping run.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="stamped", superseded=True),
                name="cfdi_replaced_to_cancel",
            ),
        ]
        constraints = [
            # An invoice has one live CFDI of its own: a second payment, a retry or two
            # workers never make another (the one it replaces counts no more).
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(kind="invoice", superseded=False)
                & ~models.Q(status="cancelled"),
                name="cfdi_one_live_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["period_start", "period_end"],
                condition=models.Q(kind="global") & ~models.Q(status="cancelled"),
                name="cfdi_one_global_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"CFDI {self.series}{self.pk}"

    @property
    def folio(self) -> str:
        return str(self.pk)

    @property
    def customid(self) -> str:
        """What the PAC knows this document by: the same on every attempt."""
        return f"wispbill-{self.pk}"

    @property
    def error(self) -> str:
        if not (self.error_code or self.error_message):
            return ""
        return f"{self.error_code}: {self.error_message}".strip(": ")
