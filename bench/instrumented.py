"""Bench-only launchers for uvicorn: the project's app and the reference service, each instrumented.

``uvicorn --factory bench.instrumented:server`` (or ``:reference``) builds the app as usual and adds,
without touching the app's own code:

- a SQL statement counter: a ``before_cursor_execute`` listener on the app's engine, one running
  total for the process (every statement, whichever request or background task ran it);
- on every response, headers ``x-bench-cpu-ns`` (the process's CPU time so far, all threads, from
  ``time.process_time_ns``) and ``x-bench-sql`` (statements so far);
- ``GET /__bench/stamp``, which answers 204 with nothing but those headers.

The load client reads the stamps around a group of requests: the differences are that group's CPU
and statements in the API process, at nanosecond resolution (/proc counts in 10 ms ticks).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import FastAPI, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StatementCounter:
    def __init__(self) -> None:
        self.total = 0
        self._lock = threading.Lock()

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        with self._lock:
            self.total += 1


class Stamps:
    """ASGI middleware adding the CPU and statement stamps to every response's headers."""

    def __init__(self, app: ASGIApp, counter: StatementCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-bench-cpu-ns", str(time.process_time_ns()).encode()),
                    (b"x-bench-sql", str(self.counter.total).encode()),
                ]
            await send(message)

        await self.app(scope, receive, stamped)


def instrument(app: FastAPI, engine: Engine) -> FastAPI:
    counter = StatementCounter()
    counter.attach(engine)

    @app.get("/__bench/stamp", include_in_schema=False)
    async def stamp() -> Response:
        return Response(status_code=204)

    # The stamp route goes first: the app's own routes include catch-alls (pages, static files).
    app.router.routes.insert(0, app.router.routes.pop())
    app.add_middleware(Stamps, counter=counter)
    return app


def server() -> FastAPI:
    """The project's app (``api.main.create_app``), instrumented."""
    from api.main import create_app
    from storage.runtime import build_runtime
    from storage.settings import get_settings

    runtime = build_runtime(get_settings())
    return instrument(create_app(runtime=runtime), runtime.db.engine)


def reference() -> FastAPI:
    """The lean reference service (``bench.reference``), instrumented."""
    from bench import reference as lean

    app = lean.create_app()
    return instrument(app, app.state.engine)
