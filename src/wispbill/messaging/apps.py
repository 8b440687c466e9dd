from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "wispbill.messaging"
    label = "messaging"

    def ready(self) -> None:
        from wispbill.billing.signals import payment_registered
        from wispbill.messaging.receivers import payment_receipt

        payment_registered.connect(payment_receipt, dispatch_uid="messaging.payment_receipt")
