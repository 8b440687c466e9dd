"""What the CFDI queue tells the apps above it."""

from django.dispatch import Signal

# A document got SAT's stamp (sent with `document`), after its row was saved.
cfdi_stamped = Signal()
