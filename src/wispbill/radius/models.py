"""What FreeRADIUS reads that the database cannot work out alone.

A PPPoE password is kept encrypted with a key only wispbill holds, and PAP and CHAP both need
it in clear on the RADIUS server (CHAP hashes it with the router's challenge). So each PPPoE
client of a RADIUS router has a `Credential`: its password in clear and its username as
FreeRADIUS's SQL module will ask for it, written with the client in the same transaction.
Everything else (state, plan, speeds, lists) FreeRADIUS reads live through the `radius_user`
view (migration 0001), so a cut or a plan change needs no second write.
"""

from django.db import models


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
