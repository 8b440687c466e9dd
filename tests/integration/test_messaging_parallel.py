"""Two enqueuers and two senders at once, each on its own connection: every message exists
once and reaches the SMTP server once."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import ClientFactory
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.messaging.models import Kind, Message, MessageStatus
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import messages_enqueue_bulk


def test_the_database_refuses_a_second_copy(db, settings, billed_client):
    settings.WISPBILL_EMAIL_URL = ""
    client, invoice = billed_client
    messages_enqueue_bulk(kind=Kind.INVOICE, items=[(client.pk, invoice.pk)])
    original = Message.objects.get(channel="email")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            client=client, kind=Kind.INVOICE, channel="email", invoice=invoice, language="es"
        )
    assert Message.objects.filter(channel="email").get() == original


def _in_parallel(work, times: int = 2) -> list:
    barrier = threading.Barrier(times)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_enqueue_and_send_deliver_each_message_once(
    smtp_server, admin, company, billed_client
):
    if connection.vendor != "postgresql":
        pytest.skip("threads share SQLite's in-memory test database only with table locks")
    client, invoice = billed_client
    pairs = [(client.pk, invoice.pk)]
    for n in range(24):
        other = ClientFactory(zone=client.zone, plan=client.plan, email=f"c{n}@example.com")
        pairs.append(
            (
                other.pk,
                invoice_create_for_cycle(actor=admin, client=other, day=invoice.issued_on).pk,
            )
        )
    # Quiet while queuing, so only the two senders below send.
    company.quiet_hours = "00:00-23:59"
    company.save()

    def enqueue():
        with transaction.atomic():
            return messages_enqueue_bulk(kind=Kind.INVOICE, items=pairs)

    queued = _in_parallel(enqueue)
    emails = Message.objects.filter(channel="email")
    assert emails.count() == 25 and sum(queued) >= 25
    company.quiet_hours = ""
    company.save()

    sent = _in_parallel(lambda: messages_send_due(batch_size=4))
    assert sum(r["sent"] for r in sent) == 25 and all(r["failed"] == 0 for r in sent)
    assert emails.filter(status=MessageStatus.SENT).count() == 25
    recipients = [mail["To"] for mail in smtp_server.received]
    assert len(recipients) == 25 and len(set(recipients)) == 25
