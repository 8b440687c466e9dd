"""What the clients app announces to the apps above it (connected in their AppConfig.ready)."""

from django.dispatch import Signal

# Staff gave a suspended client its service back by hand (the edit form or the reactivate
# action): the debts overdue now are not cut for again. Sent with `client`, inside the
# transaction of the change.
reactivated_by_hand = Signal()
