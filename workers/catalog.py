"""Every module that holds tasks: importing this one records them all in ``workers.registry``.

The Celery app (``workers.app``) and the in-process wiring (``workers.wiring``) import it; task
modules never import it (nor the Celery app), so nothing here imports back.
"""

from __future__ import annotations

from workers import agreement_tasks, channel_tasks, document_tasks, maintenance, relay, tasks, text_tasks

# What a worker imports at start-up (Celery's ``include``); the imports above already did.
TASK_MODULES: list[str] = [
    module.__name__
    for module in (tasks, agreement_tasks, channel_tasks, document_tasks, text_tasks, relay, maintenance)
]
