"""CFDI 4.0 documents built and signed with satcfdi from wispbill's invoices: the rules of
Anexo 20 are satcfdi's job; the amounts are the invoice's own (billing.taxes), so the CFDI's
total is the invoice's to the cent. Every document is checked against SAT's schema."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from satcfdi.create.cfd import cfdi40
from satcfdi.models import Signer

from wispbill.billing.models import Invoice
from wispbill.core.models import CompanySettings

IVA = "002"
# c_FormaPago: 99 "por definir" for a PPD invoice; 01 cash, 03 transfer, 04 card otherwise.
FORMA_PAGO = {"cash": "01", "transfer": "03", "card": "04", "deposit": "01", "other": "99"}


def _now() -> datetime:
    return datetime.now(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None, microsecond=0)


def issuer(company: CompanySettings) -> cfdi40.Emisor:
    return cfdi40.Emisor(
        rfc=company.rfc, nombre=company.legal_name.upper(), regimen_fiscal=company.tax_regime
    )


def _rate(company: CompanySettings) -> Decimal:
    return company.tax_rate.quantize(Decimal("0.000001"))


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
        cfdi40.Concepto(
            clave_prod_serv=invoice.client.plan.sat_product_key,
            cantidad=Decimal(1),
            clave_unidad=invoice.client.plan.sat_unit_key,
            descripcion=line.description,
            valor_unitario=line.tax_base,
            objeto_imp="02",
            impuestos=cfdi40.Impuestos(
                traslados=cfdi40.Traslado(
                    impuesto=IVA,
                    tipo_factor="Tasa",
                    tasa_o_cuota=_rate(company),
                    importe=line.tax,
                    base=line.tax_base,
                )
            ),
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
    return document.xml_bytes(validate=True)
