"""The periodic global CFDI: what clients without an RFC paid in each period of the company's
periodicity (daily, weekly Monday to Sunday, monthly, two calendar months), in one CFDI to
the public in general, made once per period the day after it ends and stamped by the queue."""

import calendar
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from wispbill.billing.models import Payment, PaymentStatus
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus
from wispbill.core.models import CfdiMode, CompanySettings, GlobalPeriodicity


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def last_period(periodicity: str, day: date) -> tuple[date, date]:
    """The last period of `periodicity` that ended before `day`."""
    if periodicity == GlobalPeriodicity.DAILY:
        end = day - timedelta(days=1)
        return end, end
    if periodicity == GlobalPeriodicity.WEEKLY:
        end = day - timedelta(days=day.weekday() + 1)  # the last Sunday before `day`
        return end - timedelta(days=6), end
    months = 2 if periodicity == GlobalPeriodicity.BIMONTHLY else 1
    # The block `day` is in starts at this month; the period is the block before it.
    first = day.month - (day.month - 1) % months
    start_index = day.year * 12 + first - 1 - months
    start = date(start_index // 12, start_index % 12 + 1, 1)
    end_index = start_index + months - 1
    return start, _month_end(end_index // 12, end_index % 12 + 1)


def periodicity_of(start: date, end: date) -> str:
    """The periodicity a global document's period was made with."""
    if start == end:
        return GlobalPeriodicity.DAILY
    if (end - start).days == 6 and start.weekday() == 0:
        return GlobalPeriodicity.WEEKLY
    if start.month == end.month:
        return GlobalPeriodicity.MONTHLY
    return GlobalPeriodicity.BIMONTHLY


def cfdi_global_create(*, day: date) -> CfdiDocument | None:
    """The global CFDI of the last period that ended before `day`, for the queue to stamp;
    None when the company does not stamp, nobody without an RFC paid in it, or it was made
    before (a second call, or a parallel one, creates nothing)."""
    company = CompanySettings.load()
    if company.cfdi == CfdiMode.OFF:
        return None
    start, end = last_period(company.cfdi_global_periodicity, day)
    live = CfdiDocument.objects.filter(kind=CfdiKind.GLOBAL).exclude(status=CfdiStatus.CANCELLED)
    if live.filter(period_start=start, period_end=end).exists():
        return None
    payments = list(
        Payment.objects.filter(
            client__rfc="",
            status=PaymentStatus.APPLIED,
            paid_on__gte=start,
            paid_on__lte=end,
        )
        # A payment another global covers already (the periodicity changed) is not twice.
        .exclude(cfdis__in=live)
        .order_by("id")
    )
    if not payments:
        return None
    try:
        with transaction.atomic():
            document = CfdiDocument.objects.create(
                kind=CfdiKind.GLOBAL,
                period_start=start,
                period_end=end,
                series=company.invoice_series,
                total=sum(p.amount for p in payments),
                next_attempt_at=timezone.now(),
            )
            document.payments.add(*payments)
    except IntegrityError:
        return None  # a parallel call made it
    return document
