"""Work stuck in a non-final state, found by each area and asked for again through the outbox.

The outbox reconciler (``workers.reconcile``) already re-sends every outbox row whose tasks left no
receipt. Some work is not started by an outbox row, or is tracked by a state of its own (an archive
bundle ``requested`` or ``building``); an area registers a finder for it here. A finder returns the
outbox topics and payloads that would move its stuck records on; the tasks behind them must be
idempotent, since the record may only be slow, not stuck.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

# finder(session, cutoff) -> (topic, payload) for every record of the area stuck since before cutoff.
StuckFinder = Callable[[Session, datetime], Iterable[tuple[str, dict[str, Any]]]]

_finders: dict[str, StuckFinder] = {}


def register_stuck_work(name: str, finder: StuckFinder) -> None:
    """Let the reconciler re-drive an area's records that sit in a non-final state too long."""
    _finders[name] = finder


def stuck_work_finders() -> dict[str, StuckFinder]:
    """Every registered finder, by name."""
    return dict(_finders)
