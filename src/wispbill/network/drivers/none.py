from wispbill.network.drivers.base import ApplyResult, Driver


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
