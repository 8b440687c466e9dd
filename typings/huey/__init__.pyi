# The part of huey (no types of its own) that wispbill uses: its task decorators keep the
# decorated function's signature, so calls that queue a task are checked like calls.
from collections.abc import Callable
from typing import Any

class Result:
    def get(self, blocking: bool = ..., timeout: float | None = ...) -> Any: ...

class Huey:
    storage: Any
    def flush(self) -> None: ...
    def pending_count(self) -> int: ...

class SqliteHuey(Huey): ...
class RedisHuey(Huey): ...
class PriorityRedisHuey(RedisHuey): ...

def crontab(
    minute: str = ...,
    hour: str = ...,
    day: str = ...,
    month: str = ...,
    day_of_week: str = ...,
    strict: bool = ...,
) -> Callable[[Any], bool]: ...
