from django.db import migrations, models
from django.db.models import F

TASKS = ("invoices", "notices", "cuts")


def forwards(apps, schema_editor):
    """Each switch starts its own revision from the row's old version, so the undo of a mass
    update made before decides as it did."""
    apps.get_model("network", "zone").objects.update(
        **{f"task_{task}_rev": F("switches_version") for task in TASKS}
    )


class Migration(migrations.Migration):
    dependencies = [("network", "0002_router_sync_state")]

    operations = [
        *(
            migrations.AddField(
                model_name="zone",
                name=f"task_{task}_rev",
                field=models.PositiveIntegerField(default=0, editable=False),
            )
            for task in TASKS
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="zone", name="switches_version"),
    ]
