"""Issue 19's speed parts, their behaviour: SAT's large catalogs checked in Python before a
document is built (the schema no longer walks them), the CSD's signer opened once per CSD,
several documents in flight each stamped once, and a CFDI stamped after its message left
sent to the client on its own, once."""

import pytest
import requests
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.cfdi.conftest import SEPT_6, _pay
from tests.factories import PlanFactory
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi import services
from wispbill.cfdi.csd import csd_install
from wispbill.cfdi.models import CfdiDocument, CfdiStatus
from wispbill.cfdi.services import cfdi_stamp_due
from wispbill.clients.models import Client, Plan
from wispbill.clients.services.plans import plan_create
from wispbill.core.clock import today
from wispbill.core.models import CompanySettings
from wispbill.devtools import pac as pac_stand_in
from wispbill.devtools.csd import PASSWORD, make_csd
from wispbill.messaging.models import Kind, Message, MessageStatus
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import message_enqueue

NOT_A_POSTAL_CODE = "00001"  # five digits, not in SAT's catalog


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_a_postal_code_outside_sats_catalog_is_refused_before_stamping(pac, ready):
    admin, client, invoice = ready
    client.fiscal_postal_code = NOT_A_POSTAL_CODE
    with pytest.raises(ValidationError) as refused:
        client.full_clean()
    assert "SAT" in str(refused.value.message_dict["fiscal_postal_code"])
    # Written around the checks (an old row, a script): the CFDI is refused before the PAC.
    Client.objects.filter(pk=client.pk).update(fiscal_postal_code=NOT_A_POSTAL_CODE)
    document = _pay(admin, client, invoice)
    assert cfdi_stamp_due().stamped == 0
    document.refresh_from_db()
    assert document.status == CfdiStatus.ERROR and document.error_code == "data"
    assert NOT_A_POSTAL_CODE in document.error_message and "SAT" in document.error_message
    assert pac.stamp_calls == 0 and document.xml == ""


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_a_product_key_outside_sats_catalog_is_refused(pac, ready):
    admin, client, invoice = ready
    with pytest.raises(ValidationError) as refused:
        plan_create(
            actor=admin,
            name="Fibra",
            price="500.00",
            download_kbps=1000,
            upload_kbps=1000,
            sat_product_key="12345678",
        )
    assert "c_ClaveProdServ" in str(refused.value.message_dict["sat_product_key"])
    assert not Plan.objects.filter(name="Fibra").exists()
    Plan.objects.filter(pk=client.plan_id).update(sat_product_key="12345678")
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    document.refresh_from_db()
    assert document.status == CfdiStatus.ERROR
    assert "12345678" in document.error_message and "c_ClaveProdServ" in document.error_message
    assert pac.stamp_calls == 0


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_the_signer_is_opened_once_per_csd(ready):
    admin, _client, _invoice = ready
    company = CompanySettings.load()
    first = services._signer(company)
    assert first is not None and services._signer(CompanySettings.load()) is first
    other = make_csd()
    csd_install(
        actor=admin, certificate=other.certificate, private_key=other.key, password=PASSWORD
    )
    renewed = services._signer(CompanySettings.load())
    assert renewed is not first
    assert renewed.certificate_number == CompanySettings.load().csd_serial


@pytest.mark.django_db(transaction=True)
@pytest.mark.real_clock
def test_documents_stamped_in_parallel_are_each_stamped_once(pac, ready):
    admin, client, invoice = ready
    plan = PlanFactory()
    with override_settings(WISPBILL_PAC=""):  # made now, stamped below (not on commit)
        _registered(admin, client, invoice, plan)
    CfdiDocument.objects.update(next_attempt_at=timezone.now(), attempts=0)
    pending = CfdiDocument.objects.filter(status=CfdiStatus.PENDING).count()
    assert pending == 12
    outcome = cfdi_stamp_due(workers=4)
    assert outcome.stamped == pending and outcome.failed == 0
    assert CfdiDocument.objects.filter(status=CfdiStatus.STAMPED).count() == pending
    assert pac.stamp_calls == pending == len(pac.stamped)


def _registered(admin, client, invoice, plan) -> None:
    for _n in range(11):
        bill = _billed(admin, client, plan)
        payment_register(actor=admin, client=bill.client, amount=bill.total)
    _pay(admin, client, invoice)


def _billed(admin, client, plan, **values):
    """Another client with `client`'s fiscal data, in its zone, and its invoice of today."""
    n = Client.objects.count()
    other = Client.objects.create(
        name=f"Cliente {n}",
        ip=f"10.78.{n // 200}.{n % 200 + 2}",
        zone=client.zone,
        plan=plan,
        start_date=client.start_date,
        task_invoices=False,
        rfc=client.rfc,
        fiscal_name=client.fiscal_name,
        fiscal_regime=client.fiscal_regime,
        fiscal_postal_code=client.fiscal_postal_code,
        **values,
    )
    return invoice_create_for_cycle(actor=admin, client=other, day=today())


def _invoice_message_queued(ready):
    """The client has an e-mail address, and its invoice's message is queued."""
    admin, client, invoice = ready
    client.email = "juan@example.com"
    client.save(update_fields=["email"])
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    return admin, client, invoice


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_a_cfdi_stamped_after_its_message_left_goes_once_on_its_own(pac, ready, smtp_server):
    admin, client, invoice = _invoice_message_queued(ready)
    assert messages_send_due()["sent"] == 1  # the invoice, without a CFDI
    document = _pay(admin, client, invoice)
    assert not Message.objects.filter(kind=Kind.CFDI).exists()
    assert cfdi_stamp_due().stamped == 1
    document.refresh_from_db()
    [late] = Message.objects.filter(kind=Kind.CFDI)
    assert late.invoice_id == invoice.pk and late.channel == "email"
    assert late.status == MessageStatus.QUEUED
    # Stamped news again (a second signal) queues nothing more.
    services.cfdi_stamped.send(sender=CfdiDocument, documents=[document])
    assert Message.objects.filter(kind=Kind.CFDI).count() == 1
    messages_send_due()
    mail = next(m for m in smtp_server.received if "electrónica" in m["Subject"])
    names = sorted(p.get_filename() for p in mail.iter_attachments())
    stem = f"CFDI-F{document.pk}-{document.uuid}"
    assert names == [f"{stem}.pdf", f"{stem}.xml"]
    assert "Tu factura electrónica" in mail["Subject"]


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_a_cfdi_stamped_before_its_message_leaves_adds_no_message(pac, ready, smtp_server):
    admin, client, invoice = _invoice_message_queued(ready)  # not sent yet
    _pay(admin, client, invoice)
    assert cfdi_stamp_due().stamped == 1
    assert not Message.objects.filter(kind=Kind.CFDI).exists()


def _pending(admin, client, plan, count: int) -> list[CfdiDocument]:
    """`count` more clients with an RFC pay their invoices (documents made, not stamped yet:
    no PAC when they are made), due now."""
    with override_settings(WISPBILL_PAC=""):
        for _n in range(count):
            bill = _billed(admin, client, plan)
            payment_register(actor=admin, client=bill.client, amount=bill.total)
    pending = CfdiDocument.objects.filter(status=CfdiStatus.PENDING)
    pending.update(next_attempt_at=timezone.now())
    return list(pending)


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_inside_a_transaction_several_documents_are_at_the_pac_at_once(ready):
    """Only the calling thread reads and writes the database: the senders talk to the PAC
    alone, so even a caller inside a transaction (the test's own) has `workers` in flight."""
    admin, client, invoice = ready
    documents = _pending(admin, client, PlanFactory(), 11)
    with pac_stand_in.pac_stand_in(latency=0.3) as url:
        with override_settings(
            WISPBILL_PAC="swsapien",
            WISPBILL_PAC_USER=pac_stand_in.USER,
            WISPBILL_PAC_PASSWORD=pac_stand_in.PASSWORD,
            WISPBILL_PAC_URL=url,
        ):
            assert connection.in_atomic_block
            outcome = cfdi_stamp_due(workers=4)
        stats = requests.get(f"{url}/_stats", timeout=10).json()
    assert (outcome.stamped, outcome.failed) == (len(documents), 0) == (11, 0)
    assert stats["calls"] == stats["stamped"] == 11 and stats["most_stamps_of_one"] == 1
    assert stats["most_at_once"] == 4
    assert CfdiDocument.objects.filter(status=CfdiStatus.STAMPED).count() == 11


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_a_batch_is_read_and_written_back_in_the_same_queries_for_3_or_30(pac, ready):
    admin, client, invoice = ready
    plan = PlanFactory()
    counts = []
    for size in (3, 30):
        _pending(admin, client, plan, size)
        with CaptureQueriesContext(connection) as queries:
            assert cfdi_stamp_due().stamped == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert pac.stamp_calls == 33


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_a_batch_stamped_late_tells_only_the_clients_already_told(pac, ready, smtp_server):
    """Three CFDIs stamped in one batch: the invoice message of the first has left, the
    receipt of the second's payment has left, nothing about the third has: a "factura
    electrónica" message goes to the first two, one each."""
    admin, client, invoice = ready
    plan = PlanFactory()
    with override_settings(WISPBILL_PAC=""):
        payers = [
            (bill.client, bill)
            for n in range(3)
            for bill in [_billed(admin, client, plan, email=f"pagador{n}@example.com")]
        ]
        first, second, third = payers
        message_enqueue(client=first[0], kind=Kind.INVOICE, invoice=first[1])
        Message.objects.filter(kind=Kind.RECEIPT).delete()
        for other, bill in payers:
            payment_register(actor=admin, client=other, amount=bill.total)
        # Only the first's invoice message and the second's receipt leave.
        Message.objects.filter(client=third[0]).delete()
        Message.objects.filter(client=first[0], kind=Kind.RECEIPT).delete()
        Message.objects.filter(client=second[0]).exclude(kind=Kind.RECEIPT).delete()
        assert messages_send_due()["sent"] == 2
    CfdiDocument.objects.update(next_attempt_at=timezone.now())
    assert cfdi_stamp_due().stamped == 3
    late = sorted(Message.objects.filter(kind=Kind.CFDI).values_list("client_id", "invoice_id"))
    assert late == sorted([(first[0].pk, first[1].pk), (second[0].pk, second[1].pk)])


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_a_pac_that_is_down_stops_the_claiming_after_one_batch(pac, ready, monkeypatch):
    """A batch whose every document found the PAC unavailable ends the run's claiming: what
    is in flight finishes, the rest waits for the next run untouched (no attempt counted)."""
    admin, client, _invoice = ready
    monkeypatch.setattr(services, "CLAIM", 4)
    _pending(admin, client, PlanFactory(), 12)
    pac.mode = "error500"
    outcome = cfdi_stamp_due(workers=1)
    # The first batch was at the PAC when the second was claimed (in flight: 2 + CLAIM).
    assert (outcome.stamped, outcome.failed, pac.stamp_calls) == (0, 8, 8)
    attempts = sorted(CfdiDocument.objects.values_list("attempts", flat=True))
    assert attempts == [0] * 4 + [1] * 8
    assert set(CfdiDocument.objects.values_list("status", flat=True)) == {CfdiStatus.PENDING}
    pac.mode = "ok"
    CfdiDocument.objects.update(next_attempt_at=timezone.now())
    assert cfdi_stamp_due().stamped == 12
    assert len(pac.stamped) == 12
