"""The route class of every API router: a plain (sync) endpoint costs one worker-thread trip, not three.

FastAPI runs a sync endpoint in a worker thread, then validates its answer against the response
model in a second trip, and the request's session (``api.deps.get_session``) commits in a third once
the endpoint has returned. Each trip costs about as much CPU as a short SQL statement. ``ApiRoute``
runs the three in one: the endpoint, the validation of what it returned, and the commit of the
request's transaction (``api.deps.commit_in_endpoint``), in the same thread, in that order. What
the caller sees does not change: the commit still comes before the response is sent; an endpoint
that raises, or whose answer does not validate, still commits nothing (the session rolls back and
FastAPI answers as before).

Async endpoints (file streams, pages) are left as they are.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.responses import Response

from api.deps import commit_in_endpoint


class ApiRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        route: list[ApiRoute] = []
        if inspect.isfunction(endpoint) and not (
            inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint)
        ):
            endpoint = _in_one_trip(endpoint, route)
        super().__init__(path, endpoint, **kwargs)
        route.append(self)


def _in_one_trip(endpoint: Callable[..., Any], route: list[ApiRoute]) -> Callable[..., Any]:
    def call(kwargs: dict[str, Any]) -> Any:
        result = endpoint(**kwargs)
        field = route[0].response_field if route else None
        if field is not None and not isinstance(result, Response):
            value, errors = field.validate(result, {}, loc=("response",))
            if errors:
                return result  # FastAPI validates it again and answers its error; nothing commits
            result = value
        commit_in_endpoint()
        return result

    # The signature FastAPI reads is the endpoint's (functools.wraps: __wrapped__, name, docs).
    @functools.wraps(endpoint)
    async def run(**kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(call, kwargs)

    return run


def api_router(**kwargs: Any) -> APIRouter:
    """An API router whose sync endpoints run as ``ApiRoute`` describes."""
    return APIRouter(route_class=ApiRoute, **kwargs)
