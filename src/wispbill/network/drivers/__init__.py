"""Router drivers, by the name a router's `enforcement` gives."""

from wispbill.network.drivers.base import Driver, DriverError
from wispbill.network.drivers.mikrotik import MikrotikDriver
from wispbill.network.drivers.none import NoDriver
from wispbill.network.models import Enforcement

REGISTRY: dict[str, type[Driver]] = {
    Enforcement.MIKROTIK: MikrotikDriver,
    Enforcement.NONE: NoDriver,
}


def driver_for(router) -> Driver:
    try:
        return REGISTRY[router.enforcement](router)
    except KeyError:
        raise DriverError(f"no driver for enforcement {router.enforcement!r}") from None


__all__ = ["Driver", "DriverError", "REGISTRY", "driver_for"]
