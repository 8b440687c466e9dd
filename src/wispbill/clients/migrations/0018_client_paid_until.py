import wispbill.core.clock
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0017_client_payment_reference"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="paid_until",
            field=models.DateField(
                blank=True,
                null=True,
                validators=[wispbill.core.clock.validate_first_day],
                verbose_name="paid until",
            ),
        ),
    ]
