"""A list of payments (a bank statement confirmed, payments_apply) queues its CFDI documents
once, from payments_registered: a PUE CFDI per invoice paid in full, or a PPD CFDI per invoice
and a complement per payment, in the same few queries for two payments or twenty."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cfdi.conftest import SEPT_6, _company, _good
from tests.factories import ClientFactory
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import PaymentRow, payments_apply
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus
from wispbill.cfdi.services import cfdi_stamp_due

pytestmark = pytest.mark.django_db


def _billed(admin, client, n: int, rfc: bool = True):
    """n clients like `client` (with an RFC or without), each with its September invoice."""
    rows = []
    for _ in range(n):
        other = ClientFactory(
            zone=client.zone,
            plan=client.plan,
            start_date=date(2026, 1, 1),
            task_invoices=False,
            **(_good() if rfc else {}),
        )
        invoice = invoice_create_for_cycle(actor=admin, client=other, day=date(2026, 9, 6))
        rows.append((other, invoice))
    return rows


def _cfdi_queries(admin, billed) -> int:
    rows = [PaymentRow(client_id=c.pk, amount=i.total, method="transfer") for c, i in billed]
    with CaptureQueriesContext(connection) as seen:
        payments_apply(actor=admin, rows=rows)
    return sum("cfdi_cfdidocument" in q["sql"] for q in seen.captured_queries)


@pytest.mark.instant(SEPT_6)
def test_a_list_of_payments_makes_one_pue_cfdi_per_paid_invoice(pac, ready):
    admin, client, invoice = ready
    few = _cfdi_queries(admin, _billed(admin, client, 2))
    billed = _billed(admin, client, 20) + _billed(admin, client, 3, rfc=False)
    assert _cfdi_queries(admin, billed) == few  # no query per payment

    for other, bill in billed:
        documents = list(CfdiDocument.objects.filter(invoice=bill))
        if not other.rfc:
            assert documents == []  # the global CFDI's, later
            continue
        [document] = documents
        assert (document.kind, document.method, document.total) == ("invoice", "PUE", bill.total)
        assert list(document.payments.all()) == list(other.payments.all())
    assert CfdiDocument.objects.count() == 22
    assert cfdi_stamp_due().stamped == 22
    assert len(pac.stamped) == 22


@pytest.mark.instant(SEPT_6)
def test_a_list_of_payments_on_issue_makes_one_complement_per_payment(pac, ready):
    admin, client, invoice = ready
    _company(cfdi="on_issue")
    billed = _billed(admin, client, 5)
    half = [
        PaymentRow(client_id=c.pk, amount=Decimal("100.00"), method="transfer") for c, _ in billed
    ]
    payments_apply(actor=admin, rows=half + half)  # two payments per client in one list

    for other, bill in billed:
        assert CfdiDocument.objects.filter(invoice=bill, kind=CfdiKind.INVOICE).count() == 1
        for payment in other.payments.all():
            [complement] = CfdiDocument.objects.filter(kind=CfdiKind.PAYMENT, payments=payment)
            assert complement.total == Decimal("100.00")
    # The PPD invoices first, then their complements: everything stamps, each once.
    cfdi_stamp_due()
    cfdi_stamp_due()
    assert set(CfdiDocument.objects.values_list("status", flat=True)) == {CfdiStatus.STAMPED}
    assert len(pac.stamped) == CfdiDocument.objects.count() == 6 + 10
