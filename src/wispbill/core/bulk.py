"""Python's cycle collector during bulk work.

The daily run holds a hundred thousand rows in memory while it writes them. With the default
thresholds, the collector scans that growing heap again and again (a sixth of the run's time
at 100,000 clients); the rows are tuples that form no cycle, so there is nothing for it to
find. Within `bulk_work` the young generation is collected every 100,000 new objects instead
of every 700, and full collections are rarer; memory held by true cycles is still freed, and
the thresholds come back afterwards.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def bulk_work() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*BULK_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
