"""CSD-shaped certificates made here with `cryptography`, for the tests and the benchmark: SAT's
public test certificates bundled with satcfdi expired in 2023. Valid around now, the RFC where
SAT puts it (the subject's x500UniqueIdentifier), the key as SAT's .key (PKCS#8 DER encrypted
with the password)."""

import binascii
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone

COMPANY_RFC = "EKU9003173C9"
PASSWORD = "12345678a"


@dataclass
class Csd:
    certificate: bytes
    key: bytes
    password: str


def make_csd(
    *,
    rfc: str = COMPANY_RFC,
    password: str = PASSWORD,
    days_from: int = -30,
    days_to: int = 365 * 4,
    unit: str = "Matriz",
    serial: bytes = b"30001000000500003416",
) -> Csd:
    """A CSD-shaped certificate and key, valid from `days_from` to `days_to` around now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "ESCUELA KEMPER URGATE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ESCUELA KEMPER URGATE"),
            x509.NameAttribute(x509.ObjectIdentifier("2.5.4.45"), f"{rfc} / VADA800927DJ3"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, " / VADA800927HSRSRL05"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        ]
    )
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AC UAT")]))
        .public_key(key.public_key())
        .serial_number(int(binascii.hexlify(serial), 16))
        .not_valid_before(now + timedelta(days=days_from))
        .not_valid_after(now + timedelta(days=days_to))
        .sign(key, hashes.SHA256())
    )
    return Csd(
        certificate.public_bytes(serialization.Encoding.DER),
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        ),
        password,
    )
