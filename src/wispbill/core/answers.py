"""What a service hands back for a higher layer to fill in and show."""

from typing import Any, Protocol


class Answer(Protocol):
    """Something an API answer or a template shows as a dict: the next invoice of a client
    being imported, which billing (a layer above the import) works out."""

    def as_dict(self) -> dict[str, Any]: ...
