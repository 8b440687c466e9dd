from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CfdiConfig(AppConfig):
    name = "wispbill.cfdi"
    verbose_name = _("Electronic invoicing (CFDI)")

    def ready(self) -> None:
        from wispbill.billing.signals import payments_registered
        from wispbill.cfdi.receivers import payments_documents

        payments_registered.connect(payments_documents, dispatch_uid="cfdi.payments_documents")
