from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "wispbill.panel"
    label = "panel"
