"""An upgrade from the list queue on Redis to the priority queue keeps every queued task, in
order, and the router push queued after them still goes first."""

import pytest
import redis
from huey import PriorityRedisHuey, RedisHuey

from wispbill.ops.queue import redis_queue_to_priority

REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def store():
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


def test_tasks_an_older_version_left_queued_move_into_the_priority_queue(store):
    old = RedisHuey("wispbill", url=REDIS_URL)
    for n in range(3):
        old.storage.enqueue(f"task-{n}".encode())
    new = PriorityRedisHuey("wispbill", url=REDIS_URL)
    with pytest.raises(redis.ResponseError):  # what the new version would meet
        new.storage.enqueue(b"push", priority=10)

    assert redis_queue_to_priority(new.storage) == 3
    assert redis_queue_to_priority(new.storage) == 0  # once
    assert redis_queue_to_priority(old.storage) == 0  # not a priority queue: left alone
    new.storage.enqueue(b"push", priority=10)
    taken = [new.storage.dequeue() for _ in range(4)]
    assert taken == [b"push", b"task-0", b"task-1", b"task-2"]
    assert new.storage.dequeue() is None
