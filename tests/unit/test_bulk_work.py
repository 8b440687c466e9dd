"""The cycle collector's thresholds during bulk work, and after it, even when two bulk works
of one process overlap (a consumer's threads running two parts of a day)."""

import gc

from wispbill.core.bulk import BULK_THRESHOLDS, bulk_work


def test_overlapping_bulk_work_restores_the_thresholds_once_both_end():
    before = gc.get_threshold()
    first, second = bulk_work(), bulk_work()
    first.__enter__()
    assert gc.get_threshold() == BULK_THRESHOLDS
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert gc.get_threshold() == BULK_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_bulk_work_restores_the_thresholds_after_an_error():
    before = gc.get_threshold()
    try:
        with bulk_work():
            raise ValueError("a failing run")
    except ValueError:
        pass
    assert gc.get_threshold() == before
