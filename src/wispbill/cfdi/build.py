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
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree
from satcfdi.cfdi import CFDI
from satcfdi.create.cfd import cfdi40
from satcfdi.exceptions import SchemaValidationError
from satcfdi.models import Signer
from satcfdi.transform import SCHEMA_ROOT, SchemaCollector, cfdi_schemas

from wispbill.billing.models import Invoice, Payment
from wispbill.billing.taxes import line_tax
from wispbill.core.fiscal import RFC_PUBLIC
from wispbill.core.models import CompanySettings
from wispbill.core.sat_catalogs import (
    is_postal_code,
    is_product_key,
    is_unit_key,
    lean_catalog,
)

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


class _LeanCatalog(etree.Resolver):  # type: ignore[misc]  # lxml ships no types
    """Serves SAT's catalog schema without its largest enumerations (core.sat_catalogs)."""

    def resolve(self, url: str, pubid: str, context: object) -> object:
        if url.endswith(CATALOG_SUFFIX):
            return self.resolve_string(lean_catalog(), context, base_url=url)
        return None


CATALOG_SUFFIX = "cfd/catalogos/catCFDI.xsd"


@cache
def _schema(locations: tuple[str, ...]) -> etree.XMLSchema:
    """SAT's schema for a document made of these parts, compiled once per process (satcfdi's
    own `validate=True` compiles it, catalogs and all, on every document), with the postal
    codes', product and unit keys' catalogs reduced to their shape: they are checked as sets
    before the document is built (`catalog_errors`), in a fraction of libxml2's time."""
    parser = etree.XMLParser(no_network=True, remove_comments=True, huge_tree=True)
    parser.resolvers.add(_LeanCatalog())
    root = etree.fromstring(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>',
        base_url=os.path.join(SCHEMA_ROOT, "schema.xsd"),
        parser=parser,
    )
    for location in locations:
        etree.SubElement(
            root,
            "{http://www.w3.org/2001/XMLSchema}import",
            attrib={"namespace": "", "schemaLocation": location},
        )
    return etree.XMLSchema(root)


def catalog_errors(
    *,
    company_postal_code: str,
    client_postal_code: str | None = None,
    keys: tuple[tuple[str, str], ...] = (),
) -> list[str]:
    """What the lean schema no longer checks and SAT refuses: postal codes and (product key,
    unit key) pairs that are not in SAT's catalogs, said for a person."""
    errors = []
    if not is_postal_code(company_postal_code):
        errors.append(
            _("The company's postal code %(code)s is not in SAT's catalog of postal codes.")
            % {"code": company_postal_code}
        )
    if client_postal_code is not None and not is_postal_code(client_postal_code):
        errors.append(
            _("The client's fiscal postal code %(code)s is not in SAT's catalog of postal codes.")
            % {"code": client_postal_code}
        )
    for product, unit in keys:
        if not is_product_key(product):
            errors.append(
                _("The plan's SAT product key %(key)s is not in SAT's catalog (c_ClaveProdServ).")
                % {"key": product}
            )
        if not is_unit_key(unit):
            errors.append(
                _("The plan's SAT unit key %(key)s is not in SAT's catalog (c_ClaveUnidad).")
                % {"key": unit}
            )
    return errors


def _refuse(errors: list[str]) -> None:
    if errors:
        raise ValidationError(errors)


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


# SAT's c_TipoRelacion 04: "Sustitución de los CFDI previos".
SUBSTITUTES = "04"


def invoice_document(
    *,
    invoice: Invoice,
    company: CompanySettings,
    signer: Signer,
    method: str,
    folio: str,
    forma_pago: str,
    replaces: str = "",
) -> bytes:
    """The signed CFDI of type I of `invoice` for its client (who has an RFC); a
    ValidationError before anything is built when a code is not in SAT's catalogs. With
    `replaces` (a UUID), it substitutes that CFDI (SAT's TipoRelacion 04)."""
    client = invoice.client
    plan = client.plan
    _refuse(
        catalog_errors(
            company_postal_code=company.postal_code,
            client_postal_code=client.fiscal_postal_code,
            keys=((plan.sat_product_key, plan.sat_unit_key),),
        )
    )
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
        cfdi_relacionados=(
            cfdi40.CfdiRelacionados(tipo_relacion=SUBSTITUTES, cfdi_relacionado=[replaces])
            if replaces
            else None
        ),
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
    _refuse(catalog_errors(company_postal_code=company.postal_code))
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
