from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "wispbill.clients"
    label = "clients"

    def ready(self) -> None:
        from wispbill.clients.enforcement import on_router_settings_changed
        from wispbill.network.signals import router_settings_changed

        router_settings_changed.connect(on_router_settings_changed, dispatch_uid="clients.push")
