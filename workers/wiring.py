"""Connecting a running API process to its task runner: in-process (embedded) or Celery (full)."""

from __future__ import annotations

from storage.runtime import Runtime
from workers.inline import InlineRunner
from workers.relay import install_publisher, uninstall_publisher

_runners: dict[int, InlineRunner] = {}


def start_publishing(runtime: Runtime) -> None:
    """Relay outbox rows after each commit: to a background thread here, or to the Celery broker."""
    if runtime.settings.embedded:
        runner = InlineRunner(runtime)
        _runners[id(runtime)] = runner
        install_publisher(runtime, runner)
    else:
        from workers.app import app

        install_publisher(runtime, app)


def stop_publishing(runtime: Runtime, timeout: float = 30.0) -> None:
    """Stop relaying and let the in-process runner finish what it started."""
    uninstall_publisher()
    runner = _runners.pop(id(runtime), None)
    if runner is not None:
        runner.close(timeout)


def runner_for(runtime: Runtime) -> InlineRunner | None:
    """The embedded runner of this runtime (tests use it to wait for background work)."""
    return _runners.get(id(runtime))
