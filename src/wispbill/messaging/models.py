from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wispbill.core.formatting import translated


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WHATSAPP = "whatsapp", _("WhatsApp")


class Kind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    REMINDER = "reminder", _("Payment reminder")
    # The cuts task's message: the service suspended, or its speed reduced.
    CUT = "cut", _("Cut notice")
    RECEIPT = "receipt", _("Payment receipt")
    # A CFDI stamped after its invoice's or receipt's message left without it.
    CFDI = "cfdi", _("Electronic invoice (CFDI)")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not sent")


class Message(models.Model):
    """One message to one client over one channel, about one invoice or one payment: the
    outbox row that is sent, retried, and never created twice."""

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("client"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The address it goes to as it was when queued: an e-mail, or a phone in E.164.
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    # The WhatsApp template's body parameters, in the client's language.
    params = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=5)
    status = models.CharField(
        _("status"), max_length=6, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Our own reasons are kept untranslated with their values (read them with error_text);
    # a mail server's or WhatsApp's answer as it came.
    last_error = models.TextField(_("last error"), blank=True)
    error_args = models.JSONField(default=dict, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Set by the sender that claimed the row; only that sender records the outcome.
    claim = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["client", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invoice__isnull=False, payment__isnull=True)
                | models.Q(invoice__isnull=True, payment__isnull=False),
                name="message_about_one_document",
            ),
            # Partial indexes: one message per key whatever runs twice or in parallel, with
            # NULL in the other column on every backend.
            models.UniqueConstraint(
                fields=["client", "kind", "channel", "invoice"],
                condition=models.Q(invoice__isnull=False),
                name="message_once_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["client", "kind", "channel", "payment"],
                condition=models.Q(payment__isnull=False),
                name="message_once_per_payment",
            ),
        ]

    # Not a column: how the operator reads it, for a list (selectors.message_outlooks).
    outlook: "Outlook | None" = None

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_channel_display()} · {self.client_id}"

    @property
    def error_text(self) -> str:
        """Why it failed, in the reader's language."""
        return translated(self.last_error, self.error_args)


@dataclass(frozen=True)
class Outlook:
    """A message as the operator reads it: sent (when), waiting (until when, and why) or not
    sent (why), in the reader's language."""

    status: str
    label: str
    at: datetime | None = None
    why: str = ""


@dataclass(frozen=True)
class Problem:
    """Why a message cannot go, kept untranslated (`gettext_noop`) with its values so each
    reader of the outbox sees it in their own language."""

    text: str
    args: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return translated(self.text, self.args)

    def fields(self) -> dict:
        """The outbox columns that record it."""
        return {"last_error": self.text, "error_args": self.args}


class OptOut(models.Model):
    """A client that asked not to receive messages over a channel."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "channel"], name="opt_out_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.channel}"
