"""Channel deliveries: ``channels.deliver`` (started by the outbox) and ``channels.retry_due`` (the sweep).

Full mode: Celery beat runs the sweep every minute (``channels-retry-due`` in ``workers.celery_config``), so a failed delivery is retried once its backoff
has passed. Embedded mode has no beat: a failed delivery arms a timer that hands it back to the
in-process runner when it is due.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime

from storage.db import utcnow
from workers.registry import task
from workers.runtime import get_runtime
from workflows.channels import service

logger = logging.getLogger(__name__)

DELIVER = service.DELIVER_TOPIC
RETRY_DUE = "channels.retry_due"
SWEEP_SECONDS = 60.0


@task(name=DELIVER)
def deliver(delivery_id: str) -> str | None:
    """Send one channel delivery if it is due; idempotent. Returns its state afterwards."""
    runtime = get_runtime()
    outcome = service.deliver(db=runtime.db, settings=runtime.settings, delivery_id=uuid.UUID(delivery_id))
    if outcome is None:
        return None
    if outcome.attempted and outcome.next_attempt_at is not None and runtime.settings.embedded:
        _retry_in_process(delivery_id, outcome.next_attempt_at)
    return outcome.state.value


@task(name=RETRY_DUE)
def retry_due() -> int:
    """Send every delivery whose retry is due; returns how many went out."""
    runtime = get_runtime()
    return service.retry_due(db=runtime.db, settings=runtime.settings)


def _retry_in_process(delivery_id: str, due: datetime) -> None:
    """Embedded mode: send the delivery again to this process's runner when it is due."""
    runtime = get_runtime()

    def resubmit() -> None:
        publisher = runtime.publisher
        if publisher is None:
            return  # the app stopped; the delivery stays due for the next start's sweep
        try:
            publisher.send(DELIVER, {"delivery_id": delivery_id})
        except Exception:  # noqa: BLE001 - any failure leaves the row for the retry sweep
            logger.warning("channel delivery %s not resubmitted (runner closed)", delivery_id)

    timer = threading.Timer(max((due - utcnow()).total_seconds(), 0.0), resubmit)
    timer.daemon = True
    timer.start()
