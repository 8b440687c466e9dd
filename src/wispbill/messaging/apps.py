from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "wispbill.messaging"
    label = "messaging"

    def ready(self) -> None:
        from wispbill.billing.signals import payments_registered
        from wispbill.messaging.receivers import payment_receipts

        payments_registered.connect(payment_receipts, dispatch_uid="messaging.payment_receipts")
