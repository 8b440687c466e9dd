from django.apps import AppConfig


class RadiusConfig(AppConfig):
    name = "wispbill.radius"
    label = "radius"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, post_save, pre_migrate

        from wispbill.clients.models import Client
        from wispbill.network.signals import router_settings_changed
        from wispbill.radius.credentials import on_client_saved, on_router_settings_changed
        from wispbill.radius.schema import create_view, drop_view

        post_save.connect(on_client_saved, sender=Client, dispatch_uid="radius.credential")
        router_settings_changed.connect(
            on_router_settings_changed, dispatch_uid="radius.credentials"
        )
        pre_migrate.connect(drop_view, sender=self, dispatch_uid="radius.drop_view")
        post_migrate.connect(create_view, sender=self, dispatch_uid="radius.create_view")
