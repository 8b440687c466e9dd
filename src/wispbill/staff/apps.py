from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "wispbill.staff"
    label = "staff"
