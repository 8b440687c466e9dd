"""The firewall and NAT rules a router needs so that the lists do something: cut clients
reach only DNS and the notice page, and the web traffic of listed clients goes to the
notice page. Each rule is tagged with a fingerprint of its fields, so installing is
idempotent and a changed rule is replaced."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.core.models import CompanySettings
from wispbill.network.drivers import driver_for
from wispbill.network.drivers.base import Rule
from wispbill.network.reconcile import PREFIX
from wispbill.staff.permissions import MANAGE_ROUTERS, require_permission_of_person

TAG = f"{PREFIX}baseline:"


def desired_rules(router, *, notice_host: str, notice_port: int) -> list[Rule]:
    cut, notice = router.cut_list, router.notice_list
    specs = [
        (
            "filter",
            "cut-allow-dns-udp",
            {
                "chain": "forward",
                "src-address-list": cut,
                "protocol": "udp",
                "dst-port": "53",
                "action": "accept",
            },
        ),
        (
            "filter",
            "cut-allow-dns-tcp",
            {
                "chain": "forward",
                "src-address-list": cut,
                "protocol": "tcp",
                "dst-port": "53",
                "action": "accept",
            },
        ),
        (
            "filter",
            "cut-allow-notice",
            {
                "chain": "forward",
                "src-address-list": cut,
                "dst-address": notice_host,
                "protocol": "tcp",
                "dst-port": str(notice_port),
                "action": "accept",
            },
        ),
        ("filter", "cut-drop", {"chain": "forward", "src-address-list": cut, "action": "drop"}),
        (
            "nat",
            "cut-to-notice",
            {
                "chain": "dstnat",
                "src-address-list": cut,
                "protocol": "tcp",
                "dst-port": "80",
                "action": "dst-nat",
                "to-addresses": notice_host,
                "to-ports": str(notice_port),
            },
        ),
        (
            "nat",
            "notice-to-notice",
            {
                "chain": "dstnat",
                "src-address-list": notice,
                "protocol": "tcp",
                "dst-port": "80",
                "action": "dst-nat",
                "to-addresses": notice_host,
                "to-ports": str(notice_port),
            },
        ),
    ]
    rules = []
    for table, name, fields in specs:
        items = tuple(fields.items())
        digest = hashlib.sha256(repr((table, items)).encode()).hexdigest()[:8]
        rules.append(Rule(table=table, tag=f"{TAG}{name}:{digest}", fields=items))
    return rules


@dataclass
class BaselinePlan:
    add: list[Rule]
    remove: list[tuple[str, str, str]]  # (table, .id, tag)
    keep: list[str]

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove


def notice_address() -> str:
    """The address at which the routers reach the notice page: WISPBILL_NOTICE_HOST when it
    is set (the machine's override), else the company setting an admin edits in the panel."""
    return settings.NOTICE_HOST or CompanySettings.load().notice_host


def baseline_plan(
    router, *, notice_host: str | None = None, notice_port: int | None = None, actor=None
) -> BaselinePlan:
    """What installing the rules would change on this router (it connects to read them, so
    a person needs the routers' permission, as to install them)."""
    require_permission_of_person(actor, MANAGE_ROUTERS)
    notice_host = notice_host or notice_address()
    notice_port = notice_port or settings.NOTICE_PORT
    if not notice_host:
        raise ValidationError(
            _(
                "Set the notice page address in Company settings (or WISPBILL_NOTICE_HOST): "
                "the IP address at which the routers reach wispbill's notice page."
            )
        )
    wanted = desired_rules(router, notice_host=notice_host, notice_port=notice_port)
    with driver_for(router) as driver:
        present = [rule for rule in driver.read_rules() if rule[2].startswith(TAG)]
    add, remove, keep = [], [], []
    for table in ("filter", "nat"):
        theirs = [rule for rule in present if rule[0] == table]
        ours = [rule for rule in wanted if rule.table == table]
        if {tag for _t, _i, tag in theirs} == {rule.tag for rule in ours}:
            keep += [rule.tag for rule in ours]
            continue
        # Order matters in a chain: a table that changes is written again whole.
        remove += theirs
        add += ours
    return BaselinePlan(add=add, remove=remove, keep=sorted(keep))


def baseline_install(router, plan: BaselinePlan, *, actor=None) -> None:
    """Apply a plan: obsolete rules out, missing rules in (in order: accepts before the drop).
    A person needs the routers' permission (the CLI is the machine's owner, actor None)."""
    require_permission_of_person(actor, MANAGE_ROUTERS)

    with driver_for(router) as driver:
        for table in ("filter", "nat"):
            driver.remove_rules(table, [i for t, i, _tag in plan.remove if t == table])
        driver.add_rules(plan.add)
    audit_record(
        actor=actor,
        action=AuditAction.RULES_INSTALLED,
        obj=router,
        changes={
            "added": [None, [rule.tag for rule in plan.add]],
            "removed": [[tag for _t, _i, tag in plan.remove], None],
        },
    )
