"""The task queue's storage across versions: on Redis the queue became a priority queue (a
sorted set where it was a list, under the same key), so the tasks an older version left queued
are moved into it, oldest first, when the database is migrated (the upgrade's step, and
`wispbill serve`'s start): none is lost, and nothing fails on the key's old type."""

import logging
import struct
import time
from typing import Any

from huey.storage import PriorityRedisStorage
from redis import RedisError

logger = logging.getLogger(__name__)


def redis_queue_to_priority(storage: Any) -> int:
    """Move an older version's list of queued tasks into the priority queue; returns how many.
    Run while nothing else uses the queue (the upgrade stops every process first)."""
    if not isinstance(storage, PriorityRedisStorage):
        return 0
    conn, key = storage.conn, storage.queue_key
    if conn.type(key) != b"list":
        return 0
    pending = conn.lrange(key, 0, -1)[::-1]  # the list takes new tasks on its left
    start = int(time.time() * 1e6)
    with conn.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        for n, data in enumerate(pending):
            # Priority 0, in the old order: the storage's own encoding of a queued task.
            pipe.zadd(key, {struct.pack(">Q", start + n) + data: 0})
        pipe.execute()
    return len(pending)


def queue_upgrade(**kwargs: Any) -> None:
    """post_migrate: the queue of this installation, once per migration."""
    from huey.contrib.djhuey import HUEY

    try:
        redis_queue_to_priority(HUEY.storage)
    except RedisError as exc:
        # Migrating does not need Redis; the queue is moved at the next migrate.
        logger.warning("the task queue could not be checked: %s", type(exc).__name__)
