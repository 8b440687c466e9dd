from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running the product: the operator's commands (`wispbill <command>`, thin adapters over
    the services, at the top of the layers beside the panel and the API), backups and the data
    dir's files."""

    name = "wispbill.ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from wispbill.ops.queue import queue_upgrade

        post_migrate.connect(queue_upgrade, sender=self)
