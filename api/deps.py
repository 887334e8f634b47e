"""Request dependencies as ``Annotated`` aliases: settings, runtime, session, the signed-in viewer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.client_address import client_address as resolve_client_address
from storage.db import before_write
from storage.objects import ObjectStore
from storage.runtime import Runtime
from storage.settings import Settings
from workflows.access import Viewer, signed_in_viewer
from workflows.accounts.tokens import InvalidToken, read_subject
from workflows.errors import NotFound
from workflows.ranges import INT32_MAX, OFFSET_MAX, YEAR_MAX, YEAR_MIN

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


# Each reads the runtime off the app itself rather than through RuntimeDep: every dependency FastAPI
# solves costs a little, and these are solved on almost every request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


async def get_objects(request: Request) -> ObjectStore:
    objects: ObjectStore = request.app.state.runtime.objects
    return objects


SettingsDep = Annotated[Settings, Depends(get_settings)]
ObjectsDep = Annotated[ObjectStore, Depends(get_objects)]


# How many requests may hold a database connection at once. SQLite: one writer at a time (its writers
# take turns anyway) and a few readers beside it (in WAL mode they read a snapshot and wait for no one).
# A server database: one pool's worth for both, well inside the connection pool, since a committing
# request briefly takes a second connection (the outbox relay). See get_session for why requests wait
# for a slot here.
SQLITE_WRITER_SLOTS = 1
SQLITE_READER_SLOTS = 4
SERVER_DB_SLOTS = 8
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class DbSlots:
    """The app's database slots: the writers' and the readers' (one and the same on a server database)."""

    writers: anyio.Semaphore
    readers: anyio.Semaphore
    sqlite: bool


def _slots(request: Request, runtime: Runtime) -> DbSlots:
    slots: DbSlots | None = getattr(request.app.state, "db_slots", None)
    if slots is None:
        if runtime.db.engine.dialect.name == "sqlite":
            slots = DbSlots(anyio.Semaphore(SQLITE_WRITER_SLOTS), anyio.Semaphore(SQLITE_READER_SLOTS), sqlite=True)
        else:
            shared = anyio.Semaphore(SERVER_DB_SLOTS)
            slots = DbSlots(shared, shared, sqlite=False)
        request.app.state.db_slots = slots
    return slots


def reads(request: Request) -> bool:
    """Whether a request reads (GET, HEAD, OPTIONS) rather than changes something."""
    return request.method in SAFE_METHODS


def signs(request: Request) -> bool:
    """A signature (``POST /api/agreements/{id}/events/sign``, or the signing page's form): it reads
    and computes first (the PIN unlocks the key, the CMS signature and the stamped PDF are made and
    stored, some tens of milliseconds) and writes only at the end (``agreements.signing.sign``)."""
    path = request.url.path
    return request.method == "POST" and path.startswith(("/api/agreements/", "/agreements/")) and path.endswith("/sign")


def starts_reading(request: Request) -> bool:
    """Whether a request starts as a reading one: a safe method, or a signature. A reading request
    takes a reader's slot and, on SQLite, the writer's turn only at its first write."""
    return reads(request) or signs(request)


def db_slots(request: Request, runtime: Runtime, *, write: bool | None = None) -> anyio.Semaphore:
    """The slot a request waits for: a writer's for an unsafe method (or ``write=True``), else a reader's."""
    slots = _slots(request, runtime)
    return slots.writers if (not reads(request) if write is None else write) else slots.readers


class WriterTurn:
    """A reading request's turn among the writers, taken at its first write, if it writes at all.

    Taken in the request's worker thread (``storage.db.before_write``), by waiting on the event loop for
    a writer's slot: the thread waits, but only reading requests ever do, so no more threads wait than
    there are reader slots, while the writer being waited for needs one thread to finish.
    """

    def __init__(self, writers: anyio.Semaphore) -> None:
        self.writers = writers
        self.held = False

    def take(self) -> None:
        if self.held:
            return
        try:
            anyio.from_thread.run(self.writers.acquire)
        except RuntimeError:  # not in a worker thread: SQLite's own busy timeout is the queue
            return
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.writers.release()


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


@dataclass
class _Committing:
    """The request's session, to be committed at the end of its endpoint (see ``commit_in_endpoint``)."""

    session: Session
    committed: bool = False


_COMMITTING: ContextVar[_Committing | None] = ContextVar("kinderflow_committing_session", default=None)


def commit_in_endpoint() -> None:
    """Commit the request's session now, in the endpoint's worker thread, if the request has one that
    commits (``get_session``); its dependency then only closes it, with no trip to a thread of its own.
    Called by ``api.routing.ApiRoute`` once the endpoint has returned and its answer validated."""
    pending = _COMMITTING.get()
    if pending is not None and not pending.committed:
        pending.session.commit()
        pending.committed = True


def _roll_back_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


@asynccontextmanager
async def request_session(
    request: Request, runtime: Runtime, *, reading: bool | None = None, commit: bool = False
) -> AsyncIterator[Session]:
    """A request's session, once it has its slot; closed (and any writer's turn given back) at the end,
    committed first if ``commit`` and nothing went wrong, rolled back on any error.

    A writing request (an unsafe method) holds a writer's slot throughout: on SQLite its transaction
    takes the write lock at its first statement, so what it reads to decide what to write stays so
    until it commits. A reading one (GET, HEAD, OPTIONS, a signature (``signs``), or ``reading=True``)
    holds a reader's slot and reads a snapshot without locking; should it write after all (a counter,
    a throttle's row, a signature's rows), it waits for a writer's turn at that first write, where on
    SQLite a fresh write transaction begins (``storage.db``): what it read before may have moved on,
    which a versioned UPDATE refuses.
    """
    reading = starts_reading(request) if reading is None else reading
    slots = _slots(request, runtime)
    turn: WriterTurn | None = None
    async with slots.readers if reading else slots.writers:
        if reading:
            session = runtime.db.reading_sessionmaker()
            if slots.sqlite:
                turn = WriterTurn(slots.writers)
                before_write(session, turn.take)
        else:
            session = runtime.db.sessionmaker()
        pending = _Committing(session) if commit else None
        marker = _COMMITTING.set(pending)
        try:
            try:
                yield session
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(_roll_back_and_close, session)
                raise
            if pending is not None and pending.committed and not session.in_transaction():
                # Committed in the endpoint's thread, which gave the connection back: nothing to wait for.
                session.close()
            else:
                # One trip to a worker thread for both.
                await anyio.to_thread.run_sync(_commit_and_close if commit else Session.close, session)
        finally:
            _COMMITTING.reset(marker)
            if turn is not None:
                turn.give_back()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on any error.

    A request's transaction spans several worker-thread borrows (dependencies, the route, the commit).
    Were requests to wait for the database inside those threads (SQLite's write lock, an exhausted
    connection pool), a burst could occupy every thread with waiters while the request holding the
    lock waits for a thread to commit in: a deadlock until timeouts turn it into errors. So requests
    queue for a database slot here, on the event loop, before they take a connection: writers for
    the one writer's slot on SQLite, readers for one of a few readers' slots (see request_session).
    """
    async with request_session(request, request.app.state.runtime, commit=True) as session:
        yield session


async def get_reading_session(request: Request) -> AsyncIterator[Session]:
    """``get_session`` for an unsafe request that mostly reads and seldom writes (sign-in: a password
    check, and a throttle's row written only on a failure): a reader's slot, a writer's turn only
    at its first write. Not for a route that also has ``SessionDep`` (through the viewer, say): one
    request holding a reader's slot and a writer's at once could wait for readers waiting for it."""
    async with request_session(request, request.app.state.runtime, reading=True, commit=True) as session:
        yield session


# scope="function": commit before the response is sent, so a 2xx means the change is durable and the
# caller's next request sees it (the default "request" scope would commit only after sending).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadingSessionDep = Annotated[Session, Depends(get_reading_session, scope="function")]

UNAUTHENTICATED = HTTPException(
    status_code=401,
    detail={"code": "not_authenticated", "message": "请先登录，或登录已过期"},
    headers={"WWW-Authenticate": "Bearer"},
)


PASSWORD_CHANGE_REQUIRED = HTTPException(
    status_code=403,
    detail={"code": "password_change_required", "message": "请先修改初始密码（或管理员重置的密码）后再继续"},
)


def _signed_in(request: Request, session: Session, token: str | None) -> Viewer:
    if not token:
        raise UNAUTHENTICATED
    try:
        subject = read_subject(request.app.state.runtime.settings, token)
        return signed_in_viewer(session, user_id=subject.user_id, session_version=subject.session_version)
    except (InvalidToken, NotFound):
        raise UNAUTHENTICATED from None


def get_any_viewer(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Viewer:
    """The signed-in caller, from a bearer token, even one who must still change their password: an
    active account whose sessions have not ended since the token was issued (a sign-out, a password
    change), looked up in one statement."""
    return _signed_in(request, session, token)


def get_viewer(request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Viewer:
    """The signed-in caller; one whose password must be changed first is refused (403). (One
    dependency, not one on top of ``get_any_viewer``: each level costs every request a little.)"""
    viewer = _signed_in(request, session, token)
    if viewer.must_change_password:
        raise PASSWORD_CHANGE_REQUIRED
    return viewer


# Only reading /api/me and changing the password accept an account whose password must be changed.
ViewerBeforePasswordChange = Annotated[Viewer, Depends(get_any_viewer)]
CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


async def client_address(request: Request) -> str:
    """The client's address; X-Forwarded-For counts only from KINDERFLOW_TRUSTED_PROXIES."""
    return resolve_client_address(request)


ClientAddress = Annotated[str, Depends(client_address)]

# Integer query parameters, each with its range (422 outside it, never a 500 from an overflow).
YearFilter = Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX, description="年度")]
VersionQuery = Annotated[int, Query(ge=0, le=INT32_MAX)]
OffsetQuery = Annotated[int, Query(ge=0, le=OFFSET_MAX)]
