from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The leaf every other app stands on: value types, model mixins, the company's settings
    and the business clock. It imports no other app of wispbill."""

    name = "wispbill.core"
    verbose_name = _("Core")
