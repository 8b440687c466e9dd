"""A router's API certificate pinned by its SHA-256 fingerprint: the driver talks only to that
certificate and never sends the password to another; without a pin it works as before."""

import pytest
from django.core.exceptions import ValidationError

from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.drivers import DriverError
from wispbill.network.drivers.mikrotik import MikrotikDriver
from wispbill.network.models import Router
from wispbill.network.tls import normalise_fingerprint


@pytest.fixture
def secure():
    router = RouterOSEmulator(username="wispbill", password="s3cret", tls=True).start()
    yield router
    router.stop()


@pytest.fixture
def tls_device(device, secure):
    device.api_port = secure.port
    device.use_tls = True
    return device


def _colons(fingerprint: str) -> str:
    return ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()


def test_the_pinned_certificate_is_talked_to(tls_device, secure):
    tls_device.tls_fingerprint = _colons(secure.tls_fingerprint)  # as openssl prints it
    with MikrotikDriver(tls_device) as driver:
        assert driver.health()["identity"] == "emulated-router"
    assert secure.logins == 1


def test_another_certificate_is_refused_before_the_password_is_sent(tls_device, secure):
    tls_device.tls_fingerprint = "ab" * 32
    with pytest.raises(DriverError, match="is not the pinned one") as refused:
        MikrotikDriver(tls_device).__enter__()
    assert secure.tls_fingerprint in str(refused.value)  # so the operator can check it
    assert secure.connections == 1 and secure.logins == 0
    # The router keeps serving: the refused client did not break its accept loop.
    tls_device.tls_fingerprint = secure.tls_fingerprint
    with MikrotikDriver(tls_device) as driver:
        assert driver.read_owned(("Moroso",)) == []


def test_without_a_pin_tls_works_as_before(tls_device, secure):
    tls_device.tls_fingerprint = ""
    with MikrotikDriver(tls_device) as driver:
        assert driver.health()["identity"] == "emulated-router"


def test_a_pin_without_tls_is_refused_without_connecting(device, emulator):
    device.tls_fingerprint = "ab" * 32
    with pytest.raises(DriverError, match="needs TLS"):
        MikrotikDriver(device).__enter__()
    assert emulator.connections == 0


@pytest.mark.django_db
def test_the_fingerprint_is_stored_normalised_and_garbage_is_refused(secure):
    router = Router(name="torre", host="10.0.0.1", username="api", use_tls=True)
    router.tls_fingerprint = _colons(secure.tls_fingerprint)
    router.full_clean(exclude=["password_encrypted"])
    router.save()
    router.refresh_from_db()
    assert router.tls_fingerprint == secure.tls_fingerprint
    router.tls_fingerprint = "not-a-fingerprint"
    with pytest.raises(ValidationError) as invalid:
        router.full_clean(exclude=["password_encrypted"])
    assert "tls_fingerprint" in invalid.value.message_dict
    router.tls_fingerprint = ""
    router.full_clean(exclude=["password_encrypted"])


@pytest.mark.parametrize("bad", ["ab" * 31, "ab" * 33, "zz" * 32, "sha256:" + "ab" * 32])
def test_only_a_sha256_in_hex_is_a_fingerprint(bad):
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        normalise_fingerprint(bad)
    assert normalise_fingerprint("AB:" * 31 + "AB") == "ab" * 32
