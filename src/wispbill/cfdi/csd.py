"""The company's CSD (certificado de sello digital): checked once when an admin uploads it
(the key opens with its password and belongs to the certificate, the certificate is valid now
and is the company's RFC's), then kept with the key and password encrypted (core.secrets)."""

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.core.db import locked
from wispbill.core.formatting import short_date
from wispbill.core.models import CompanySettings
from wispbill.core.secrets import decrypt, encrypt
from wispbill.staff.permissions import require_admin

# A CSD's certificate and key are 1-2 KB each: anything much larger is not one.
MAX_BYTES = 32 * 1024
# SAT writes the RFC in the subject's x500UniqueIdentifier ("RFC / RFC of the representative").
UNIQUE_IDENTIFIER = x509.ObjectIdentifier("2.5.4.45")


@dataclass(frozen=True)
class CsdInfo:
    serial: str  # SAT's certificate number (20 digits)
    rfc: str
    valid_from: datetime
    valid_until: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "serial": self.serial,
            "rfc": self.rfc,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
        }


def certificate_number(certificate: x509.Certificate) -> str:
    """SAT's certificate number: the serial's bytes read as ASCII digits."""
    return f"{certificate.serial_number:x}"[1::2]


def certificate_rfc(certificate: x509.Certificate) -> str:
    values = certificate.subject.get_attributes_for_oid(UNIQUE_IDENTIFIER)
    return str(values[0].value).split("/")[0].strip().upper() if values else ""


def csd_check(*, certificate: bytes, private_key: bytes, password: str, rfc: str) -> CsdInfo:
    """The CSD's facts, or a ValidationError (by field) saying what is wrong with it."""
    for field, data in (("certificate", certificate), ("private_key", private_key)):
        if not data or len(data) > MAX_BYTES:
            raise ValidationError(
                {field: [_("Upload the CSD's file as SAT gave it (at most 32 KB).")]}
            )
    try:
        cert = x509.load_der_x509_certificate(certificate)
    except ValueError:
        raise ValidationError(
            {"certificate": [_("This is not a certificate (.cer) as SAT gives it (DER).")]}
        ) from None
    try:
        key = serialization.load_der_private_key(private_key, password=password.encode())
    except (ValueError, TypeError):
        raise ValidationError(
            {
                "password": [
                    _("The key (.key) does not open with this password, or it is not a key.")
                ]
            }
        ) from None
    if key.public_key() != cert.public_key():
        raise ValidationError({"private_key": [_("This key belongs to another certificate.")]})
    now = timezone.now()
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ValidationError(
            {
                "certificate": [
                    _("The certificate is valid from %(start)s to %(end)s, not today.")
                    % {
                        "start": short_date(cert.not_valid_before_utc.date()),
                        "end": short_date(cert.not_valid_after_utc.date()),
                    }
                ]
            }
        )
    cert_rfc = certificate_rfc(cert)
    if not rfc:
        raise ValidationError({"rfc": [_("Set the company's RFC first.")]})
    if cert_rfc != rfc:
        raise ValidationError(
            {
                "certificate": [
                    _("The certificate is of RFC %(cert)s, not the company's (%(rfc)s).")
                    % {"cert": cert_rfc or "?", "rfc": rfc}
                ]
            }
        )
    return CsdInfo(
        certificate_number(cert), cert_rfc, cert.not_valid_before_utc, cert.not_valid_after_utc
    )


@transaction.atomic
def csd_install(
    *, actor: User | None, certificate: bytes, private_key: bytes, password: str
) -> CsdInfo:
    """Keep the company's CSD, checked; admins only. Nothing is kept when it is refused."""
    require_admin(actor)
    CompanySettings.load()
    company = locked(CompanySettings.objects).get(pk=1)
    info = csd_check(
        certificate=certificate, private_key=private_key, password=password, rfc=company.rfc
    )
    company.csd_certificate = base64.b64encode(certificate).decode()
    company.csd_key = encrypt(base64.b64encode(private_key).decode())
    company.csd_password = encrypt(password)
    company.csd_serial = info.serial
    company.csd_valid_until = info.valid_until
    company.save(
        update_fields=[
            "csd_certificate",
            "csd_key",
            "csd_password",
            "csd_serial",
            "csd_valid_until",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.COMPANY_CHANGED,
        obj=company,
        changes={"csd_serial": [None, info.serial]},
        reason=gettext_noop("CSD %(serial)s installed"),
        reason_args={"serial": info.serial},
    )
    return info


def company_csd(company: CompanySettings) -> tuple[bytes, bytes, str] | None:
    """The CSD kept (certificate, key, password), or None when none is (or the secret key
    changed since, so it cannot be read)."""
    if not company.csd_certificate:
        return None
    key, password = decrypt(company.csd_key), decrypt(company.csd_password)
    if not key:
        return None
    return base64.b64decode(company.csd_certificate), base64.b64decode(key), password
