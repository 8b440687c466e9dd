import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TASKS = ("invoices", "notices", "cuts")


def forwards(apps, schema_editor):
    """What a mass update set, and each item's replaced values, become per-field maps; the
    version an item left behind becomes the revision of each field it changed (the rows'
    revisions start from their old version, so an undo decides as before)."""
    MassUpdate = apps.get_model("automation", "MassUpdate")
    MassUpdateItem = apps.get_model("automation", "MassUpdateItem")
    for mass_update in MassUpdate.objects.all():
        mass_update.values = {
            task: getattr(mass_update, task)
            for task in TASKS
            if getattr(mass_update, task) is not None
        }
        mass_update.save(update_fields=["values"])
    for item in MassUpdateItem.objects.all():
        before = {
            task: getattr(item, f"before_{task}")
            for task in TASKS
            if getattr(item, f"before_{task}") is not None
        }
        item.before = before
        item.revs = dict.fromkeys(before, item.version_after)
        item.save(update_fields=["before", "revs"])


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0005_company_settings_move_to_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="massupdate", name="values", field=models.JSONField(default=dict)
        ),
        migrations.AddField(
            model_name="massupdate",
            name="undo_result",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="massupdateitem", name="before", field=models.JSONField(default=dict)
        ),
        migrations.AddField(
            model_name="massupdateitem", name="revs", field=models.JSONField(default=dict)
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        *(
            migrations.RemoveField(model_name="massupdate", name=task)
            for task in ("cuts", "invoices", "notices")
        ),
        *(
            migrations.RemoveField(model_name="massupdateitem", name=f"before_{task}")
            for task in ("cuts", "invoices", "notices")
        ),
        migrations.RemoveField(model_name="massupdateitem", name="version_after"),
        migrations.AddField(
            model_name="manualrun",
            name="actor",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="manualrun",
            name="status",
            field=models.CharField(
                choices=[("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                default="running",
                max_length=8,
            ),
        ),
    ]
