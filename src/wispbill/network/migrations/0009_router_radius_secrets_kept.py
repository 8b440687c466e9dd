from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("network", "0008_router_radius")]

    operations = [
        migrations.AddField(
            model_name="router",
            name="radius_secrets_kept",
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
