from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "wispbill.portal"
    label = "portal"
