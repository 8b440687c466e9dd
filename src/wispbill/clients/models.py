import ipaddress
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, Count, F, Func, Q, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from wispbill.core.clock import today, validate_first_day
from wispbill.core.fiscal import (
    CFDI_USE_CHOICES,
    DEFAULT_CFDI_USE,
    REGIME_CHOICES,
    fiscal_data_errors,
    validate_postal_code,
)
from wispbill.core.models import (
    MASS_FIELDS,
    NameTakenMessage,
    ScheduleFields,
    SwitchFields,
    folded,
    rfc_field,
    schedule_constraints,
)
from wispbill.core.sat_catalogs import validate_sat_product_key, validate_sat_unit_key
from wispbill.core.schedule import BillingSchedule
from wispbill.core.secrets import decrypt, encrypt
from wispbill.core.switches import TASKS, Switches, Task
from wispbill.core.wire import validate_one_line

# Addresses no client can have, and why: the server's own, nobody's, everybody's.
NOT_A_CLIENT_IP = [
    (ipaddress.ip_network("0.0.0.0/8"), _('it means "this network" (0.0.0.0/8), not a device')),
    (
        ipaddress.ip_network("127.0.0.0/8"),
        _("it is a loopback address (127.x.x.x): the server itself"),
    ),
    (
        ipaddress.ip_network("169.254.0.0/16"),
        _("it is a link-local address (169.254.x.x), never routed"),
    ),
    (
        ipaddress.ip_network("224.0.0.0/4"),
        _("it is a multicast address (224.0.0.0 to 239.255.255.255)"),
    ),
    (ipaddress.ip_network("255.255.255.255/32"), _("it is the broadcast address")),
    (ipaddress.ip_network("240.0.0.0/4"), _("it is a reserved address (240.0.0.0 and above)")),
]


def validate_client_ip(value) -> None:
    """A client's IP is one a router can route to a customer: not loopback, unspecified,
    link-local, multicast, broadcast or reserved. (A client on 127.0.0.1 would make the
    server's own requests look like that client's.)"""
    try:
        address = ipaddress.IPv4Address(str(value))
    except ValueError:
        return  # the field's own validator says it is not an IPv4 address
    for network, why in NOT_A_CLIENT_IP:
        if address in network:
            raise ValidationError(
                _("%(ip)s cannot be a client's address: %(why)s."),
                code="not_a_client_ip",
                params={"ip": value, "why": why},
            )


class Plan(NameTakenMessage, models.Model):
    name_taken = gettext_noop("There is already a plan called «%(name)s».")
    name = models.CharField(_("name"), max_length=100, unique=True)
    price = models.DecimalField(
        _("monthly price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    download_kbps = models.PositiveIntegerField(_("download (kbps)"))
    upload_kbps = models.PositiveIntegerField(_("upload (kbps)"))
    # What a CFDI says the plan is: SAT's c_ClaveProdServ (81112100: internet services) and
    # c_ClaveUnidad (E48: a unit of service).
    sat_product_key = models.CharField(
        _("SAT product key"),
        max_length=8,
        default="81112100",
        validators=[RegexValidator(r"^\d{8}$", _("SAT's product key has 8 digits."))],
    )
    sat_unit_key = models.CharField(
        _("SAT unit key"),
        max_length=3,
        default="E48",
        validators=[RegexValidator(r"^[A-Z0-9]{2,3}$", _("SAT's unit key: 2 or 3 capitals."))],
    )

    class Meta:
        ordering = ["price", "name"]
        verbose_name = _("plan")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """SAT's keys in SAT's catalogs, not only of the right shape: a PAC refuses others."""
        errors = {}
        for name, check in (
            ("sat_product_key", validate_sat_product_key),
            ("sat_unit_key", validate_sat_unit_key),
        ):
            try:
                check(getattr(self, name))
            except ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)


class ClientState(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    # Instead of a cut: a slow connection that still reaches the notice and client pages.
    THROTTLED = "throttled", _("Reduced speed")
    CANCELLED = "cancelled", _("Cancelled")
    FREE = "free", _("Free")


# The only state changes allowed (django-oscar's pipeline): anything else is refused.
TRANSITIONS: dict[str, set[str]] = {
    ClientState.ACTIVE: {
        ClientState.SUSPENDED,
        ClientState.THROTTLED,
        ClientState.CANCELLED,
        ClientState.FREE,
    },
    ClientState.SUSPENDED: {ClientState.ACTIVE, ClientState.CANCELLED},
    ClientState.THROTTLED: {ClientState.ACTIVE, ClientState.SUSPENDED, ClientState.CANCELLED},
    ClientState.CANCELLED: {ClientState.ACTIVE},
    ClientState.FREE: {ClientState.ACTIVE, ClientState.CANCELLED},
}


def transition_check(before: str, after: str) -> None:
    """Refuse, with a clear message, a state change the pipeline does not allow (one client's
    or a whole group's: `clients.services.states`)."""
    if after != before and after not in TRANSITIONS.get(before, ()):
        raise ValidationError(
            {
                "state": [
                    gettext("A client cannot go from %(old)s to %(new)s.")
                    % {
                        "old": ClientState(before).label.lower(),
                        "new": ClientState(after).label.lower(),
                    }
                ]
            }
        )


# A client whose service is cut or slowed down for its debt: what payment, promise and
# reactivation end.
RESTRICTED = (ClientState.SUSPENDED, ClientState.THROTTLED)
# A client that still has a service (at reduced speed, a slow one): it can be warned, billed,
# and can dismiss its notice.
WITH_SERVICE = (ClientState.ACTIVE, ClientState.THROTTLED)


class SuspensionReason(models.TextChoices):
    """Why a suspended or throttled client is: the automatic cut (or throttle) is undone by
    payment, a manual one only by hand."""

    AUTOMATIC = "automatic", _("Automatic cut")
    MANUAL = "manual", _("Manual cut")
    # An automatic cut the operator chose to keep: a payment registered without reactivation.
    HELD = "held", _("Kept cut after a payment")


class BillingType(models.TextChoices):
    ZONE = "zone", _("Zone billing")
    OWN = "own", _("Own billing")


class Access(models.TextChoices):
    STATIC = "static", _("Static IP")
    PPPOE = "pppoe", _("PPPoE")


class PromiseEndReason(models.TextChoices):
    REPLACED = "replaced", _("Replaced by a new promise")
    PAID = "paid", _("Debt paid")


class ClientQuerySet(models.QuerySet["Client"]):
    """The rules of which switches, schedule and cut govern a client, for many clients at
    once in SQL: its own for own billing, its zone's otherwise (the single-row forms are the
    `Client` properties of the same names)."""

    def _governing(self, field: str) -> Case:
        return Case(When(billing_type=BillingType.OWN, then=F(field)), default=F(f"zone__{field}"))

    def with_effective_switches(self) -> "ClientQuerySet":
        """Annotate `eff_invoices`, `eff_notices`, `eff_cuts`, for lists and sweeps."""
        return self.annotate(
            **{f"eff_{task}": self._governing(MASS_FIELDS[task]) for task in TASKS}
        )

    def with_cut_action(self) -> "ClientQuerySet":
        """Annotate `eff_cut_action` and `eff_throttle_kbps`, for the cut and the routers."""
        return self.annotate(
            **{
                f"eff_{column}": self._governing(column)
                for column in ("cut_action", "throttle_kbps")
            }
        )

    def governed_by(self, task: Task, enabled: bool = True) -> "ClientQuerySet":
        """The clients whose governing switch for `task` is `enabled`."""
        column = MASS_FIELDS[task]
        return self.filter(
            Q(billing_type=BillingType.OWN, **{column: enabled})
            | Q(billing_type=BillingType.ZONE, **{f"zone__{column}": enabled})
        )

    def tasks_off(self) -> dict[str, int]:
        """Per task, how many clients have it switched off by the switches that govern them;
        one query."""
        return self.with_effective_switches().aggregate(
            **{task: Count("id", filter=Q(**{f"eff_{task}": False})) for task in TASKS}
        )


class Client(ScheduleFields, SwitchFields):
    """A client's service: where it is, what it pays, and how it is billed."""

    objects = ClientQuerySet.as_manager()

    # Its simple queue on the router is named after it: one line.
    name = models.CharField(_("name"), max_length=200, validators=[validate_one_line])
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # None only for a PPPoE client whose zone or router has a pool: its address is the one
    # the router gives it from the pool, read live from /ppp/active.
    ip = models.GenericIPAddressField(
        _("IP address"),
        protocol="IPv4",
        unique=True,
        null=True,
        blank=True,
        validators=[validate_client_ip],
    )
    access = models.CharField(
        _("access"), max_length=6, choices=Access.choices, default=Access.STATIC
    )
    # Unique per router (checked by the client service: the router is the zone's).
    pppoe_username = models.CharField(
        _("PPPoE username"), max_length=64, blank=True, validators=[validate_one_line]
    )
    pppoe_password_encrypted = models.TextField(blank=True, editable=False)
    # Not a column: the password wispbill made up, in the clear, on the instance the service
    # that made it returns, so it is shown once to whoever asked (only its encrypted form is kept).
    pppoe_password_generated: str | None = None
    zone = models.ForeignKey(
        "network.Zone", on_delete=models.PROTECT, related_name="clients", verbose_name=_("zone")
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="clients", verbose_name=_("plan")
    )
    start_date = models.DateField(
        _("service start"), default=today, validators=[validate_first_day]
    )
    # What the client paid for before wispbill (to the ISP or system it was imported from):
    # no cycle whose period ends on or before this day is invoiced automatically.
    paid_until = models.DateField(
        _("paid until"), null=True, blank=True, validators=[validate_first_day]
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ClientState.choices, default=ClientState.ACTIVE
    )
    billing_type = models.CharField(
        _("billing type"), max_length=4, choices=BillingType.choices, default=BillingType.ZONE
    )
    auto_activate_on_payment = models.BooleanField(_("reactivate on payment"), default=True)
    # The language of the messages, documents and pages the client itself reads.
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    notice_active = models.BooleanField(_("notice shown"), default=False, editable=False)
    # The day the client pressed "Understood, keep browsing" on its notice page: its router
    # stops sending it to the notice for the rest of that day (the daily run clears it).
    notice_dismissed_on = models.DateField(
        _("notice dismissed on"), null=True, blank=True, editable=False
    )
    promise_until = models.DateField(
        _("payment promise until"), null=True, blank=True, editable=False
    )
    credit = models.DecimalField(
        _("credit"), max_digits=12, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    suspension_reason = models.CharField(
        max_length=10, choices=SuspensionReason.choices, blank=True, editable=False
    )
    # The business days of the last cut and the last reactivation: what the invoice task
    # needs to bill fairly a cycle whose invoice date came while the client was cut.
    suspended_on = models.DateField(null=True, blank=True, editable=False)
    reactivated_on = models.DateField(null=True, blank=True, editable=False)
    # Every link to the client's own page carries the revision it was made at: raising it
    # (staff revoke the links, or the client is cancelled) makes all of them stop working.
    portal_links_revision = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the client writes in a bank transfer (SPEI's numeric reference) so the statement
    # line finds it: 7 digits from its id, the last a check digit (core.bank); never changes.
    payment_reference = models.CharField(
        _("payment reference"), max_length=7, unique=True, null=True, editable=False
    )
    # Fiscal data, for a client that asks for its own CFDI (factura): with an RFC, the other
    # fiscal fields are needed; without one, its payments go into the global CFDI.
    rfc = rfc_field()
    fiscal_name = models.CharField(
        _("fiscal name"), max_length=300, blank=True, validators=[validate_one_line]
    )
    fiscal_regime = models.CharField(
        _("tax regime"), max_length=3, blank=True, choices=REGIME_CHOICES
    )
    fiscal_postal_code = models.CharField(
        _("fiscal postal code"), max_length=5, blank=True, validators=[validate_postal_code]
    )
    cfdi_use = models.CharField(
        _("CFDI use"), max_length=4, default=DEFAULT_CFDI_USE, blank=True, choices=CFDI_USE_CHOICES
    )
    # What the clients list searches: kept by the database itself, folded (see core.fold).
    search_text = models.GeneratedField(
        expression=folded(
            # A flat `a || ' ' || b …` (these columns are never NULL): Concat() nests one
            # function per field, deeper than SQLite's parser takes with the folding around it.
            Func(
                "name",
                "email",
                "phone",
                "address",
                Coalesce(Cast("ip", models.TextField()), Value("")),
                template="(%(expressions)s)",
                arg_joiner=" || ' ' || ",
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("client")
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["zone", "billing_type", "state"]),
            # Finding a username on a router, for the check that keeps it unique there.
            models.Index(
                fields=["pppoe_username"],
                condition=models.Q(access=Access.PPPOE),
                name="client_pppoe_username",
            ),
            # The states that are few (cut, throttled, cancelled, free): a partial index, so
            # the planner never walks it for the many active clients.
            models.Index(
                fields=["state"],
                condition=~models.Q(state=ClientState.ACTIVE),
                name="client_not_active",
            ),
        ]
        constraints = [
            *schedule_constraints("client", required=False),
            models.CheckConstraint(condition=models.Q(credit__gte=0), name="client_credit_valid"),
            models.CheckConstraint(
                condition=models.Q(access=Access.STATIC, pppoe_username="")
                | (models.Q(access=Access.PPPOE) & ~models.Q(pppoe_username="")),
                name="client_pppoe_has_username",
            ),
            models.CheckConstraint(
                condition=models.Q(billing_type=BillingType.ZONE, billing_mode__isnull=True)
                | models.Q(billing_type=BillingType.OWN, billing_mode__isnull=False),
                name="client_own_billing_has_schedule",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def unique_error_message(self, model_class, unique_check):
        """The IP clash says who holds the address, so the operator knows where to look."""
        if unique_check == ("ip",):
            other = Client.objects.filter(ip=self.ip).exclude(pk=self.pk).first()
            if other is not None:
                text = (
                    gettext("Another client (%(name)s, cancelled) already has the IP %(ip)s.")
                    if other.state == ClientState.CANCELLED
                    else gettext("Another client (%(name)s) already has the IP %(ip)s.")
                )
                return ValidationError(text % {"name": other.name, "ip": self.ip}, code="unique")
        return super().unique_error_message(model_class, unique_check)

    def clean(self) -> None:
        """A client has an IP, unless it is a PPPoE client whose zone or router has a pool;
        a client with an RFC has all its fiscal data, and they fit together."""
        super().clean()
        self.fiscal_clean()
        self.ip = self.ip or None
        if self.ip or self.zone_id is None:
            return
        if self.access != Access.PPPOE:
            raise ValidationError({"ip": [gettext("A static client needs its IP address.")]})
        if not self.zone.effective_pppoe_pool:
            raise ValidationError(
                {
                    "ip": [
                        gettext(
                            "Give it an IP, or give its zone or router a PPPoE address pool "
                            "for it to take one from."
                        )
                    ]
                }
            )

    def fiscal_errors(self) -> dict[str, str]:
        """SAT's checks of the fiscal data as it is (core.fiscal.fiscal_data_errors)."""
        return fiscal_data_errors(
            rfc=self.rfc,
            name=self.fiscal_name,
            regime=self.fiscal_regime,
            postal_code=self.fiscal_postal_code,
            use=self.cfdi_use,
        )

    def fiscal_clean(self) -> None:
        self.rfc = (self.rfc or "").strip().upper()
        self.cfdi_use = self.cfdi_use or DEFAULT_CFDI_USE
        if not self.rfc:
            return
        errors = self.fiscal_errors()
        # The RFC's and the postal code's own checks are their fields' validators, which
        # full_clean runs before this: said once, there.
        errors.pop("rfc", None)
        errors.pop("postal_code", None)
        fields = {
            "name": "fiscal_name",
            "regime": "fiscal_regime",
            "postal_code": "fiscal_postal_code",
            "use": "cfdi_use",
        }
        if errors:
            raise ValidationError({fields[key]: [message] for key, message in errors.items()})

    @property
    def pppoe_password(self) -> str:
        return decrypt(self.pppoe_password_encrypted)

    @pppoe_password.setter
    def pppoe_password(self, value: str) -> None:
        self.pppoe_password_encrypted = encrypt(value) if value else ""

    @property
    def is_own_billing(self) -> bool:
        return self.billing_type == BillingType.OWN

    @property
    def effective_switches(self) -> Switches:
        """The switches that govern the client: its own for own billing, its zone's otherwise."""
        return self.switches if self.is_own_billing else self.zone.switches

    @property
    def governing_schedule(self) -> BillingSchedule:
        """The schedule that bills the client: its own for own billing, its zone's otherwise."""
        schedule = self.schedule if self.is_own_billing else self.zone.schedule
        if schedule is None:  # the database's checks keep every client from this
            raise ValueError(f"Client {self.pk} has no schedule to bill by.")
        return schedule

    @property
    def effective_cut_action(self) -> tuple[str, int]:
        """What the cut does to the client, and its reduced speed: its own schedule's for own
        billing, its zone's otherwise."""
        schedule = self.governing_schedule
        return schedule.cut_action, schedule.throttle_kbps

    def check_transition(self, to_state: str) -> None:
        """Refuse, with a clear message, a state change the pipeline does not allow."""
        transition_check(self.state, to_state)


class Promise(models.Model):
    """A payment promise: until its date the client is not cut."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="promises")
    until = models.DateField(_("until"))
    created_at = models.DateTimeField(auto_now_add=True)
    actor_name = models.CharField(max_length=150)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=PromiseEndReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.client_id} → {self.until}"
