from django.conf import settings
from django.db import models


class PanelPermission(models.Model):
    """Holds the product's own permissions; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        # The names are the English labels; the staff page shows CODENAMES' translations.
        permissions = [
            ("toggle_periodic_tasks", "Turn periodic tasks on and off"),
            ("run_periodic_tasks", "Run periodic tasks by hand"),
            ("manage_routers", "Manage routers and zones"),
            ("manage_plans", "Manage plans and prices"),
            ("manage_clients", "Manage clients"),
            ("register_payments", "Register payments and promises"),
            ("manage_invoices", "Create and cancel invoices"),
            ("cut_and_reactivate", "Cut, reactivate and manual notices"),
        ]

    def __str__(self) -> str:
        return "permissions"


class ApiKey(models.Model):
    """An API key of a staff user; only its hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"
