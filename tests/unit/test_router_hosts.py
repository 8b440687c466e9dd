"""Where a router may be (issue 16): a device on the ISP's network, not this server, nobody,
everybody, the metadata service, or a port where this installation's services listen."""

import pytest

from wispbill.core.wire import has_control
from wispbill.network.hosts import host_errors, resolve_for_router

ROUTERS = ["10.0.0.1", "192.168.88.1", "172.16.4.1", "2001:db8::1", "router.example.net"]
NOT_ROUTERS = [
    "127.0.0.1",
    "127.31.4.1",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
    "169.254.169.254",
    "fe80::1",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "localhost",
    "LOCALHOST.",
    "db.localhost",
]
NOT_HOSTS = ["127.1", "0x7f000001", "2130706433", "a..b", "-a.net", "a b", "a_b.net", "é.net"]


@pytest.mark.parametrize("host", ROUTERS)
def test_devices_on_the_network_are_routers(host):
    assert host_errors(host, 8728, allow_local=False) == {}


@pytest.mark.parametrize("host", NOT_ROUTERS)
def test_this_server_and_no_single_device_are_refused_unless_allowed(host):
    assert set(host_errors(host, 8728, allow_local=False)) == {"host"}
    assert host_errors(host, 8728, allow_local=True) == {}
    with pytest.raises(ValueError):
        resolve_for_router(host, 8728, allow_local=False)


@pytest.mark.parametrize("host", NOT_HOSTS)
def test_what_is_not_a_host_is_refused_even_when_allowed(host):
    [error] = host_errors(host, 8728, allow_local=True)["host"]
    assert error.code == "invalid_host"


def test_the_ports_of_this_installations_services_are_refused(settings):
    settings.WISPBILL_EMAIL_URL = "smtp://u:p@mail.example:2525"
    for port in (25, 465, 587, 5432, 6379, 8000, settings.NOTICE_PORT, 2525):
        assert set(host_errors("10.0.0.1", port, allow_local=False)) == {"api_port"}, port
        assert host_errors("10.0.0.1", port, allow_local=True) == {}
    assert host_errors("10.0.0.1", 8729, allow_local=False) == {}


def test_control_characters_include_c1_del_and_unicode_line_separators():
    for text in ("a\rb", "a\nb", "a\x00", "\t", "a\x7f", "a\x85b", "a\u2028b"):
        assert has_control(text), repr(text)
    assert not has_control("Gómez Díaz · Torre Norte")
