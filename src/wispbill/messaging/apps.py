from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "wispbill.messaging"
    label = "messaging"

    def ready(self) -> None:
        from wispbill.billing.signals import payments_registered
        from wispbill.cfdi.signals import cfdi_stamped
        from wispbill.messaging.receivers import late_cfdi, payment_receipts

        payments_registered.connect(payment_receipts, dispatch_uid="messaging.payment_receipts")
        cfdi_stamped.connect(late_cfdi, dispatch_uid="messaging.late_cfdi")
