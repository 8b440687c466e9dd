"""Where a router may be. Its host and port are where wispbill sends the router's username and
password, so they must name a device on the ISP's network: not this server (whose Redis,
PostgreSQL or mail server would read the login as commands), not a cloud's metadata service
(169.254.169.254), not nobody or everybody. An administrator may allow a router on this
server or on a link-local address (the RouterOS emulator of the demo), router by router."""

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from wispbill.core.wire import has_control

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# Ports of services that may run on this server or beside it and read lines: never a router's
# API. With the ports of this installation's own Redis, database and mail server (below).
SERVICE_PORTS: dict[int, StrOrPromise] = {
    25: "SMTP",
    465: "SMTP",
    587: "SMTP",
    5432: "PostgreSQL",
    6379: "Redis",
    80: "HTTP",
    443: "HTTPS",
    8000: _("wispbill panel"),
}
# A CoA goes over UDP: with the ports above, the UDP services of this server or beside it,
# FreeRADIUS's own among them (a CoA sent to its auth port would be read as a login).
UDP_SERVICE_PORTS: dict[int, StrOrPromise] = {
    53: "DNS",
    123: "NTP",
    161: "SNMP",
    514: "syslog",
    1812: "RADIUS",
    1813: _("RADIUS accounting"),
}


def service_ports() -> dict[int, StrOrPromise]:
    """The ports no router may be reached on, and what listens there."""
    ports = dict(SERVICE_PORTS)
    ports[settings.NOTICE_PORT] = _("wispbill notice page")
    for url, name in (
        (settings.HUEY.get("url"), "Redis"),
        (settings.WISPBILL_EMAIL_URL, "SMTP"),
    ):
        try:
            port = urlsplit(url or "").port
        except ValueError:
            port = None
        if port:
            ports.setdefault(port, name)
    database_port = str(settings.DATABASES["default"].get("PORT") or "")
    if database_port.isdigit():
        ports.setdefault(int(database_port), _("database"))
    return ports


def parse_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | str:
    """The router's host as an address, or as a lowercase host name; ValidationError when it
    is neither (or an address written in one of the old forms, 127.1 or 0x7f000001, that
    the resolver still reads as an address)."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    name = text.rstrip(".").lower()
    labels = name.split(".")
    if (
        not name
        or has_control(host)
        or len(name) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
        or _legacy_address(name)
    ):
        raise ValidationError(
            _("Write a host name (router.example.net) or an IP address (10.0.0.1)."),
            code="invalid_host",
        )
    return name


def _legacy_address(name: str) -> bool:
    try:
        socket.inet_aton(name)
    except OSError:
        return False
    return True


def address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """Why no router can be at `address` without an administrator's leave, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return _("it is this server itself (a loopback address)")
    if address.is_link_local:
        return _(
            "it is a link-local address (169.254.x.x or fe80::), where cloud servers answer "
            "with their secrets"
        )
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("0.0.0.0/8")
    ):
        return _("it means no machine in particular")
    if address.is_multicast:
        return _("it is a multicast address")
    if address == ipaddress.IPv4Address("255.255.255.255") or address.is_reserved:
        return _("it is a broadcast or reserved address")
    return None


PORT_REFUSAL = _(
    "Port %(port)s is the %(service)s port, not a router's API. Only an administrator can allow it."
)
COA_PORT_REFUSAL = _(
    "Port %(port)s is the %(service)s port, not a router's CoA port. Only an administrator "
    "can allow it."
)


def _refusal(host: str, why) -> ValidationError:
    return ValidationError(
        _(
            "%(host)s cannot be a router's host: %(why)s. Only an administrator can allow it "
            "(“Allow a host on this server or a local-only address”)."
        ),
        code="host_not_allowed",
        params={"host": host, "why": why},
    )


def host_errors(
    host: str, port: int | None, *, allow_local: bool, coa_port: int | None = None
) -> dict[str, list]:
    """The errors, by field, of a router at `host`:`port` (and taking CoAs at `coa_port`, for
    a RADIUS router); empty when it may be there."""
    if not host or has_control(host):
        return {}  # the field's own validator says what is wrong with control characters
    try:
        parsed = parse_host(host)
    except ValidationError as exc:
        return {"host": exc.error_list}
    if allow_local:
        return {}
    errors: dict[str, list] = {}
    if isinstance(parsed, str):
        if parsed in LOCAL_NAMES or parsed.endswith(".localhost"):
            errors["host"] = [_refusal(host, _("it is this server itself"))]
    elif why := address_problem(parsed):
        errors["host"] = [_refusal(host, why)]
    tcp = service_ports()
    checks = (
        ("api_port", port, tcp, PORT_REFUSAL),
        ("coa_port", coa_port, tcp | UDP_SERVICE_PORTS, COA_PORT_REFUSAL),
    )
    for field, number, services, message in checks:
        if number and (service := services.get(number)):
            errors[field] = [
                ValidationError(
                    message,
                    code="port_not_allowed",
                    params={"port": number, "service": service},
                )
            ]
    return errors


def resolve_for_router(host: str, port: int, *, allow_local: bool, coa: bool = False) -> str:
    """The address to connect to for a router's host, checked after the name is resolved (a
    name may point at 127.0.0.1); `coa`: `port` is its CoA port. Raises ValueError, without
    saying what was found."""
    ports = {"port": None, "coa_port": port} if coa else {"port": port}
    if not host or has_control(host) or host_errors(host, allow_local=allow_local, **ports):
        raise ValueError("the router's host or port is not allowed")
    parsed = parse_host(host)
    if not isinstance(parsed, str):
        return str(parsed)
    try:
        infos = socket.getaddrinfo(parsed, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ValueError("the router's host name does not resolve") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not allow_local and any(address_problem(a) for a in addresses):
        raise ValueError("the router's host name resolves to an address that is not allowed")
    return str(addresses[0])
