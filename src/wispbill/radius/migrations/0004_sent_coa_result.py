from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("radius", "0003_accounting_sessions")]

    operations = [
        migrations.AddField(
            model_name="sent",
            name="coa_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="sent",
            name="coa_result",
            field=models.CharField(
                blank=True,
                choices=[
                    ("acknowledged", "acknowledged"),
                    ("disconnected", "disconnected, to log in again"),
                    ("no_answer", "no answer, to be tried again"),
                ],
                max_length=12,
            ),
        ),
    ]
