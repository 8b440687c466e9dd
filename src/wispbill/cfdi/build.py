"""CFDI 4.0 documents built and signed with satcfdi from wispbill's invoices: the rules of
Anexo 20 are satcfdi's job; the amounts are the invoice's own (billing.taxes), so the CFDI's
total is the invoice's to the cent. Every document is checked against SAT's schema."""

import os
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from lxml import etree
from satcfdi.cfdi import CFDI
from satcfdi.create.cfd import cfdi40
from satcfdi.exceptions import SchemaValidationError
from satcfdi.models import Signer
from satcfdi.transform import SCHEMA_ROOT, SchemaCollector, cfdi_schemas
from satcfdi.utils import parser as satcfdi_parser

from wispbill.billing.models import Invoice, Payment
from wispbill.billing.taxes import line_tax
from wispbill.core.fiscal import RFC_PUBLIC
from wispbill.core.models import CompanySettings

IVA = "002"
# c_FormaPago: 99 "por definir" for a PPD invoice; 01 cash, 03 transfer, 04 card otherwise.
FORMA_PAGO = {
    "cash": "01",
    "transfer": "03",
    "card": "04",
    "deposit": "01",
    "other": "99",
    "mercadopago": "04",
    "stripe": "04",
}


@dataclass(frozen=True)
class PaidInvoice:
    """One invoice a payment complement covers: its stamped PPD CFDI and the part paid."""

    stamped_xml: str
    installment: int  # NumParcialidad: 1 for the first payment of the invoice
    balance_before: Decimal
    paid: Decimal


def _now() -> datetime:
    return datetime.now(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None, microsecond=0)


@cache
def _schema(locations: tuple[str, ...]) -> etree.XMLSchema:
    """SAT's schema for a document made of these parts, compiled once per process: satcfdi's
    own `validate=True` compiles it (catalogs and all, about 0.4 s) on every document."""
    root = etree.fromstring(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>',
        base_url=os.path.join(SCHEMA_ROOT, "schema.xsd"),
        parser=satcfdi_parser,
    )
    for location in locations:
        etree.SubElement(
            root,
            "{http://www.w3.org/2001/XMLSchema}import",
            attrib={"namespace": "", "schemaLocation": location},
        )
    return etree.XMLSchema(root)


def checked_bytes(document: cfdi40.Comprobante) -> bytes:
    """The signed document's XML, checked against SAT's schema (SchemaValidationError)."""
    xml = document.to_xml(include_schema_location=True)
    collector = SchemaCollector()
    cfdi_schemas[document.tag](collector, document)
    schema = _schema(tuple(collector.base))
    if not schema.validate(xml):
        raise SchemaValidationError(schema.error_log)
    signed: bytes = etree.tostring(xml, xml_declaration=True, encoding="UTF-8")
    return signed


def issuer(company: CompanySettings) -> cfdi40.Emisor:
    return cfdi40.Emisor(
        rfc=company.rfc, nombre=company.legal_name.upper(), regimen_fiscal=company.tax_regime
    )


def _rate(company: CompanySettings) -> Decimal:
    return company.tax_rate.quantize(Decimal("0.000001"))


def _concept(
    company: CompanySettings,
    *,
    key: str,
    unit: str,
    description: str,
    base: Decimal,
    tax: Decimal,
    identifier: str | None = None,
) -> cfdi40.Concepto:
    """One concept of quantity 1 carrying its IVA (the amounts are billing.taxes')."""
    return cfdi40.Concepto(
        clave_prod_serv=key,
        cantidad=Decimal(1),
        clave_unidad=unit,
        descripcion=description,
        valor_unitario=base,
        no_identificacion=identifier,
        objeto_imp="02",
        impuestos=cfdi40.Impuestos(
            traslados=cfdi40.Traslado(
                impuesto=IVA,
                tipo_factor="Tasa",
                tasa_o_cuota=_rate(company),
                importe=tax,
                base=base,
            )
        ),
    )


def invoice_document(
    *,
    invoice: Invoice,
    company: CompanySettings,
    signer: Signer,
    method: str,
    folio: str,
    forma_pago: str,
) -> bytes:
    """The signed CFDI of type I of `invoice` for its client (who has an RFC)."""
    client = invoice.client
    conceptos = [
        _concept(
            company,
            key=invoice.client.plan.sat_product_key,
            unit=invoice.client.plan.sat_unit_key,
            description=line.description,
            base=line.tax_base,
            tax=line.tax,
        )
        for line in invoice.lines.all()
    ]
    document = cfdi40.Comprobante(
        emisor=issuer(company),
        lugar_expedicion=company.postal_code,
        receptor=cfdi40.Receptor(
            rfc=client.rfc,
            nombre=client.fiscal_name.upper(),
            domicilio_fiscal_receptor=client.fiscal_postal_code,
            regimen_fiscal_receptor=client.fiscal_regime,
            uso_cfdi=client.cfdi_use,
        ),
        conceptos=conceptos,
        serie=company.invoice_series,
        folio=folio,
        forma_pago=forma_pago,
        metodo_pago=method,
        fecha=_now(),
    )
    document.sign(signer)
    return checked_bytes(document)


def payment_document(
    *,
    payment: Payment,
    paid: list[PaidInvoice],
    signer: Signer,
    folio: str,
    series: str,
) -> bytes:
    """The signed CFDI of type P (Pagos 2.0) of `payment` for the PPD invoices it paid."""
    day = datetime.combine(payment.paid_on, time(12))  # SAT's rule when the hour is unknown
    document = cfdi40.Comprobante.pago_comprobantes(
        comprobantes=[
            cfdi40.PagoComprobante(
                comprobante=CFDI.from_string(item.stamped_xml.encode()),
                num_parcialidad=item.installment,
                imp_saldo_ant=item.balance_before,
                imp_pagado=item.paid,
            )
            for item in paid
        ],
        fecha_pago=day,
        forma_pago=FORMA_PAGO.get(payment.method, "99"),
        serie=series,
        folio=folio,
        fecha=_now(),
    )
    document.sign(signer)
    return checked_bytes(document)


# The global CFDI (SAT's rules for operations with the public in general).
PUBLIC_NAME = "PUBLICO EN GENERAL"
PUBLIC_REGIME = "616"
GLOBAL_PRODUCT_KEY = "01010101"
GLOBAL_UNIT_KEY = "ACT"
# c_Meses: a month is its number; two months (periodicity 05) are 13 (Jan-Feb) to 18.
BIMONTHLY_FIRST = 13


def global_months(periodicity: str, start: date) -> str:
    if periodicity == "05":
        return str(BIMONTHLY_FIRST + (start.month - 1) // 2)
    return f"{start.month:02d}"


def global_document(
    *,
    payments: list[Payment],
    company: CompanySettings,
    signer: Signer,
    periodicity: str,
    start: date,
    folio: str,
    series: str,
) -> bytes:
    """The signed global CFDI of what clients without an RFC paid in a period: one concept
    per payment (its number the payment's), IVA taken out of each amount."""
    rate = company.tax_rate
    conceptos = []
    by_method: dict[str, Decimal] = {}
    for payment in payments:
        taxed = line_tax(payment.amount, rate=rate, included=True)
        conceptos.append(
            _concept(
                company,
                key=GLOBAL_PRODUCT_KEY,
                unit=GLOBAL_UNIT_KEY,
                description="Venta",
                base=taxed.base,
                tax=taxed.tax,
                identifier=str(payment.pk),
            )
        )
        forma = FORMA_PAGO.get(payment.method, "99")
        by_method[forma] = by_method.get(forma, Decimal(0)) + payment.amount
    document = cfdi40.Comprobante(
        emisor=issuer(company),
        lugar_expedicion=company.postal_code,
        receptor=cfdi40.Receptor(
            rfc=RFC_PUBLIC,
            nombre=PUBLIC_NAME,
            domicilio_fiscal_receptor=company.postal_code,
            regimen_fiscal_receptor=PUBLIC_REGIME,
            uso_cfdi="S01",
        ),
        informacion_global=cfdi40.InformacionGlobal(
            periodicidad=periodicity, meses=global_months(periodicity, start), ano=start.year
        ),
        conceptos=conceptos,
        serie=series,
        folio=folio,
        # SAT: the form of payment of the largest amount.
        forma_pago=max(by_method, key=lambda method: by_method[method]),
        metodo_pago="PUE",
        fecha=_now(),
    )
    document.sign(signer)
    return checked_bytes(document)
