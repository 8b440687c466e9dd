from wispbill.network.drivers.base import ApplyResult, Driver, ProvisioningResult
from wispbill.network.inventory import Inventory
from wispbill.network.provisioning import Provisioned


class NoDriver(Driver):
    """Routers that wispbill does not touch: the database is all there is."""

    def read_owned(self, lists):
        return []

    def apply(self, plan):
        return ApplyResult()

    def health(self):
        return {"driver": "none"}

    def read_rules(self):
        return []

    def add_rules(self, rules):
        pass

    def remove_rules(self, table, ids):
        pass

    def read_provisioning(self):
        return Provisioned()

    def apply_provisioning(self, plan):
        return ProvisioningResult()

    def drop_sessions(self, names):
        return ProvisioningResult()

    def read_session_addresses(self):
        return {}

    def read_inventory(self, lists):
        return Inventory()

    def adopt(self, adoptions):
        return ProvisioningResult()
