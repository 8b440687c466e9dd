from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "wispbill.clients"
    label = "clients"
