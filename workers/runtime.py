"""The runtime tasks use: built once from the settings, or set by the embedded runner and tests."""

from __future__ import annotations

from functools import lru_cache

from storage.runtime import Runtime, build_runtime
from storage.settings import get_settings

_override: Runtime | None = None


@lru_cache(maxsize=1)
def _from_settings() -> Runtime:
    return build_runtime(get_settings())


def get_runtime() -> Runtime:
    """The runtime of this process: the one given to ``set_runtime``, else built once from settings."""
    return _override if _override is not None else _from_settings()


def set_runtime(runtime: Runtime | None) -> None:
    """Make tasks in this process use ``runtime`` (None: back to the one built from settings)."""
    global _override
    _override = runtime


def forget_inherited_connections() -> None:
    """After a fork: drop pooled connections copied from the parent without closing them."""
    if _from_settings.cache_info().currsize:
        # close=False: the parent still owns those sockets; closing them here would break it.
        _from_settings().db.engine.dispose(close=False)
