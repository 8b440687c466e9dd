from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wispbill.core.clock import today


class InvoiceStatus(models.TextChoices):
    # "Factura" is feminine: its states say so ("Pagada", "Cancelada").
    PENDING = "pending", pgettext_lazy("invoice", "Pending")
    PAID = "paid", pgettext_lazy("invoice", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("invoice", "Cancelled")


class InvoiceQuerySet(models.QuerySet["Invoice"]):
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


def paid_status(paid: Decimal, total: Decimal) -> str:
    """The one rule of being paid: an invoice whose paid amount reaches its total is paid
    (the engine's bulk writer, the counter and the credit all ask it)."""
    return InvoiceStatus.PAID if paid >= total else InvoiceStatus.PENDING


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
    # subtotal + tax == total to the cent: the sums of the lines' bases and taxes
    # (billing.taxes).
    subtotal = models.DecimalField(
        _("subtotal"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    tax = models.DecimalField(
        pgettext_lazy("IVA", "tax"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    paid_amount = models.DecimalField(
        _("paid"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.PENDING
    )
    automatic = models.BooleanField(_("automatic"), default=False)
    # An invoice of one-off charges alone, issued by hand outside the cycles: its period is
    # its day of issue, and it takes no cycle's place (the constraints below are the cycles').
    charges_only = models.BooleanField(_("charges only"), default=False, db_default=False)
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
                condition=~models.Q(status=InvoiceStatus.CANCELLED) & models.Q(charges_only=False),
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

    def pay(self, amount: Decimal) -> None:
        """Add `amount` to what was paid of it (in memory); paid once that reaches its total."""
        self.paid_amount += amount
        if paid_status(self.paid_amount, self.total) == InvoiceStatus.PAID:
            self.status = InvoiceStatus.PAID


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(_("description"), max_length=300)
    # What the line adds to the invoice's total: its tax base + its tax (billing.taxes).
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    tax_base = models.DecimalField(
        _("tax base"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    tax = models.DecimalField(
        pgettext_lazy("IVA", "tax"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class ChargeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    INVOICED = "invoiced", _("Invoiced")


class ChargeOrigin(models.TextChoices):
    """Why a one-off charge exists: staff added it, or a reconnection after a cut."""

    MANUAL = "manual", _("Added by staff")
    RECONNECTION = "reconnection", _("Reconnection fee")


class Charge(models.Model):
    """A one-off charge (or, negative, a discount) that becomes a line of the client's next
    invoice."""

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="charges")
    description = models.CharField(_("description"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    origin = models.CharField(
        _("origin"), max_length=12, choices=ChargeOrigin.choices, default=ChargeOrigin.MANUAL
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    actor_name = models.CharField(max_length=150)

    class Meta:
        ordering = ["id"]
        verbose_name = _("charge")
        # What each invoice looks for: the few pending charges among many invoiced.
        indexes = [
            models.Index(
                fields=["client"],
                condition=models.Q(status=ChargeStatus.PENDING),
                name="charge_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount=0)
                & (
                    models.Q(status=ChargeStatus.PENDING, invoice__isnull=True)
                    | models.Q(status=ChargeStatus.INVOICED, invoice__isnull=False)
                ),
                name="charge_valid",
            )
        ]

    def __str__(self) -> str:
        return _("Charge %(id)s") % {"id": self.pk}


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")
    CARD = "card", _("Card")
    DEPOSIT = "deposit", _("Deposit")
    OTHER = "other", _("Other")
    # Paid online through a gateway (wispbill.payments.gateways); reference = its payment id.
    MERCADOPAGO = "mercadopago", _("Mercado Pago")
    STRIPE = "stripe", _("Stripe")


class PaymentStatus(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("payment", "Applied")
    VOIDED = "voided", pgettext_lazy("payment", "Voided")
    # A gateway's refund or chargeback took the money back.
    REVERSED = "reversed", pgettext_lazy("payment", "Reversed")


class Payment(models.Model):
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CASH
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
    # Who registered it, for the rule "your own payment, today" (a name can be reused).
    registered_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.APPLIED
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    # The ISP's day of the void: the cash report takes the money back on it.
    voided_on = models.DateField(null=True, blank=True)
    void_reason = models.CharField(_("reason for the void"), max_length=300, blank=True)
    voided_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-paid_on", "-received_at", "-id"]
        verbose_name = _("payment")
        indexes = [
            models.Index(fields=["paid_on", "actor_name"], name="payment_paid_on"),
            models.Index(
                fields=["voided_on"],
                condition=models.Q(voided_on__isnull=False),
                name="payment_voided_on",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
            # A gateway's payment id pays once, whoever delivers its notification again.
            models.UniqueConstraint(
                fields=["method", "reference"],
                condition=models.Q(method__in=["mercadopago", "stripe"]),
                name="payment_gateway_once",
            ),
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


class PaymentKey(models.Model):
    """The key of a payment request that may arrive twice (the API's `Idempotency-Key`
    header, the panel form's one-time token): the payment it made and the answer it got, so
    a repeat gets that answer instead of a second payment. One per user and key, held by the
    database; kept 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # A hash of what the request asked for: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="+")
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="payment_key_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
