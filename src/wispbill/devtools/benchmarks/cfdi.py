"""CFDI at size (issue 19): invoices' CFDIs built, signed and checked against SAT's schema per
second, and the global CFDI of a month of 20,000 payments (its time, and the process's peak
memory after it). Everything it writes is rolled back."""

import resource
import statistics
import time
from datetime import date
from decimal import Decimal

import requests
from django.db import transaction
from django.utils import timezone
from satcfdi.models import Signer

from wispbill.billing.models import Payment
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.cfdi.build import global_document, invoice_document
from wispbill.clients.models import Client, Plan
from wispbill.core.models import BillingMode, CompanySettings
from wispbill.devtools.benchmarks.common import PREFIX
from wispbill.devtools.csd import COMPANY_RFC, make_csd
from wispbill.network.models import Router, Zone


class _Undo(Exception):
    pass


def _company() -> CompanySettings:
    company = CompanySettings.load()
    company.rfc, company.legal_name = COMPANY_RFC, "Escuela Kemper Urgate"
    company.tax_regime, company.postal_code = "601", "42501"
    company.tax_rate, company.prices_include_tax = Decimal("0.16"), True
    company.invoice_series = "F"
    company.save()
    return company


def _invoice(admin):
    router = Router.objects.create(name=f"{PREFIX}cfdi", host="192.0.2.250")
    zone = Zone.objects.create(
        router=router,
        name="Zona CFDI",
        billing_mode=BillingMode.PREPAID,
        pay_day=1,
        invoice_lead_days=7,
        notice_offset_days=2,
        grace_days=4,
    )
    plan = Plan.objects.create(
        name=f"{PREFIX}cfdi-plan", price=Decimal("399.00"), download_kbps=10_000, upload_kbps=2_000
    )
    client = Client.objects.create(
        name="Juan Pérez Pérez",
        ip="10.250.0.1",
        zone=zone,
        plan=plan,
        start_date=date(2025, 1, 1),
        task_invoices=False,
        rfc="PEPJ8001019QA",
        fiscal_name="Juan Pérez Pérez",
        fiscal_regime="612",
        fiscal_postal_code="06000",
    )
    return invoice_create_for_cycle(actor=admin, client=client, day=date.today())


def time_cfdi(admin, *, docs: int, global_payments: int, repeat: int) -> dict:
    csd = make_csd()
    signer = Signer.load(certificate=csd.certificate, key=csd.key, password=csd.password)
    rates: list[float] = []
    global_times: list[float] = []
    try:
        with transaction.atomic():
            company = _company()
            invoice = _invoice(admin)
            # Once per process, not per document: SAT's catalogs read as sets, the schema
            # compiled. A warm-up document pays it before the clock starts.
            invoice_document(
                invoice=invoice,
                company=company,
                signer=signer,
                method="PUE",
                folio="0",
                forma_pago="03",
            )
            for _ in range(repeat):
                start = time.perf_counter()
                for folio in range(docs):
                    invoice_document(
                        invoice=invoice,
                        company=company,
                        signer=signer,
                        method="PUE",
                        folio=str(folio + 1),
                        forma_pago="03",
                    )
                rates.append(docs / (time.perf_counter() - start))
            # The month's payments as the global CFDI reads them (amount, number, method).
            payments = [
                Payment(pk=n + 1, amount=Decimal("399.00"), method=("cash", "transfer")[n % 2])
                for n in range(global_payments)
            ]
            for _ in range(max(1, min(repeat, 3))):
                start = time.perf_counter()
                global_document(
                    payments=payments,
                    company=company,
                    signer=signer,
                    periodicity="04",
                    start=date(2026, 9, 1),
                    folio="1",
                    series="F",
                )
                global_times.append(time.perf_counter() - start)
            raise _Undo
    except _Undo:
        pass
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "cfdi_build_sign_docs_per_s": statistics.median(rates),
        "cfdi_global_payments": global_payments,
        "cfdi_global_build_sign_s": statistics.median(global_times),
        # The whole process's peak (an upper bound of the global CFDI's own).
        "cfdi_process_peak_rss_mb": peak_kb / 1024,
    }


def time_stamping(admin, *, docs: int, latency: float, workers: int) -> dict:
    """`docs` invoice CFDIs stamped by `cfdi_stamp_due` (built, signed, sent, saved) against
    a PAC stand-in in a process of its own that answers each after `latency` seconds; the
    stand-in counts the stamps it gave each document (one). Written for real (the threads
    see only what is committed), then wiped."""
    from django.test import override_settings

    from wispbill.billing.models import Invoice, InvoiceLine
    from wispbill.cfdi.csd import csd_install
    from wispbill.cfdi.models import CfdiDocument, CfdiKind
    from wispbill.cfdi.services import cfdi_stamp_due
    from wispbill.devtools import pac
    from wispbill.devtools.benchmarks.common import wipe

    csd = make_csd()
    company = _company()
    csd_install(
        actor=admin, certificate=csd.certificate, private_key=csd.key, password=csd.password
    )
    template = _invoice(admin)
    lines = list(template.lines.all())
    values = {
        field.attname: getattr(template, field.attname)
        for field in Invoice._meta.concrete_fields
        if not field.primary_key
    }
    # Extra invoices of the client's period (charges only: one period, many invoices).
    copies = [Invoice(**{**values, "charges_only": True}) for _n in range(docs)]
    Invoice.objects.bulk_create(copies, batch_size=500)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=copy,
                description=line.description,
                amount=line.amount,
                tax_base=line.tax_base,
                tax=line.tax,
            )
            for copy in copies
            for line in lines
        ],
        batch_size=500,
    )
    now = timezone.now()
    CfdiDocument.objects.bulk_create(
        [
            CfdiDocument(
                kind=CfdiKind.INVOICE,
                method="PUE",
                invoice=copy,
                series=company.invoice_series,
                total=copy.total,
                next_attempt_at=now,
            )
            for copy in copies
        ],
        batch_size=500,
    )
    try:
        with pac.pac_stand_in(latency=latency) as url:
            with override_settings(
                WISPBILL_PAC="swsapien",
                WISPBILL_PAC_USER=pac.USER,
                WISPBILL_PAC_PASSWORD=pac.PASSWORD,
                WISPBILL_PAC_URL=url,
            ):
                start = time.perf_counter()
                outcome = cfdi_stamp_due(workers=workers)
                elapsed = time.perf_counter() - start
            stats = requests.get(f"{url}/_stats", timeout=10).json()
    finally:
        wipe()
    return {
        "cfdi_stamp_docs": docs,
        "cfdi_stamp_latency_ms": latency * 1000,
        "cfdi_stamp_workers": workers,
        "cfdi_stamp_s": elapsed,
        "cfdi_stamped": outcome.stamped,
        "cfdi_stamp_failed": outcome.failed,
        "cfdi_pac_calls": stats["calls"],
        "cfdi_pac_most_stamps_of_one_document": stats["most_stamps_of_one"],
        "cfdi_pac_answer_ms_median": stats["answer_ms_median"],
        "cfdi_pac_answer_ms_max": stats["answer_ms_max"],
    }
