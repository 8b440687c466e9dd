"""Facturación electrónica in the panel: the documents with their status and, for a refusal,
what it means in plain Spanish with a link to the data to fix; "reintentar" for staff who may
manage invoices only; the XML and PDF; the CSD page checking what it keeps, admins only."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as Browser
from django.utils import translation

from tests.cfdi.conftest import PASSWORD, PERSON_RFC, SEPT_6, _company, _pay, make_csd
from tests.factories import ClientFactory
from tests.messaging_fixtures import pdf_text
from tests.panel_forms import client_form_data
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.csd import MAX_BYTES
from wispbill.cfdi.models import CfdiDocument, CfdiStatus
from wispbill.cfdi.services import cfdi_stamp_due
from wispbill.core.models import CompanySettings
from wispbill.devtools.csd import COMPANY_RFC
from wispbill.messaging.links import portal_token

pytestmark = pytest.mark.django_db
PAGE = "/e-invoicing/"


def _browser(user) -> Browser:
    browser = Browser(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(user)
    return browser


@pytest.mark.instant(SEPT_6)
def test_a_refusal_is_said_plainly_and_retried_after_the_fix(pac, ready, nobody):
    admin, client, invoice = ready
    pac.mode = "refuse"
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    document.refresh_from_db()
    assert document.status == CfdiStatus.ERROR

    page = _browser(admin).get(PAGE, {"status": "error"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Facturación electrónica" in html
    assert "no coinciden con los del SAT" in html  # the plain words
    assert "CFDI40147" in html  # and the PAC's own
    assert f"/clients/{client.pk}/" in html  # where to fix it
    assert f"/e-invoicing/{document.pk}/retry/" in html and "data-confirm" in html

    # Staff without the invoices permission reads the list, but cannot retry.
    html = _browser(nobody).get(PAGE).content.decode()
    assert "no coinciden con los del SAT" in html and "/retry/" not in html
    assert _browser(nobody).post(f"/e-invoicing/{document.pk}/retry/").status_code == 403
    document.refresh_from_db()
    assert document.status == CfdiStatus.ERROR

    pac.mode = "ok"
    answer = _browser(admin).post(f"/e-invoicing/{document.pk}/retry/")
    assert answer.status_code == 302
    document.refresh_from_db()
    assert document.status == CfdiStatus.PENDING and document.attempts == 0
    assert cfdi_stamp_due().stamped == 1
    document.refresh_from_db()
    assert document.status == CfdiStatus.STAMPED and document.uuid
    assert len(pac.stamped) == 1
    assert _browser(admin).get(PAGE, {"q": document.uuid}).content.decode().count("data-cfdi=") == 1
    assert "data-cfdi=" not in _browser(admin).get(PAGE, {"status": "error"}).content.decode()


@pytest.mark.instant(SEPT_6)
def test_the_files_download_only_once_stamped(pac, ready, nobody):
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    browser = _browser(nobody)
    assert browser.get(f"/e-invoicing/{document.pk}/pdf/").status_code == 404
    assert browser.get(f"/e-invoicing/{document.pk}/xml/").status_code == 404
    cfdi_stamp_due()
    document.refresh_from_db()
    xml = browser.get(f"/e-invoicing/{document.pk}/xml/")
    assert xml.status_code == 200 and xml.content.decode() == document.xml
    pdf = browser.get(f"/e-invoicing/{document.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and document.uuid in pdf_text(pdf.content)


@pytest.mark.instant(SEPT_6)
def test_the_list_reads_in_a_fixed_number_of_queries(pac, ready, django_assert_max_num_queries):
    admin, client, invoice = ready
    _pay(admin, client, invoice)
    browser = _browser(admin)
    browser.get(PAGE)  # sessions and caches warmed
    with django_assert_max_num_queries(14) as one:
        browser.get(PAGE)

    for _ in range(6):
        other = ClientFactory(
            zone=client.zone,
            plan=client.plan,
            start_date=date(2026, 1, 1),
            task_invoices=False,
            rfc=client.rfc,
            fiscal_name=client.fiscal_name,
            fiscal_regime=client.fiscal_regime,
            fiscal_postal_code=client.fiscal_postal_code,
        )
        bill = invoice_create_for_cycle(actor=admin, client=other, day=date(2026, 9, 6))
        payment_register(actor=admin, client=other, amount=bill.total)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = browser.get(PAGE)
    assert page.content.decode().count("data-cfdi=") == 7


def _upload(browser, csd, **changes):
    data = {
        "certificate": SimpleUploadedFile("csd.cer", csd.certificate),
        "private_key": SimpleUploadedFile("csd.key", csd.key),
        "password": csd.password,
        **changes,
    }
    return browser.post("/e-invoicing/csd/", data)


@pytest.mark.instant(SEPT_6)
def test_the_csd_page_checks_what_it_keeps_and_never_shows_the_key(admin, staff, csd):
    _company()
    browser = _browser(admin)
    refused = _upload(browser, csd, password="otra-clave")
    assert refused.status_code == 400
    assert "no se abre con esta contraseña" in refused.content.decode()
    huge = _upload(browser, csd, certificate=SimpleUploadedFile("a.cer", b"0" * (MAX_BYTES + 1)))
    assert huge.status_code == 400 and "32 KB" in huge.content.decode()
    other = _upload(browser, csd, private_key=SimpleUploadedFile("b.key", make_csd().key))
    assert "pertenece a otro certificado" in other.content.decode()
    assert CompanySettings.load().csd_serial == ""

    assert _upload(browser, csd).status_code == 302
    page = browser.get("/e-invoicing/csd/").content.decode()
    assert "30001000000500003416" in page and PASSWORD not in page
    assert CompanySettings.load().csd_serial == "30001000000500003416"
    # Staff who are not admins neither see nor change it.
    assert _browser(staff).get("/e-invoicing/csd/").status_code == 403
    assert _upload(_browser(staff), make_csd()).status_code == 403
    assert "/e-invoicing/csd/" not in _browser(staff).get(PAGE).content.decode()


@pytest.mark.instant(SEPT_6)
def test_the_client_page_and_the_panel_carry_the_stamped_cfdi(pac, ready):
    """Issue 19: the CFDI's XML and PDF on the client's own page (its signed link), beside
    the invoice's; the panel's client page and invoice list show it too. Another client's
    link cannot open it."""
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    assert cfdi_stamp_due().stamped == 1
    document.refresh_from_db()
    token = portal_token(client.pk)[0]
    page = Browser().get(f"/portal/{token}/?lang=es")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Factura electrónica (CFDI)" in html
    xml = Browser().get(f"/portal/{token}/cfdi/{document.pk}/xml/")
    assert xml.status_code == 200 and document.uuid.encode() in xml.content
    assert xml["Cache-Control"] == "no-store"
    pdf = Browser().get(f"/portal/{token}/cfdi/{document.pk}/pdf/?lang=es")
    assert pdf["Content-Type"] == "application/pdf"
    assert document.uuid in pdf_text(pdf.content)
    other = ClientFactory(zone=client.zone, plan=client.plan)
    stranger = portal_token(other.pk)[0]
    assert Browser().get(f"/portal/{stranger}/cfdi/{document.pk}/xml/").status_code == 404
    assert Browser().get(f"/portal/{token}/cfdi/{document.pk}/exe/").status_code == 404

    panel = _browser(admin)
    for url in (f"/clients/{client.pk}/", "/invoices/"):
        shown = panel.get(url).content.decode()
        assert f"/e-invoicing/{document.pk}/xml/" in shown, url
        assert f"/e-invoicing/{document.pk}/pdf/" in shown, url


@pytest.mark.instant(SEPT_6)
def test_cancelling_an_invoice_in_the_panel_cancels_its_cfdi_with_sats_reason(pac, ready):
    """An invoice with a stamped CFDI gets a page asking SAT's reason before it is cancelled;
    without one, or 01 without the replacing CFDI, nothing changes; with one, the invoice and
    its CFDI are cancelled, the PAC told the reason."""
    admin, client, invoice = ready
    _company(cfdi="on_issue")
    assert cfdi_stamp_due().stamped == 1  # its PPD CFDI, while it is pending
    document = CfdiDocument.objects.get(invoice=invoice)
    panel = _browser(admin)
    money = panel.get(f"/clients/{client.pk}/").content.decode()
    assert f'href="/invoices/{invoice.pk}/cancel/"' in money  # a page, not a bare question
    page = panel.get(f"/invoices/{invoice.pk}/cancel/")
    assert page.status_code == 200 and document.uuid in page.content.decode()
    assert "saldo a favor" not in page.content.decode()  # nothing of it was paid
    assert "01: " in page.content.decode()
    for data, message in (
        ({}, "Este campo es obligatorio"),
        ({"reason": "01"}, "01"),
        ({"reason": "02", "substitution": "not-a-uuid"}, "UUID"),
        ({"reason": "01", "substitution": document.uuid.lower()}, "este mismo CFDI"),
    ):
        refused = panel.post(f"/invoices/{invoice.pk}/cancel/", data)
        assert refused.status_code == 400, data
        assert message in refused.content.decode(), data
    invoice.refresh_from_db()
    document.refresh_from_db()
    assert invoice.status == "pending" and document.status == CfdiStatus.STAMPED
    assert pac.cancelled == []
    done = panel.post(f"/invoices/{invoice.pk}/cancel/", {"reason": "02"}, follow=True)
    assert document.uuid in done.content.decode()
    invoice.refresh_from_db()
    document.refresh_from_db()
    assert invoice.status == "cancelled" and document.status == CfdiStatus.CANCELLED
    assert document.cancel_reason == "02"
    assert pac.cancelled == [[COMPANY_RFC, document.uuid, "02"]]
    # The client's page still gives it, saying it is cancelled.
    token = portal_token(client.pk)[0]
    portal = Browser().get(f"/portal/{token}/?lang=es").content.decode()
    assert 'data-testid="cfdi-cancelled"' in portal and "Cancelado" in portal


@pytest.mark.instant(SEPT_6)
def test_the_cancel_page_says_up_front_what_cannot_be_cancelled(pac, ready, nobody):
    """A paid invoice's stamped CFDI (PUE) is not offered a form that can only be refused: the
    page says to void the payment first; staff without the permission are told before they
    fill anything in. Neither changes anything, even by a forged POST."""
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    document.refresh_from_db()
    for user, said in (
        (admin, "anule primero su pago"),
        (nobody, "Crear y cancelar facturas"),
    ):
        page = _browser(user).get(f"/invoices/{invoice.pk}/cancel/").content.decode()
        assert 'data-testid="cancel-refused"' in page and said in page, user
        assert 'data-testid="cancel-submit"' not in page and document.uuid in page
        forged = _browser(user).post(f"/invoices/{invoice.pk}/cancel/", {"reason": "02"})
        assert forged.status_code == 400 and said in forged.content.decode()
    invoice.refresh_from_db()
    document.refresh_from_db()
    assert invoice.status == "paid" and document.status == CfdiStatus.STAMPED
    assert pac.cancelled == []


@pytest.mark.instant(SEPT_6)
def test_voiding_a_paid_invoices_payment_says_its_cfdi_stays_stamped(pac, ready):
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    document.refresh_from_db()
    payment = invoice.allocations.get().payment
    page = _browser(admin).get(f"/payments/{payment.pk}/void/").content.decode()
    assert 'data-testid="void-cfdi"' in page and document.uuid in page
    assert f"F{document.pk} · Factura F-{invoice.pk:06d} · {document.uuid}" in page


@pytest.mark.instant(SEPT_6)
def test_a_wrong_check_digit_is_said_once_and_as_such(ready):
    """A letter where the check digit goes is a wrong check digit, not a wrong format; the
    field's own check says it, once."""
    _admin, client, _invoice = ready
    client.rfc = "PEPJ8001019QB"
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        client.full_clean()
    assert refused.value.message_dict["rfc"] == [
        "The RFC's check digit does not match: check every character (PEPJ8001019QB)."
    ]


@pytest.mark.instant(SEPT_6)
def test_an_rfc_typed_in_small_letters_is_read_in_capitals(ready, admin_api):
    """People type RFCs as they come: spaces around and small letters are not an error."""
    _admin, client, _invoice = ready
    client.rfc = " pepj8001019qa "
    client.full_clean()
    assert client.rfc == "PEPJ8001019QA"
    answer = admin_api.patch(
        f"/api/v1/clients/{client.pk}/", {"rfc": "pepj8001019qa"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["rfc"] == "PEPJ8001019QA"
    company = admin_api.patch("/api/v1/company/", {"rfc": " eku9003173c9"}, format="json")
    assert company.status_code == 200 and company.json()["rfc"] == COMPANY_RFC
    # "16" for 16 %: refused with what to write instead.
    rate = admin_api.patch("/api/v1/company/", {"tax_rate": "16"}, format="json")
    assert rate.status_code == 400 and "0.16" in rate.json()["tax_rate"][0]


@pytest.mark.instant(SEPT_6)
def test_a_refused_fiscal_edit_is_said_at_the_top_and_changes_nothing(ready):
    """The client page is long (and a phone shows little of it): a refused RFC is said at its
    top, naming the field, besides beside the field."""
    admin, client, _invoice = ready
    data = client_form_data(client, rfc="PEPJ8001019QB", fiscal_postal_code="0600")
    refused = _browser(admin).post(f"/clients/{client.pk}/", data)
    assert refused.status_code == 400
    top = refused.content.decode().split('class="messages"', 1)[1].split("</div>", 1)[0]
    assert "No se guardó nada: corrija RFC" in top and "postal" in top
    client.refresh_from_db()
    assert client.rfc == PERSON_RFC


@pytest.mark.instant(SEPT_6)
def test_the_list_finds_a_cfdi_as_the_panel_writes_it(pac, ready):
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    document.refresh_from_db()
    assert document.uuid
    panel = _browser(admin)
    for search in (
        f"F{document.pk}",
        f"f{document.pk}",
        f"F-{invoice.pk:06d}",
        str(invoice.pk),
        f"F {document.pk}",
        f"F{invoice.pk}",
        f"F{invoice.pk:06d}",
        "juan pérez",
        client.rfc.lower(),
        client.rfc[:8],
        document.uuid[:8],
    ):
        found = panel.get(PAGE, {"q": search}).content.decode()
        assert f"/e-invoicing/{document.pk}/xml/" in found, search
    # A number is that number, not every UUID that holds its digits.
    # (A version-4 UUID always holds a 4; this document and its invoice are not number 4.)
    assert document.uuid[14] == "4" and 4 not in (document.pk, invoice.pk)
    assert f"/e-invoicing/{document.pk}/xml/" not in panel.get(PAGE, {"q": "4"}).content.decode()
    nothing = panel.get(PAGE, {"q": "G999999"}).content.decode()
    assert f"/e-invoicing/{document.pk}/xml/" not in nothing
    assert "Ningún CFDI cumple estos filtros." in nothing
    assert "Aún no hay CFDI" not in panel.get(PAGE, {"status": "error"}).content.decode()
