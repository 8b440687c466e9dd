from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, ParamSpec, TypeVar

from huey import Huey, Result

_P = ParamSpec("_P")
_R = TypeVar("_R")

HUEY: Huey

class TaskWrapper(Generic[_P, _R]):
    # Calling the wrapper queues the task and hands back its result handle.
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> Result: ...
    def call_local(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    def schedule(
        self,
        args: Iterable[Any] | None = ...,
        kwargs: Mapping[str, Any] | None = ...,
        eta: datetime | None = ...,
        delay: float | None = ...,
    ) -> Result: ...

class PeriodicTaskWrapper(TaskWrapper[_P, _R]): ...

def db_task(
    *, retries: int = ..., retry_delay: int = ..., priority: int | None = ..., **kwargs: Any
) -> Callable[[Callable[_P, _R]], TaskWrapper[_P, _R]]: ...
def db_periodic_task(
    validate_datetime: Callable[[Any], bool], *, retries: int = ..., **kwargs: Any
) -> Callable[[Callable[_P, _R]], PeriodicTaskWrapper[_P, _R]]: ...
def lock_task(lock_name: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]: ...
