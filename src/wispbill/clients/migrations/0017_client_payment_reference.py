from django.db import migrations, models

from wispbill.core.bank import payment_reference_of


def assign(apps, schema_editor):
    """Every client made before references existed gets its own, from its id."""
    Client = apps.get_model("clients", "Client")
    batch = []
    for client in Client.objects.filter(payment_reference__isnull=True).only("pk").iterator():
        client.payment_reference = payment_reference_of(client.pk)
        batch.append(client)
        if len(batch) == 2_000:
            Client.objects.bulk_update(batch, ["payment_reference"])
            batch = []
    Client.objects.bulk_update(batch, ["payment_reference"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0016_client_ip_from_pool"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="payment_reference",
            field=models.CharField(
                editable=False,
                max_length=7,
                null=True,
                unique=True,
                verbose_name="payment reference",
            ),
        ),
        migrations.RunPython(assign, migrations.RunPython.noop),
    ]
