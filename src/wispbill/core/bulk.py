"""Python's cycle collector during bulk work.

The daily run holds a hundred thousand rows in memory while it writes them. With the default
thresholds, the collector scans that growing heap again and again (a sixth of the run's time
at 100,000 clients); the rows are tuples that form no cycle, so there is nothing for it to
find. Within `bulk_work` the young generation is collected every 100,000 new objects instead
of every 700, and full collections are rarer; memory held by true cycles is still freed, and
the thresholds come back when the last bulk work of the process ends (a task consumer's
threads may run two parts of a day at once, and the thresholds are the process's).
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLDS = (100_000, 50, 100)
_lock = threading.Lock()
_running = 0
_before: tuple[int, ...] = ()


@contextmanager
def bulk_work() -> Iterator[None]:
    global _running, _before
    with _lock:
        if not _running:
            _before = gc.get_threshold()
            gc.set_threshold(*BULK_THRESHOLDS)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if not _running:
                gc.set_threshold(*_before)
