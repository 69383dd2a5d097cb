"""Counting failures in a time window (wrong passwords); in memory, or in Redis when shared."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Limiter(Protocol):
    def hit(self, key: str, window_seconds: int) -> int: ...
    def count(self, key: str) -> int: ...
    def reset(self, key: str) -> None: ...
    def release(self, key: str) -> None:
        """Give one counted attempt back (it turned out to be a success)."""


class MemoryLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, list[float]] = {}
        self._windows: dict[str, int] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> list[float]:
        window = self._windows.get(key, 0)
        cutoff = time.monotonic() - window
        hits = [t for t in self._hits.get(key, []) if t > cutoff]
        self._hits[key] = hits
        return hits

    def hit(self, key: str, window_seconds: int) -> int:
        with self._lock:
            self._windows[key] = window_seconds
            hits = self._live(key)
            hits.append(time.monotonic())
            return len(hits)

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._live(key))

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def release(self, key: str) -> None:
        with self._lock:
            hits = self._live(key)
            if hits:
                hits.pop()


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "balie") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self.prefix = f"{prefix}:limit:"

    def hit(self, key: str, window_seconds: int) -> int:
        name = self.prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def count(self, key: str) -> int:
        value = self._redis.get(self.prefix + key)
        return int(value) if value else 0

    def reset(self, key: str) -> None:
        self._redis.delete(self.prefix + key)

    def release(self, key: str) -> None:
        self._redis.decr(self.prefix + key)


def make_limiter(redis_url: str | None, prefix: str = "balie") -> Limiter:
    return RedisLimiter(redis_url, prefix) if redis_url else MemoryLimiter()
