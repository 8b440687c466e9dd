"""The global CFDI to the public in general: what clients without an RFC paid in the last
period that ended, once, checked against SAT's schema with its seal verified; and the periods
of each periodicity."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from satcfdi.cfdi import CFDI

from tests.cfdi.conftest import SEPT_6, verify_seal
from tests.factories import ClientFactory
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.globals import last_period
from wispbill.cfdi.models import CfdiDocument, CfdiKind


@pytest.mark.parametrize(
    "periodicity, day, period",
    [
        ("01", date(2028, 3, 1), (date(2028, 2, 29), date(2028, 2, 29))),
        ("02", date(2026, 9, 7), (date(2026, 8, 31), date(2026, 9, 6))),  # a Monday
        ("02", date(2026, 9, 6), (date(2026, 8, 24), date(2026, 8, 30))),  # a Sunday
        ("04", date(2026, 1, 31), (date(2025, 12, 1), date(2025, 12, 31))),
        ("04", date(2028, 3, 1), (date(2028, 2, 1), date(2028, 2, 29))),
        ("05", date(2026, 2, 28), (date(2025, 11, 1), date(2025, 12, 31))),
        ("05", date(2026, 3, 1), (date(2026, 1, 1), date(2026, 2, 28))),
    ],
)
def test_the_last_period_that_ended_before_a_day(periodicity, day, period):
    assert last_period(periodicity, day) == period


def _global(day: str) -> dict:
    out = io.StringIO()
    call_command("cfdi-global", "--date", day, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_the_global_cfdi_covers_what_clients_without_rfc_paid_in_the_month_once(pac, ready):
    admin, with_rfc, invoice = ready
    public = ClientFactory(zone=with_rfc.zone, plan=with_rfc.plan)
    other = ClientFactory(zone=with_rfc.zone, plan=with_rfc.plan)
    august = [
        payment_register(actor=admin, client=public, amount=Decimal("399.00"), paid_on=day)
        for day in (date(2026, 8, 1), date(2026, 8, 31))
    ]
    august.append(
        payment_register(
            actor=admin, client=other, amount=Decimal("250.50"), paid_on=date(2026, 8, 15),
            method="transfer",
        )
    )  # fmt: skip
    payment_register(actor=admin, client=public, amount=Decimal("10.00"), paid_on=date(2026, 9, 1))
    payment_register(actor=admin, client=with_rfc, amount=Decimal("5.00"), paid_on=date(2026, 8, 2))
    answer = _global("2026-09-06")
    assert answer["created"] and answer["stamped"] == 1
    assert (answer["period_start"], answer["period_end"]) == ("2026-08-01", "2026-08-31")
    document = CfdiDocument.objects.get(kind=CfdiKind.GLOBAL)
    assert sorted(document.payments.values_list("id", flat=True)) == [p.pk for p in august]
    cfdi = CFDI.from_string(document.xml.encode())
    cfdi.to_xml(validate=True)  # SAT's schema
    assert verify_seal(cfdi)
    assert cfdi["Receptor"]["Rfc"] == "XAXX010101000"
    assert cfdi["Receptor"]["Nombre"] == "PUBLICO EN GENERAL"
    assert cfdi["Receptor"]["RegimenFiscalReceptor"] == "616"
    assert dict(cfdi["InformacionGlobal"]) == {"Periodicidad": "04", "Meses": "08", "Año": 2026}
    assert cfdi["Total"] == Decimal("1048.50") == document.total
    assert (cfdi["MetodoPago"], cfdi["FormaPago"]) == ("PUE", "01")
    assert len(cfdi["Conceptos"]) == 3
    assert cfdi["SubTotal"] + cfdi["Impuestos"]["TotalImpuestosTrasladados"] == cfdi["Total"]
    # Once: a second call, and the next days of the month, create nothing.
    again = _global("2026-09-07")
    assert not again["created"] and CfdiDocument.objects.filter(kind=CfdiKind.GLOBAL).count() == 1
    assert pac.stamp_calls == 1


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_no_payments_no_global_and_a_bad_date_is_refused(ready):
    assert _global("2026-09-06")["created"] is False
    with pytest.raises(CommandError, match="06/09/2026"):
        call_command("cfdi-global", "--date", "06/09/2026")
    assert not CfdiDocument.objects.exists()
    out = io.StringIO()
    call_command("stamp-cfdi", stdout=out)
    assert json.loads(out.getvalue()) == {"stamped": 0, "failed": 0}
