"""What a running process needs: its settings, its database, its object store and its publisher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from storage.db import Database
from storage.objects import ObjectStore
from storage.settings import Settings
from storage.stores import build_object_store

# The key under which every session of a runtime's database finds the runtime's post-commit hook
# (``workflows.outbox`` calls it after a commit that wrote outbox rows).
OUTBOX_COMMIT_HOOK = "kinderflow_after_outbox_commit"


class Publisher(Protocol):
    """How this process hands tasks to whatever runs them (the workers install one; see
    ``workers.relay``): Celery's broker in full mode, the in-process runner in embedded mode."""

    def send(self, name: str, payload: dict[str, Any]) -> object:
        """Hand the task ``name`` with keyword arguments ``payload`` to the task runner."""
        ...

    def after_commit(self) -> None:
        """Relay the outbox after a commit that wrote outbox rows; must not raise."""
        ...


@dataclass
class Runtime:
    settings: Settings
    db: Database
    objects: ObjectStore
    # None: outbox rows committed now wait for a relay (a later publisher, beat, the reconciler).
    publisher: Publisher | None = field(default=None, compare=False, repr=False)

    def install_publisher(self, publisher: Publisher) -> None:
        """From now on, commits of this runtime's sessions that wrote outbox rows call ``publisher``."""
        self.publisher = publisher
        # Every session the database makes from now on carries the hook (sessions are per request),
        # reading ones too: a reading request that writes (a signature) may write outbox rows.
        for maker in (self.db.sessionmaker, self.db.reading_sessionmaker):
            maker.configure(info={OUTBOX_COMMIT_HOOK: self._after_outbox_commit})

    def uninstall_publisher(self) -> None:
        """Stop relaying after commits (shutdown, tests); rows written from now on wait for a relay."""
        self.publisher = None
        for maker in (self.db.sessionmaker, self.db.reading_sessionmaker):
            info = maker.kw.get("info")
            if info is not None and info.get(OUTBOX_COMMIT_HOOK) == self._after_outbox_commit:
                del info[OUTBOX_COMMIT_HOOK]

    def _after_outbox_commit(self) -> None:
        publisher = self.publisher
        if publisher is not None:
            publisher.after_commit()

    def close(self) -> None:
        self.db.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Connect to the configured database and object store (no I/O until first use)."""
    return Runtime(settings=settings, db=Database(settings.database_url), objects=build_object_store(settings))
