"""What the routers' accounting does not say by itself: a session whose router went silent
(power lost, link down) sends no Stop, so it is closed when no Interim-Update came in time."""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from wispbill.radius.models import Session

# RouterOS sends an Interim-Update every `interim-update` (5 minutes, as the switch tells the
# operator to set it): three missed in a row and the session is taken as ended.
INTERIM = timedelta(minutes=5)
STALE_AFTER = 3 * INTERIM


def sessions_close_stale() -> int:
    """End the open sessions nothing was heard of for `STALE_AFTER`, at their last update.
    Returns how many."""
    return Session.objects.filter(
        stopped_at__isnull=True, updated_at__lt=timezone.now() - STALE_AFTER
    ).update(stopped_at=F("updated_at"))
