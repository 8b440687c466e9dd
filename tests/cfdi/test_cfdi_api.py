"""The CFDI over the API: the list and its filters, a refused document sent again after the
fix, each invoice's and payment's `cfdi`, and the stamped XML to download (404 before)."""

import pytest
from satcfdi.cfdi import CFDI

from tests.cfdi.conftest import SEPT_6, _pay, verify_seal
from wispbill.cfdi.services import cfdi_stamp_due

pytestmark = pytest.mark.django_db


@pytest.mark.instant(SEPT_6)
def test_a_stamped_invoice_shows_its_cfdi_everywhere_and_its_xml_downloads(admin_api, pac, ready):
    admin, client, invoice = ready
    assert admin_api.get(f"/api/v1/invoices/{invoice.pk}/").json()["cfdi"] is None
    document = _pay(admin, client, invoice)
    assert admin_api.get(f"/api/v1/invoices/{invoice.pk}/cfdi/").status_code == 404
    listed = admin_api.get(f"/api/v1/invoices/?client={client.pk}").json()["results"][0]
    assert listed["cfdi"] == {"id": document.pk, "uuid": None, "status": "pending", "error": ""}
    cfdi_stamp_due()
    document.refresh_from_db()
    shown = admin_api.get(f"/api/v1/invoices/{invoice.pk}/").json()["cfdi"]
    assert shown == {"id": document.pk, "uuid": document.uuid, "status": "stamped", "error": ""}
    answer = admin_api.get(f"/api/v1/invoices/{invoice.pk}/cfdi/")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/xml"
    cfdi = CFDI.from_string(answer.content)
    cfdi.to_xml(validate=True)
    assert verify_seal(cfdi)
    assert cfdi["Complemento"]["TimbreFiscalDigital"]["UUID"] == document.uuid
    row = admin_api.get("/api/v1/cfdi/").json()["results"][0]
    payment = client.payments.get()
    assert row["id"] == document.pk and row["kind"] == "invoice"
    assert (row["uuid"], row["status"], row["series"]) == (document.uuid, "stamped", "F")
    assert row["folio"] == str(document.pk) and row["total"] == "399.00"
    assert row["invoices"] == [invoice.pk] and row["payments"] == [payment.pk]
    assert row["stamped_at"] and row["cancelled_at"] is None and row["error"] == ""
    # A PUE invoice's payment has no complement of its own.
    assert admin_api.get(f"/api/v1/payments/{payment.pk}/").json()["cfdi"] is None
    assert admin_api.get(f"/api/v1/payments/{payment.pk}/cfdi/").status_code == 404


def _refused(pac, ready):
    """The ready client's invoice paid, and its CFDI refused by the PAC."""
    pac.mode = "refuse"
    document = _pay(*ready)
    cfdi_stamp_due()
    return document


@pytest.mark.instant(SEPT_6)
def test_the_list_filters_and_refuses_unknown_values(admin_api, staff_api, pac, ready):
    document = _refused(pac, ready)
    assert [r["id"] for r in staff_api.get("/api/v1/cfdi/?status=error").json()["results"]] == [
        document.pk
    ]
    assert staff_api.get("/api/v1/cfdi/?status=stamped").json()["count"] == 0
    assert staff_api.get("/api/v1/cfdi/?kind=invoice").json()["count"] == 1
    assert staff_api.get("/api/v1/cfdi/?kind=global").json()["count"] == 0
    wrong = staff_api.get("/api/v1/cfdi/?kind=nota", HTTP_ACCEPT_LANGUAGE="es")
    assert wrong.status_code == 400 and "kind" in wrong.json()
    row = staff_api.get(f"/api/v1/cfdi/{document.pk}/").json()
    assert row["status"] == "error" and row["error"].startswith("CFDI40147")
    assert "RegimenFiscalReceptor" in row["error"]
    assert staff_api.get("/api/v1/cfdi/999999/").status_code == 404


@pytest.mark.instant(SEPT_6)
def test_retry_sends_a_refused_document_again_and_only_that(admin_api, nobody_api, pac, ready):
    document = _refused(pac, ready)
    # Staff without manage_invoices may read but not send again.
    assert nobody_api.post(f"/api/v1/cfdi/{document.pk}/retry/").status_code == 403
    pac.mode = "ok"
    answer = admin_api.post(f"/api/v1/cfdi/{document.pk}/retry/")
    assert answer.status_code == 200 and answer.json()["status"] == "pending"
    cfdi_stamp_due()
    assert admin_api.get(f"/api/v1/cfdi/{document.pk}/").json()["status"] == "stamped"
    again = admin_api.post(f"/api/v1/cfdi/{document.pk}/retry/", HTTP_ACCEPT_LANGUAGE="es")
    assert again.status_code == 400 and "error" in str(again.json())
    assert pac.stamp_calls == 2
