import itertools
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from wispbill.clients.models import Client, Plan
from wispbill.network.models import Router, Zone

_ips = (f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}" for n in itertools.count(1 << 8))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "secret-pass")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class RouterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Router

    name = factory.Sequence(lambda n: f"Router {n}")
    host = factory.Sequence(lambda n: f"192.0.2.{n % 250 + 1}")
    # Tests point routers at the emulator on loopback, as an administrator may allow.
    allow_local_host = factory.LazyAttribute(lambda router: router.host.startswith("127."))


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone

    router = factory.SubFactory(RouterFactory)
    name = factory.Sequence(lambda n: f"Zona día {n}")
    billing_mode = "prepaid"
    pay_day = 1
    invoice_lead_days = 7
    notice_offset_days = 2
    grace_days = 4


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    name = factory.Sequence(lambda n: f"Plan {n}")
    price = Decimal("399.00")
    download_kbps = 10_000
    upload_kbps = 2_000


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Cliente {n}")
    ip = factory.LazyFunction(lambda: next(_ips))
    zone = factory.SubFactory(ZoneFactory)
    plan = factory.SubFactory(PlanFactory)


class OwnClientFactory(ClientFactory):
    billing_type = "own"
    billing_mode = "postpaid"
    pay_day = 10
    invoice_lead_days = 5
    notice_offset_days = 1
    grace_days = 3
    cut_action = "suspend"
    throttle_kbps = 512


def grant(user, *codenames: str):
    """Give a staff member some of the product's permissions."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="staff", codename__in=codenames)
    )
    return user


def first_invoice_next_cycle():
    """The company bills a client from its first whole cycle (the `first_invoice` rule of the
    stories written before the first cycle was prorated by default)."""
    from wispbill.core.models import CompanySettings

    CompanySettings.objects.update_or_create(pk=1, defaults={"first_invoice": "next_cycle"})
