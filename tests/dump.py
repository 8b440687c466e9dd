"""The whole database as plain rows, to prove a refused request changed nothing."""

from django.apps import apps
from django.contrib.sessions.models import Session

from wispbill.staff.models import ApiKey

SKIP_TABLES = {Session, ApiKey}  # a login, a key's last use: not the request's doing


def database_dump() -> dict:
    """Every row of every table, by model."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model not in SKIP_TABLES
    }
