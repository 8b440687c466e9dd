from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "wispbill.billing"
    label = "billing"

    def ready(self) -> None:
        from wispbill.billing.debt import exempt_overdue_from_cut
        from wispbill.clients.signals import reactivated_by_hand

        reactivated_by_hand.connect(exempt_overdue_from_cut, dispatch_uid="billing.exempt")
