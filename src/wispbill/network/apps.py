from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "wispbill.network"
    label = "network"
