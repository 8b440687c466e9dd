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


def lookup_queries(username: str, router: str) -> tuple[str, str]:
    """What FreeRADIUS reads for a login (rlm_sql's check and reply rows: id, username,
    attribute, value, op), given SQL expressions for the username and the router's id. The
    reply is one pass over the view for its three attributes (a UNION of three would join
    the view's five tables three times)."""
    where = f"u.username = {username} AND u.router_id = {router}"
    check = (
        "SELECT CAST(u.id AS BIGINT), CAST(u.username AS TEXT), "
        "CAST('Cleartext-Password' AS TEXT), CAST(u.password AS TEXT), CAST(':=' AS TEXT) "
        f"FROM radius_user u WHERE {where}"
    )
    reply = (
        "SELECT CAST(u.id AS BIGINT), CAST(u.username AS TEXT), CAST(a.attribute AS TEXT), "
        "CAST(CASE a.n WHEN 1 THEN u.ip WHEN 2 THEN u.rate_limit ELSE u.address_list END "
        "AS TEXT), CAST('=' AS TEXT) FROM radius_user u CROSS JOIN ("
        "SELECT 1 AS n, 'Framed-IP-Address' AS attribute "
        "UNION ALL SELECT 2, 'Mikrotik-Rate-Limit' "
        "UNION ALL SELECT 3, 'Mikrotik-Address-List') a "
        f"WHERE {where} AND (a.n = 2 "
        "OR (a.n = 1 AND u.ip IS NOT NULL) OR (a.n = 3 AND u.address_list <> ''))"
    )
    return check, reply


# On PostgreSQL the two lookups are functions: planning the view's five-table join took
# 1.6 ms a login against 0.13 ms to run it, and rlm_sql sends plain text, never a prepared
# statement; PL/pgSQL keeps the plan for as long as FreeRADIUS keeps its connection.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION radius_{name}(p_username TEXT, p_router BIGINT)
RETURNS TABLE (r_id BIGINT, r_username TEXT, r_attribute TEXT, r_value TEXT, r_op TEXT)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY {query};
END
$$
"""


def functions_sql() -> list[str]:
    check, reply = lookup_queries("p_username", "p_router")
    return [
        FUNCTIONS.format(name=name, query=query)
        for name, query in (("check", check), ("reply", reply))
    ]


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
            if connection.vendor == "postgresql":
                for function in functions_sql():
                    cursor.execute(function)
    except DatabaseError:
        if not connection.get_autocommit():
            raise
