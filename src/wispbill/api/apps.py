from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "wispbill.api"
    label = "api"
