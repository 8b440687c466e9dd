from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "wispbill.automation"
    label = "automation"
