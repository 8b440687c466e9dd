from datetime import date
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wispbill.core.clock import today


class InvoiceStatus(models.TextChoices):
    # "Factura" is feminine: its states say so ("Pagada", "Cancelada").
    PENDING = "pending", pgettext_lazy("invoice", "Pending")
    PAID = "paid", pgettext_lazy("invoice", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("invoice", "Cancelled")


class InvoiceQuerySet(models.QuerySet):
    """The names of the invoice rules the engine, the services and the pages share."""

    def pending(self) -> "InvoiceQuerySet":
        return self.filter(status=InvoiceStatus.PENDING)

    def overdue_on(self, day: date) -> "InvoiceQuerySet":
        """Pending and past due on `day` (the cut comes on the due date itself)."""
        return self.pending().filter(due_date__lte=day)

    def noticeable_on(self, day: date) -> "InvoiceQuerySet":
        """Pending and past its notice date on `day`."""
        return self.pending().filter(notice_date__lte=day)

    def oldest_first(self) -> "InvoiceQuerySet":
        """The order a payment pays pending invoices in."""
        return self.order_by("due_date", "pay_date", "id")


class Invoice(models.Model):
    """A cycle's invoice: its period, its dates, what it costs and what was paid of it."""

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    issued_on = models.DateField(_("issued on"))
    pay_date = models.DateField(_("pay date"))
    notice_date = models.DateField(_("notice date"))
    due_date = models.DateField(_("due date"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    paid_amount = models.DecimalField(
        _("paid"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.PENDING
    )
    automatic = models.BooleanField(_("automatic"), default=False)
    # Once per invoice: the automatic tasks notify and cut a client at most once for it.
    notice_shown_on = models.DateField(null=True, blank=True)
    cut_on = models.DateField(null=True, blank=True)
    # Staff gave the service back by hand while this invoice was overdue: no automatic cut.
    cut_exempt = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-pay_date", "-id"]
        verbose_name = _("invoice")
        indexes = [
            models.Index(fields=["client", "status", "due_date"]),
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["client", "period_start"]),
            # What the dashboard sums each month: the invoices issued in it.
            models.Index(fields=["issued_on"], name="invoice_issued_on"),
            # What the notice and cut tasks look for each day: few rows among many.
            models.Index(
                fields=["notice_date"],
                condition=models.Q(status=InvoiceStatus.PENDING, notice_shown_on__isnull=True),
                name="invoice_awaiting_notice",
            ),
            models.Index(
                fields=["due_date"],
                condition=models.Q(
                    status=InvoiceStatus.PENDING, cut_on__isnull=True, cut_exempt=False
                ),
                name="invoice_awaiting_cut",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "period_start"],
                condition=models.Q(automatic=True),
                name="invoice_one_automatic_per_period",
            ),
            models.UniqueConstraint(
                fields=["client", "period_start"],
                condition=~models.Q(status=InvoiceStatus.CANCELLED),
                name="invoice_one_live_per_period",
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0, paid_amount__gte=0)
                & models.Q(paid_amount__lte=models.F("total")),
                name="invoice_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return _("Invoice %(id)s") % {"id": self.pk}

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.paid_amount


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(_("description"), max_length=300)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")
    CARD = "card", _("Card")
    DEPOSIT = "deposit", _("Deposit")
    OTHER = "other", _("Other")


class Payment(models.Model):
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    method = models.CharField(
        _("method"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CASH
    )
    # When it was registered; `paid_on` is the day the money was received (a transfer seen
    # today may have arrived yesterday), the day the cash report counts it on.
    received_at = models.DateTimeField(_("registered at"))
    paid_on = models.DateField(
        _("payment date"), default=today, help_text=_("The day the money was received.")
    )
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        help_text=_("Bank reference, receipt or transfer number."),
    )
    activate_service = models.BooleanField(_("reactivate the service"), default=True)
    credit_added = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    actor_name = models.CharField(max_length=150)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-paid_on", "-received_at", "-id"]
        verbose_name = _("payment")
        indexes = [models.Index(fields=["paid_on", "actor_name"], name="payment_paid_on")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive")
        ]

    def __str__(self) -> str:
        return _("Payment %(id)s") % {"id": self.pk}


class PaymentAllocation(models.Model):
    """How much of a payment went to which invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.payment_id}→{self.invoice_id}: {self.amount}"
