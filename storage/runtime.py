"""What a running process needs: its settings, its database and its object store."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database
from storage.objects import ObjectStore
from storage.settings import Settings
from storage.stores import build_object_store


@dataclass
class Runtime:
    settings: Settings
    db: Database
    objects: ObjectStore

    def close(self) -> None:
        self.db.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Connect to the configured database and object store (no I/O until first use)."""
    return Runtime(settings=settings, db=Database(settings.database_url), objects=build_object_store(settings))
