from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "wispbill.audit"
    label = "audit"
