"""What billing tells the apps above it, without importing them."""

from django.dispatch import Signal

# Sent inside the transaction that registers a payment, with `payment` and `actor`.
payment_registered = Signal()
