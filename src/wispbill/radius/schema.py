"""The `radius_user` view: one row per PPPoE client of a RADIUS router that may log in, with
what FreeRADIUS answers (wispbill.radius.freeradius queries it). A view over the clients,
plans, zones and routers themselves, so a cut, a plan change or a notice is in the next
answer without any write of its own; the password alone comes from `radius_credential`, and
only while it matches the client's current one.

Who may log in: not a cancelled client, nor a suspended one on a router that rejects them.
Speed: the plan's (`{upload}k/{download}k`), or for a throttled client its reduced speed (the
client's own with own billing, else its zone's), never above the plan's. Address list: the
cut list for a suspended client, the notice list for one with service and a notice it has not
dismissed (the daily run clears a dismissal), else none.

The view is dropped before every `migrate` and made again after it: a view over their tables
would stop the other apps' migrations from changing a column (PostgreSQL refuses to, SQLite
fails to rebuild the table).
"""

from typing import Any

from django.db import DatabaseError, connections

NAME = "radius_user"
_THROTTLE = "COALESCE(CASE WHEN c.billing_type = 'own' THEN c.throttle_kbps END, z.throttle_kbps)"
_SPEED = (
    "CAST(CASE WHEN c.state = 'throttled' AND {t} < p.{column} THEN {t} "
    "ELSE p.{column} END AS TEXT)"
)
VIEW = """
CREATE VIEW radius_user AS
SELECT c.id AS id, z.router_id AS router_id, k.username AS username, k.password AS password,
  {ip} AS ip,
  {upload} || 'k/' || {download} || 'k' AS rate_limit,
  CASE WHEN c.state = 'suspended' THEN r.cut_list
       WHEN c.notice_active AND c.notice_dismissed_on IS NULL
            AND c.state IN ('active', 'throttled') THEN r.notice_list
       ELSE '' END AS address_list
FROM clients_client c
JOIN radius_credential k ON k.client_id = c.id
  AND k.login = c.pppoe_username AND k.source = c.pppoe_password_encrypted
JOIN network_zone z ON z.id = c.zone_id
JOIN network_router r ON r.id = z.router_id
JOIN clients_plan p ON p.id = c.plan_id
WHERE r.aaa = 'radius' AND c.access = 'pppoe' AND c.state <> 'cancelled'
  AND NOT (c.state = 'suspended' AND r.radius_cut = 'reject')
"""


def view_sql(vendor: str) -> str:
    return VIEW.format(
        ip="host(c.ip)" if vendor == "postgresql" else "c.ip",
        upload=_SPEED.format(t=_THROTTLE, column="upload_kbps"),
        download=_SPEED.format(t=_THROTTLE, column="download_kbps"),
    )


def drop_view(*, using: str = "default", **kwargs: Any) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {NAME}")


def create_view(*, using: str = "default", **kwargs: Any) -> None:
    """Made after a full migrate; a partial one (to an older state) may lack its columns, and
    then there is no view until the next full migrate."""
    connection = connections[using]
    drop_view(using=using)
    try:
        with connection.cursor() as cursor:
            cursor.execute(view_sql(connection.vendor))
    except DatabaseError:
        if not connection.get_autocommit():
            raise
