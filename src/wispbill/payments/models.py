"""Bank statements and their lines: money that came into the ISP's account, matched to the
client whose payment reference it carries, or kept for a person to assign."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wispbill.billing.models import PaymentMethod


class StatementFormat(models.TextChoices):
    GENERIC = "generic", _("Generic CSV")
    BBVA = "bbva", _("BBVA México: account movements")


class BankLineStatus(models.TextChoices):
    UNMATCHED = "unmatched", _("Not matched")
    APPLIED = "applied", _("Applied")


class UnmatchedReason(models.TextChoices):
    NO_REFERENCE = "no_reference", _("It carries no payment reference.")
    UNKNOWN_REFERENCE = "unknown_reference", _("No client has the reference it carries.")
    WRONG_CHECK_DIGIT = (
        "wrong_check_digit",
        _("It carries a 7-digit number whose check digit is wrong (a typo?)."),
    )
    AMBIGUOUS = "ambiguous", _("It carries the references of more than one client.")
    NO_CLIENT = "no_client", _("The online payment names no client of this ISP.")


class BankStatement(models.Model):
    """One imported file."""

    format = models.CharField(_("format"), max_length=10, choices=StatementFormat.choices)
    filename = models.CharField(_("file"), max_length=200)
    imported_at = models.DateTimeField(_("imported at"))
    actor_name = models.CharField(max_length=150)
    lines = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("bank statement")

    def __str__(self) -> str:
        return self.filename


class BankLine(models.Model):
    """Money in, as the bank wrote it. The same date, amount, reference and tracking key is
    the same transfer, whichever file brings it again: the database keeps it once."""

    statement = models.ForeignKey(
        BankStatement, on_delete=models.PROTECT, related_name="bank_lines", null=True
    )
    line = models.PositiveIntegerField(_("line"))  # in its file, the header being line 1
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    tracking_key = models.CharField(_("tracking key"), max_length=50, blank=True)
    # How the money came: a transfer, or an online payment that named no client.
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=BankLineStatus.choices,
        default=BankLineStatus.UNMATCHED,
    )
    reason = models.CharField(max_length=20, choices=UnmatchedReason.choices, blank=True)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, null=True, related_name="bank_lines"
    )
    payment = models.OneToOneField(
        "billing.Payment", on_delete=models.PROTECT, null=True, related_name="bank_line"
    )
    applied_at = models.DateTimeField(null=True)
    applied_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("bank line")
        indexes = [models.Index(fields=["status", "date"], name="bank_line_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "amount", "reference", "tracking_key"], name="bank_line_once"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="bank_line_positive"),
            models.CheckConstraint(
                condition=models.Q(status=BankLineStatus.UNMATCHED)
                | models.Q(client__isnull=False, payment__isnull=False),
                name="bank_line_applied_has_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} {self.reference}"


class Provider(models.TextChoices):
    """The online gateways; each value is also the payment method its payments carry."""

    MERCADOPAGO = PaymentMethod.MERCADOPAGO.value, _("Mercado Pago")
    STRIPE = PaymentMethod.STRIPE.value, _("Stripe")


class GatewayPaymentStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    APPLIED = "applied", _("Applied")
    UNMATCHED = "unmatched", _("Names no client")
    REVERSED = "reversed", _("Reversed")


class GatewayPayment(models.Model):
    """One payment of a gateway, as wispbill has seen it. Unique per gateway id, so however
    often, in parallel or out of order its notifications come, it pays at most once, and a
    refund seen first keeps it from ever paying."""

    provider = models.CharField(_("gateway"), max_length=20, choices=Provider.choices)
    gateway_id = models.CharField(_("gateway's payment id"), max_length=100)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=GatewayPaymentStatus.choices,
        default=GatewayPaymentStatus.RECEIVED,
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, null=True, related_name="gateway_payments"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, null=True)
    paid_on = models.DateField(_("payment date"), null=True)
    payment = models.OneToOneField(
        "billing.Payment", on_delete=models.PROTECT, null=True, related_name="gateway_payment"
    )
    bank_line = models.OneToOneField(
        BankLine, on_delete=models.SET_NULL, null=True, related_name="gateway_payment"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("online payment")
        constraints = [
            models.UniqueConstraint(fields=["provider", "gateway_id"], name="gateway_payment_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.gateway_id}"


class GatewayNotification(models.Model):
    """A verified webhook the queue has not acted on yet. The webhook only writes this row and
    answers; a drain takes every ready row at once (claimed until `claimed_until`, so two
    workers never take the same), reads back what it must, and applies the batch's payments
    in one go. A read-back that failed leaves its row for a later try (`due_at`)."""

    provider = models.CharField(max_length=20, choices=Provider.choices)
    # Mercado Pago: the payment to read back; Stripe: the payment intent the event is about.
    gateway_id = models.CharField(max_length=100)
    event = models.JSONField(null=True)  # Stripe's signed event, as it came
    received_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()  # not taken before (a retry's back-off)
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Tried too often: kept, untaken, for a person to look at in the gateway's dashboard.
    given_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["given_up", "due_at"], name="gateway_notification_due")]

    def __str__(self) -> str:
        return f"{self.provider} {self.gateway_id}"
