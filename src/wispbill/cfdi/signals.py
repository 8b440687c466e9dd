"""What the CFDI queue tells the apps above it."""

from django.dispatch import Signal

# Documents got SAT's stamp (sent with `documents`, a list), after their rows were saved.
cfdi_stamped = Signal()
