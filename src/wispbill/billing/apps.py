from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wispbill.billing"
    label = "billing"
