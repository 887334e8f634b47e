"""Keeping Redis from handing a running task to a second worker, and capping redeliveries.

With the Redis transport an unacknowledged message sits in the ``unacked`` hash, scored in the
``unacked_index`` sorted set by the time it was delivered; any worker restores a message whose score
is older than the visibility timeout. The heartbeat here re-scores, every third of that timeout,
every message this worker still holds (running, reserved, or waiting for its retry countdown), so a
live worker's messages never come back however long the task runs, while a dead worker's come back
one visibility timeout after its last heartbeat. See ``workers.app`` for the numbers.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache
from typing import Any

import redis
from celery import current_task

logger = logging.getLogger(__name__)

# A message redelivered this many times (its worker died each time) is given up: a poison message
# must not kill workers forever. The outbox reconciler may send it again later, within its own cap.
MAX_REDELIVERIES = 3
_DELIVERY_COUNT_TTL = 24 * 3600


class VisibilityHeartbeat(threading.Thread):
    """Re-scores the ``unacked_index`` entries of the messages ``consumer`` holds, every ``interval`` s."""

    def __init__(self, consumer: Any, broker_url: str, interval: float) -> None:
        super().__init__(name="kinderflow-visibility", daemon=True)
        self.consumer = consumer
        self.interval = interval
        self._client = redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5)
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - a missed beat only risks a duplicate run
                logger.warning("visibility heartbeat failed: %s", exc)

    def stop(self) -> None:
        self._stopped.set()

    def beat(self) -> int:
        """Refresh the score of every message this worker holds unacknowledged; returns how many."""
        channel = getattr(getattr(self.consumer, "task_consumer", None), "channel", None)
        qos = getattr(channel, "qos", None)
        if channel is None or qos is None:
            return 0  # reconnecting: nothing is held
        for _ in range(3):
            try:
                # Read from the event loop's thread without a lock: retry if it changed meanwhile.
                tags = [tag for tag in list(qos._delivered) if tag not in qos._dirty]
                break
            except RuntimeError:
                continue
        else:
            return 0
        if not tags:
            return 0
        key = f"{getattr(channel, 'global_keyprefix', '') or ''}{channel.unacked_index_key}"
        now = time.time()
        # XX: only re-score; a message acknowledged meanwhile must not come back.
        self._client.zadd(key, dict.fromkeys(tags, now), xx=True)
        return len(tags)


@lru_cache(maxsize=4)
def _counter(broker_url: str) -> redis.Redis:
    return redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5)


def redelivery_allowed(task_name: str) -> bool:
    """False when the current Celery message was redelivered more than MAX_REDELIVERIES times."""
    task = current_task
    request = getattr(task, "request", None)
    if request is None or request.called_directly or not request.id:
        return True  # embedded runner or a direct call
    if not (request.delivery_info or {}).get("redelivered"):
        return True
    broker_url = task.app.conf.broker_url
    if not str(broker_url).startswith("redis"):
        return True
    key = f"kinderflow:redeliveries:{request.id}:{request.retries or 0}"
    try:
        client = _counter(broker_url)
        count = int(client.incr(key))
        client.expire(key, _DELIVERY_COUNT_TTL)
    except redis.RedisError as exc:
        logger.warning("cannot count redeliveries of %s: %s", request.id, exc)
        return True
    if count > MAX_REDELIVERIES:
        logger.error(
            "task %s (%s) given up: redelivered %d times, its worker died every time", task_name, request.id, count
        )
        return False
    return True
