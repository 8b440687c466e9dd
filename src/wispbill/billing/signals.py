"""What billing tells the apps above it, without importing them."""

from django.dispatch import Signal

# Sent inside the transaction that registers payments: once with `payments` (the list) and
# `actor`, for receivers that act on many at once (the receipts); then per payment with
# `payment` and `actor`.
payments_registered = Signal()
payment_registered = Signal()

# Sent before each batch of the daily run's bulk rules acts, outside its transaction, with
# `task` ("invoices", "notices", "cuts", "reactivations") and `ids` (the clients the run read
# for it): whatever commits now, the batch decides on (tests commit a payment here).
run_batch_starting = Signal()
