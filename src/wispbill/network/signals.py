"""What the network app announces to the apps above it (connected in their AppConfig.ready)."""

from django.dispatch import Signal

# A router's connection, lists or enforcement changed: what it holds must be pushed again.
# Sent with `router_ids` (a set), inside the transaction of the change.
router_settings_changed = Signal()
