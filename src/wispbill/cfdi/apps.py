from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CfdiConfig(AppConfig):
    name = "wispbill.cfdi"
    verbose_name = _("Electronic invoicing (CFDI)")

    def ready(self) -> None:
        from wispbill.billing.signals import payment_registered
        from wispbill.cfdi.receivers import payment_documents

        payment_registered.connect(payment_documents, dispatch_uid="cfdi.payment_documents")
