"""What FreeRADIUS reads that the database cannot work out alone.

A PPPoE password is kept encrypted with a key only wispbill holds, and PAP and CHAP both need
it in clear on the RADIUS server (CHAP hashes it with the router's challenge). So each PPPoE
client of a RADIUS router has a `Credential`: its password in clear and its username as
FreeRADIUS's SQL module will ask for it, written with the client in the same transaction.
Everything else (state, plan, speeds, lists) FreeRADIUS reads live through the `radius_user`
view (migration 0001), so a cut or a plan change needs no second write.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CoaResult(models.TextChoices):
    """How a client's router took the last change sent to its session."""

    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    DISCONNECTED = "disconnected", _("disconnected, to log in again")
    NO_ANSWER = "no_answer", _("no answer, to be tried again")


class Credential(models.Model):
    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # The username as typed, and as rlm_sql escapes what a router sends (see `sql_escape`).
    login = models.CharField(max_length=64)
    username = models.TextField()
    password = models.TextField()
    # The encrypted password this was made from: the view serves a credential only while it
    # matches the client's own, so a stale one can never let an old password in.
    source = models.TextField()

    class Meta:
        db_table = "radius_credential"
        indexes = [models.Index(fields=["username"], name="radius_credential_username")]

    def __str__(self) -> str:
        return self.login


class Sent(models.Model):
    """What a RADIUS client's session was last given (by its login or a CoA): the next sweep
    compares it with what the client should have now, and sends its router the difference."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    router_id = models.IntegerField()
    login = models.CharField(max_length=64)
    allowed = models.BooleanField()
    ip = models.CharField(max_length=45, blank=True)
    rate_limit = models.CharField(max_length=40, blank=True)
    address_list = models.CharField(max_length=63, blank=True)
    # The last CoA or Disconnect sent for the client, and what came of it.
    coa_at = models.DateTimeField(null=True, blank=True)
    coa_result = models.CharField(max_length=12, choices=CoaResult.choices, blank=True)

    class Meta:
        db_table = "radius_sent"

    def __str__(self) -> str:
        return self.login


class Session(models.Model):
    """A PPPoE session as its router accounts for it (Start, Interim-Update, Stop), written by
    FreeRADIUS itself (`wispbill.radius.freeradius`, accounting queries)."""

    client = models.ForeignKey(
        "clients.Client", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # No index of its own: the unique (router, session_id) one serves lookups by router, and
    # with the two PostgreSQL took the router's alone for an Interim-Update when its
    # statistics were of an empty table, reading every session of the router per update.
    router = models.ForeignKey(
        "network.Router", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # As rlm_sql escaped it (the same as typed for letters, digits and `@.-_: /`).
    username = models.CharField(max_length=255)
    ip = models.CharField(max_length=45, blank=True, null=True)
    session_id = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    input_bytes = models.BigIntegerField(default=0)
    output_bytes = models.BigIntegerField(default=0)

    class Meta:
        db_table = "radius_session"
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["router", "session_id"], name="radius_session_unique_per_router"
            )
        ]
        indexes = [
            models.Index(
                fields=["router", "started_at"],
                condition=models.Q(stopped_at__isnull=True),
                name="radius_session_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.session_id}"
