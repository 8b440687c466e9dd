from typing import Any

class PriorityRedisStorage:
    conn: Any
    queue_key: str
