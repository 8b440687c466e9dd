from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "wispbill.staff"
    label = "staff"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from wispbill.staff.logins import record_failed_login

        # Connected after axes' handler (axes comes first in INSTALLED_APPS), whose verdict
        # on the attempt it reads.
        user_login_failed.connect(record_failed_login, dispatch_uid="wispbill.failed_login")
