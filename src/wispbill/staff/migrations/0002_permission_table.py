"""docs/contract.md's permission table: the eight permissions exist as soon as the database is
migrated (not only after post_migrate), and a staff user made before them keeps what it could
do: managing clients and registering payments."""

from django.db import migrations

PERMISSIONS = [
    ("toggle_periodic_tasks", "Turn periodic tasks on and off"),
    ("run_periodic_tasks", "Run periodic tasks by hand"),
    ("manage_routers", "Manage routers and zones"),
    ("manage_plans", "Manage plans and prices"),
    ("manage_clients", "Manage clients"),
    ("register_payments", "Register payments and promises"),
    ("manage_invoices", "Create and cancel invoices"),
    ("cut_and_reactivate", "Cut, reactivate and manual notices"),
]
KEPT = ("manage_clients", "register_payments")


def create_table(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    content_type, _created = ContentType.objects.get_or_create(
        app_label="staff", model="panelpermission"
    )
    for codename, name in PERMISSIONS:
        Permission.objects.update_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    kept = list(Permission.objects.filter(content_type=content_type, codename__in=KEPT))
    for user in User.objects.filter(is_staff=True, is_superuser=False):
        user.user_permissions.add(*kept)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="panelpermission",
            options={
                "default_permissions": (),
                "managed": False,
                "permissions": PERMISSIONS,
            },
        ),
        migrations.RunPython(create_table, migrations.RunPython.noop),
    ]
