"""Re-issuing a stamped CFDI with corrected data (issue 19, beyond the contract): the client's
fiscal data was wrong, the invoice stands. A new CFDI of the same invoice substitutes the old
one (SAT's TipoRelacion 04, its UUID); once the new one is stamped, the old one is cancelled at
the PAC with reason 01 and the new UUID, retried when the PAC does not answer. Each stamped
once, each seal checked by the stand-in; nothing for staff without the permission."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as Browser
from django.utils import timezone, translation
from satcfdi.cfdi import CFDI

from tests.cfdi.conftest import SEPT_6, _company, _stamped
from wispbill.audit.models import AuditEvent
from wispbill.billing.services.invoices import invoice_cancel
from wispbill.cfdi.models import CfdiDocument, CfdiStatus
from wispbill.cfdi.selectors import invoice_cfdi, stamped_cfdi_of
from wispbill.cfdi.services import (
    cfdi_replace,
    cfdi_stamp_due,
    documents_for_issued_invoices,
    invoice_cfdi_cancel,
    replaced_cancel_due,
)
from wispbill.devtools.csd import COMPANY_RFC
from wispbill.devtools.pac import verify_seal

pytestmark = pytest.mark.django_db


@pytest.mark.instant(SEPT_6)
def test_a_cfdi_with_wrong_fiscal_data_is_replaced_and_the_old_one_cancelled(pac, ready):
    admin, client, invoice = ready
    old = _stamped(admin, client, invoice)
    client.fiscal_name = "Juan Pérez Pérez de la Luz"  # the name SAT has, told late
    client.save(update_fields=["fiscal_name"])

    new = cfdi_replace(actor=admin, document=old)

    old.refresh_from_db()
    assert old.status == CfdiStatus.STAMPED and old.superseded  # valid until replaced
    assert new.replaces_id == old.pk and new.status == CfdiStatus.PENDING
    assert set(new.payments.all()) == set(old.payments.all())
    assert AuditEvent.objects.filter(action="cfdi.replaced", object_id=client.pk).exists()
    assert cfdi_stamp_due().stamped == 1
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.status == CfdiStatus.STAMPED and old.status == CfdiStatus.CANCELLED
    assert (old.cancel_reason, old.substitution) == ("01", new.uuid)
    assert pac.cancelled == [[COMPANY_RFC, old.uuid, "01", new.uuid]]
    xml = CFDI.from_string(new.xml.encode())
    assert verify_seal(xml)
    ((related),) = xml["CfdiRelacionados"]
    assert related["TipoRelacion"].code == "04" and related["CfdiRelacionado"] == [old.uuid]
    assert xml["Receptor"]["Nombre"] == "JUAN PÉREZ PÉREZ DE LA LUZ"
    assert xml["Total"] == invoice.total
    # Each stamped once, by the stand-in's count; the invoice's CFDI is the new one.
    assert len(pac.stamped) == 2 and pac.stamp_calls == 2
    assert invoice_cfdi(invoice) == new and stamped_cfdi_of(invoice) == new
    with pytest.raises(ValidationError):
        cfdi_replace(actor=admin, document=old)  # cancelled now: nothing to replace


@pytest.mark.instant(SEPT_6)
def test_a_cancellation_the_pac_does_not_answer_is_tried_again(pac, ready):
    admin, client, invoice = ready
    old = _stamped(admin, client, invoice)
    new = cfdi_replace(actor=admin, document=old)
    # While the replacement waits, the invoice is not cancelled under it.
    with pytest.raises(ValidationError, match="sustitu"):
        invoice_cfdi_cancel(invoice=invoice, reason="02")
    pac.mode = "cancel_down"
    assert cfdi_stamp_due().stamped == 1
    old.refresh_from_db()
    assert old.status == CfdiStatus.STAMPED and old.error_code == "cancel"
    assert old.next_attempt_at > timezone.now()
    assert replaced_cancel_due() == 0  # not due yet: no call to the PAC
    pac.mode = "ok"
    CfdiDocument.objects.filter(pk=old.pk).update(next_attempt_at=timezone.now())
    assert replaced_cancel_due() == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == CfdiStatus.CANCELLED and old.error_code == ""
    assert old.substitution == new.uuid
    assert pac.cancelled == [[COMPANY_RFC, old.uuid, "01", new.uuid]]


@pytest.mark.instant(SEPT_6)
def test_what_cannot_be_replaced_is_refused_and_changes_nothing(pac, ready, nobody):
    admin, client, invoice = ready
    old = _stamped(admin, client, invoice)
    with pytest.raises(PermissionDenied):
        cfdi_replace(actor=nobody, document=old)
    client.fiscal_postal_code = "0600"  # wrong now: a replacement would be refused too
    client.save(update_fields=["fiscal_postal_code"])
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        cfdi_replace(actor=admin, document=old)
    assert "Fix the client's fiscal data first" in refused.value.messages[0]
    old.refresh_from_db()
    assert not old.superseded and CfdiDocument.objects.count() == 1
    assert pac.cancelled == []


@pytest.mark.instant(SEPT_6)
def test_the_list_offers_it_to_who_may_and_says_what_replaces_what(pac, ready, nobody):
    admin, client, invoice = ready
    old = _stamped(admin, client, invoice)
    panel = Browser(HTTP_ACCEPT_LANGUAGE="es")
    panel.force_login(admin)
    page = panel.get("/e-invoicing/").content.decode()
    assert f'action="/e-invoicing/{old.pk}/replace/"' in page and "Sustituir" in page
    outsider = Browser()
    outsider.force_login(nobody)
    assert f"/e-invoicing/{old.pk}/replace/" not in outsider.get("/e-invoicing/").content.decode()
    assert outsider.post(f"/e-invoicing/{old.pk}/replace/").status_code == 403
    assert CfdiDocument.objects.count() == 1
    done = panel.post(f"/e-invoicing/{old.pk}/replace/", follow=True).content.decode()
    assert f"Se puso en cola un CFDI que sustituye a F{old.pk}" in done
    assert cfdi_stamp_due().stamped == 1
    page = panel.get("/e-invoicing/").content.decode()
    assert f"Sustituye a F{old.pk}" in page
    assert f'action="/e-invoicing/{old.pk}/replace/"' not in page  # cancelled now


@pytest.mark.instant(SEPT_6)
def test_an_invoice_cancelled_before_its_cfdi_was_sent_gets_none(pac, ready):
    """Stamping on issue: the PPD CFDI queued for an invoice cancelled before the stamping run
    is never sent (SAT would hold a CFDI for an invoice that does not stand)."""
    admin, client, invoice = ready
    _company(cfdi="on_issue")
    assert documents_for_issued_invoices() == 1
    queued = CfdiDocument.objects.get(invoice=invoice)
    invoice_cancel(actor=admin, invoice=invoice)
    cfdi_stamp_due()
    assert pac.stamp_calls == 0
    queued.refresh_from_db()
    assert queued.status == CfdiStatus.CANCELLED and queued.uuid == ""


@pytest.mark.instant(SEPT_6)
def test_the_api_replaces_as_the_panel_does(pac, ready, admin_api, nobody_api):
    admin, client, invoice = ready
    old = _stamped(admin, client, invoice)
    assert nobody_api.post(f"/api/v1/cfdi/{old.pk}/replace/").status_code == 403
    made = admin_api.post(f"/api/v1/cfdi/{old.pk}/replace/")
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["replaces"], body["status"], body["invoices"]) == (old.pk, "pending", [invoice.pk])
    again = admin_api.post(f"/api/v1/cfdi/{old.pk}/replace/")
    assert again.status_code == 400 and CfdiDocument.objects.count() == 2
    assert cfdi_stamp_due().stamped == 1
    new = CfdiDocument.objects.get(pk=body["id"])
    xml = admin_api.get(f"/api/v1/invoices/{invoice.pk}/cfdi/")
    assert xml.status_code == 200 and new.uuid in xml.content.decode()
    listed = {d["id"]: d for d in admin_api.get("/api/v1/cfdi/").json()["results"]}
    assert listed[old.pk]["status"] == "cancelled" and listed[new.pk]["replaces"] == old.pk
