from django.db import migrations, models
from django.db.models import F

TASKS = ("invoices", "notices", "cuts")


def forwards(apps, schema_editor):
    """Each switch starts its own revision from the row's old version, so the undo of a mass
    update made before decides as it did."""
    apps.get_model("clients", "client").objects.update(
        **{f"task_{task}_rev": F("switches_version") for task in TASKS}
    )


class Migration(migrations.Migration):
    dependencies = [("clients", "0003_client_language")]

    operations = [
        *(
            migrations.AddField(
                model_name="client",
                name=f"task_{task}_rev",
                field=models.PositiveIntegerField(default=0, editable=False),
            )
            for task in TASKS
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="client", name="switches_version"),
    ]
