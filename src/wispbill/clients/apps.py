from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "wispbill.clients"
    label = "clients"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, post_save

        from wispbill.clients.enforcement import on_router_settings_changed
        from wispbill.clients.models import Client
        from wispbill.clients.references import on_client_saved
        from wispbill.clients.search import on_post_migrate
        from wispbill.network.signals import router_settings_changed

        router_settings_changed.connect(on_router_settings_changed, dispatch_uid="clients.push")
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="clients.search")
        post_save.connect(on_client_saved, sender=Client, dispatch_uid="clients.reference")
