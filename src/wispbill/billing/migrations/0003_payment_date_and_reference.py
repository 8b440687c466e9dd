"""Payments gain the day the money was received and a reference. Payments made before keep
the day they were registered on, in the ISP's time zone, so the cash reports of the past
still add up. Invoices are indexed by their day of issue, which the dashboard sums by month."""

from django.db import migrations, models
from django.utils import timezone

import wispbill.core.clock

BATCH = 2000


def paid_on_from_registration(apps, schema_editor):
    Payment = apps.get_model("billing", "Payment")
    rows = Payment.objects.filter(paid_on__isnull=True).only("id", "received_at")
    batch = []
    for payment in rows.iterator(chunk_size=BATCH):
        payment.paid_on = timezone.localdate(payment.received_at)
        batch.append(payment)
        if len(batch) == BATCH:
            Payment.objects.bulk_update(batch, ["paid_on"])
            batch = []
    Payment.objects.bulk_update(batch, ["paid_on"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_invoices_awaiting_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="paid_on",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(paid_on_from_registration, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="payment",
            name="paid_on",
            field=models.DateField(
                default=wispbill.core.clock.today,
                help_text="The day the money was received.",
                verbose_name="payment date",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="reference",
            field=models.CharField(
                blank=True,
                help_text="Bank reference, receipt or transfer number.",
                max_length=100,
                verbose_name="reference",
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="received_at",
            field=models.DateTimeField(verbose_name="registered at"),
        ),
        migrations.AlterModelOptions(
            name="payment",
            options={"ordering": ["-paid_on", "-received_at", "-id"], "verbose_name": "payment"},
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(fields=["paid_on", "actor_name"], name="payment_paid_on"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["issued_on"], name="invoice_issued_on"),
        ),
    ]
