"""A lean service doing the busiest day's seven requests, to measure the project's server against.

The same requests and answers (status codes, ``TokenOut``, ``ApplicationOut``, ``AttachmentOut``, the
same error bodies), the same libraries and the same real work: FastAPI; SQLAlchemy on the same kind
of database; argon2id with the configured parameters on sign-in, with the per-account and
per-address throttle; PyJWT tokens checked on every request and the account looked up; the form
validated by the project's ``ApplicationForm``; scans judged by content (``workflows.uploads.sniff``)
and stored through ``storage.objects``; on submit the completeness check, the eligibility advice
and the 申请表 rendered in the request by the project's compiled renderer (``templates.docx``) with
the project's context (``workflows.applications.documents.form_context``) and stored in the same
store; one row per transition in a hash-chained audit table.

What makes it lean is the shape of the work, not less of it (STYLE.md rule 11):

- SQLAlchemy Core with statements built once, a few per request: the caller, its kindergarten and
  its alliance in one SELECT, one counter UPDATE ... RETURNING for the number, a partial unique
  index instead of a query for "one open application per kindergarten", an optimistic
  ``UPDATE ... WHERE version = :seen`` instead of ``SELECT ... FOR UPDATE``;
- slow work outside transactions: scans are sniffed and stored, and the form rendered and stored,
  before the short write transaction that references them (content-addressed objects; a failed
  commit leaves an unreferenced object for the orphan sweep, as in the project);
- the audit chain's head is taken last, for the three statements that need it;
- reads take no lock; on SQLite, write transactions take turns on a lock in the process instead of
  every request holding SQLite's write lock from its first statement.

It serves only the seven requests (of the workflow's events, ``submit``) and keeps its tables apart
(``ref_*``, created by ``seed``); it has no alliance registry, so a preferred alliance on the form is
refused, though the caller's alliance is looked up for visibility as the project does. Start it with
``uvicorn --factory bench.instrumented:reference`` and the ``KINDERFLOW_*`` settings of the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from storage.db import UTCDateTime, utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from storage.stores import build_object_store
from templates.docx import render_docx
from workflows import clock
from workflows.accounts.passwords import dummy_verify, hash_password, verify_password
from workflows.accounts.schemas import TokenOut
from workflows.accounts.service import BadCredentials
from workflows.accounts.tokens import InvalidToken, issue_token, read_token
from workflows.applications import eligibility
from workflows.applications.documents import TEMPLATE, form_context
from workflows.applications.events import completeness_problems
from workflows.applications.machine import APPLICATION_WORKFLOW, ApplicationMachine
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    ApplicationCreate,
    ApplicationForm,
    ApplicationOut,
    AttachmentKind,
    AttachmentOut,
    CheckOut,
    EventBody,
)
from workflows.audit import GENESIS_HASH
from workflows.documents.service import DOCX
from workflows.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    StaleVersion,
    TooManyAttempts,
    TransitionNotAllowed,
    ValidationFailed,
)
from workflows.roles import Role
from workflows.uploads import SCAN_TYPES, safe_filename, sniff

metadata = MetaData()
kindergartens = Table(
    "ref_kindergartens", metadata,
    Column("id", Uuid, primary_key=True), Column("name", String(100), nullable=False),
)  # fmt: skip
users = Table(
    "ref_users", metadata,
    Column("id", Uuid, primary_key=True), Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False), Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False), Column("kindergarten_id", ForeignKey("ref_kindergartens.id")),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("must_change_password", Boolean, nullable=False, default=False),
)  # fmt: skip
# The alliance a kindergarten is in today: visibility for a lead or pillar depends on it.
memberships = Table(
    "ref_memberships", metadata,
    Column("id", Integer, primary_key=True), Column("kindergarten_id", ForeignKey("ref_kindergartens.id"), nullable=False),
    Column("alliance_id", Uuid, nullable=False), Column("ended_on", Date),
)  # fmt: skip
login_failures = Table(
    "ref_login_failures", metadata,
    Column("id", Integer, primary_key=True), Column("username", String(64), nullable=False, index=True),
    Column("address", String(64), nullable=False, index=True), Column("at", UTCDateTime, nullable=False),
)  # fmt: skip
counters = Table(
    "ref_counters", metadata,
    Column("name", String(64), primary_key=True), Column("value", Integer, nullable=False),
)  # fmt: skip
OPEN_STATES = ("draft", "submitted", "under_review", "returned")
applications = Table(
    "ref_applications", metadata,
    Column("id", Uuid, primary_key=True), Column("number", String(20), nullable=False, unique=True),
    Column("kindergarten_id", ForeignKey("ref_kindergartens.id"), nullable=False),
    Column("state", String(20), nullable=False), Column("version", Integer, nullable=False),
    Column("form", JSON, nullable=False), Column("town", String(50), nullable=False),
    Column("preferred_alliance_id", Uuid), Column("approved_alliance_id", Uuid),
    Column("eligibility", JSON, nullable=False), Column("last_comment", Text, nullable=False),
    Column("created_by", ForeignKey("ref_users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False), Column("updated_at", UTCDateTime, nullable=False),
    Column("submitted_at", UTCDateTime), Column("decided_at", UTCDateTime),
)  # fmt: skip
_open = applications.c.state.in_(OPEN_STATES)
# One open application per kindergarten, held by the database rather than by a query per create.
Index("uq_ref_open_application", applications.c.kindergarten_id, unique=True,
      sqlite_where=_open, postgresql_where=_open)  # fmt: skip
attachments = Table(
    "ref_attachments", metadata,
    Column("id", Uuid, primary_key=True),
    Column("application_id", ForeignKey("ref_applications.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False), Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False), Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False), Column("object_key", String(200), nullable=False),
    Column("uploaded_by", ForeignKey("ref_users.id"), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False), Column("replaced_at", UTCDateTime),
)  # fmt: skip
documents = Table(
    "ref_documents", metadata,
    Column("id", Uuid, primary_key=True), Column("application_id", ForeignKey("ref_applications.id"), nullable=False),
    Column("kind", String(40), nullable=False), Column("version_no", Integer, nullable=False),
    Column("filename", String(255), nullable=False), Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False), Column("object_key", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("application_id", "kind", "version_no"),
)  # fmt: skip
notifications = Table(
    "ref_notifications", metadata,
    Column("id", Integer, primary_key=True), Column("user_id", ForeignKey("ref_users.id"), nullable=False),
    Column("title", String(200), nullable=False), Column("link", String(200), nullable=False),
)  # fmt: skip
audit_head = Table(
    "ref_audit_head", metadata,
    Column("id", Integer, primary_key=True), Column("seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)  # fmt: skip
audit = Table(
    "ref_audit", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False), Column("entity_id", String(64), nullable=False),
    Column("event", String(64), nullable=False), Column("from_state", String(32)), Column("to_state", String(32)),
    Column("actor_id", String(64)), Column("data", JSON, nullable=False), Column("created_at", UTCDateTime, nullable=False),
    Column("prev_hash", String(64), nullable=False), Column("hash", String(64), nullable=False, unique=True),
)  # fmt: skip

# Statements built once, with bind parameters: per request SQLAlchemy only binds and executes
# (no statement construction, and the compiled form is found by the statement's memoised cache key).
P = bindparam
USER_BY_NAME = select(users.c.id, users.c.role, users.c.password_hash, users.c.is_active).where(
    users.c.username == P("p_username")
)
RECENT_FAILURES = select(
    func.count().filter(login_failures.c.username == P("p_username")),
    func.count().filter(login_failures.c.address == P("p_address")),
).where(
    or_(login_failures.c.username == P("p_username"), login_failures.c.address == P("p_address")),
    login_failures.c.at >= P("p_since", type_=UTCDateTime),
)
RECORD_FAILURE = insert(login_failures)
CLEAR_FAILURES = delete(login_failures).where(login_failures.c.username == P("p_username"))
VIEWER = (
    select(users.c.id, users.c.role, users.c.kindergarten_id, users.c.must_change_password,
           kindergartens.c.name.label("kindergarten_name"), memberships.c.alliance_id)
    .outerjoin(kindergartens, kindergartens.c.id == users.c.kindergarten_id)
    .outerjoin(memberships, and_(memberships.c.kindergarten_id == users.c.kindergarten_id,
                                 memberships.c.ended_on.is_(None)))
    .where(users.c.id == P("p_user"), users.c.is_active)
)  # fmt: skip
APPLICATION = (
    select(applications, kindergartens.c.name.label("kindergarten_name"))
    .join(kindergartens, kindergartens.c.id == applications.c.kindergarten_id)
    .where(applications.c.id == P("p_application"))
)
ATTACHMENTS = (
    select(attachments).where(attachments.c.application_id == P("p_application")).order_by(attachments.c.uploaded_at)
)
LATEST_FORM = select(func.max(documents.c.version_no)).where(
    documents.c.application_id == P("p_application"), documents.c.kind == "application_form"
)
NEXT_NUMBER = (
    update(counters).where(counters.c.name == P("p_counter"))
    .values(value=counters.c.value + 1).returning(counters.c.value)
)  # fmt: skip
FIRST_NUMBER = insert(counters)
INSERT_APPLICATION = insert(applications)
STILL_EDITABLE = (
    update(applications)
    .where(applications.c.id == P("p_application"), applications.c.state.in_(("draft", "returned")))
    .values(updated_at=P("p_now", type_=UTCDateTime))
)
REPLACE_ATTACHMENT = (
    update(attachments)
    .where(attachments.c.application_id == P("p_application"), attachments.c.kind == P("p_kind"),
           attachments.c.replaced_at.is_(None))
    .values(replaced_at=P("p_now", type_=UTCDateTime))
)  # fmt: skip
INSERT_ATTACHMENT = insert(attachments)
SUBMIT = (
    update(applications)
    .where(applications.c.id == P("p_application"), applications.c.version == P("p_version"),
           applications.c.state == P("p_state"))
    .values(state="submitted", version=applications.c.version + 1, eligibility=P("p_eligibility", type_=JSON),
            submitted_at=P("p_now", type_=UTCDateTime), updated_at=P("p_now", type_=UTCDateTime))
)  # fmt: skip
INSERT_DOCUMENT = insert(documents)
NOTIFY_OFFICERS = insert(notifications).from_select(
    ["user_id", "title", "link"],
    select(users.c.id, P("p_title", type_=String), P("p_link", type_=String)).where(
        users.c.role == Role.OFFICER.value, users.c.is_active
    ),
)
TAKE_AUDIT_HEAD = (
    update(audit_head).where(audit_head.c.id == 1)
    .values(seq=audit_head.c.seq + 1).returning(audit_head.c.seq, audit_head.c.last_hash)
)  # fmt: skip
INSERT_AUDIT = insert(audit)
MOVE_AUDIT_HEAD = update(audit_head).where(audit_head.c.id == 1).values(last_hash=P("p_hash"))

STATE_LABELS = dict(APPLICATION_WORKFLOW.state_labels)
BUREAU_ROLES = frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN})
EDITABLE_STATES = ("draft", "returned")


@dataclass
class _Record:
    """An application as ``form_context`` and ``completeness_problems`` read it (attribute access)."""

    number: str
    form: dict[str, Any]
    attachments: list[Any]
    eligibility: list[dict[str, Any]] = field(default_factory=list)
    submitted_at: datetime | None = None
    preferred_alliance_id: None = None

    @property
    def current_attachments(self) -> list[Any]:
        return [a for a in self.attachments if a.replaced_at is None]


@dataclass
class _Stateful:
    state: str
    id: None = None
    version: int = 1


def _allowed_events() -> dict[tuple[str, Role], list[str]]:
    """What each role may fire in each state, from the project's workflow, worked out once."""
    return {
        (state.value, role): APPLICATION_WORKFLOW.allowed_events(_Stateful(state=state.value), role)
        for state in ApplicationMachine.states
        for role in Role
    }


ALLOWED_EVENTS = _allowed_events()
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
Token = Annotated[str | None, Depends(oauth2_scheme)]
UNAUTHENTICATED = HTTPException(
    status_code=401,
    detail={"code": "not_authenticated", "message": "请先登录，或登录已过期"},
    headers={"WWW-Authenticate": "Bearer"},
)
PASSWORD_CHANGE_REQUIRED = HTTPException(
    status_code=403,
    detail={"code": "password_change_required", "message": "请先修改初始密码（或管理员重置的密码）后再继续"},
)


def make_engine(url: str) -> Engine:
    """SQLite in WAL mode with foreign keys (reads never wait for writers); PostgreSQL with a pool.

    Both as the project configures them otherwise (busy timeout, pre-ping), so the difference is
    in how the requests use the database.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=10, max_overflow=0, pool_timeout=120, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


class Reference:
    """The seven requests' work; each method runs in one worker thread, start to finish."""

    def __init__(self, settings: Settings, engine: Engine, objects: ObjectStore) -> None:
        self.settings = settings
        self.engine = engine
        self.objects = objects
        # SQLite has one writer at a time anyway: writers queue here, readers never do.
        self._sqlite_writer = threading.Lock() if engine.dialect.name == "sqlite" else None

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A short write transaction (on SQLite, one at a time in this process)."""
        with self._sqlite_writer or contextlib.nullcontext(), self.engine.begin() as conn:
            yield conn

    def login(self, *, username: str, password: str, address: str) -> TokenOut:
        """Check the password (throttled per account and per address) and issue a bearer token."""
        settings = self.settings
        since = utcnow() - timedelta(minutes=settings.login_failure_window_minutes)
        with self.engine.connect() as conn:
            user = conn.execute(USER_BY_NAME, {"p_username": username}).first()
            by_account, by_address = conn.execute(
                RECENT_FAILURES, {"p_username": username, "p_address": address, "p_since": since}
            ).one()
        if (
            by_account >= settings.login_max_failures_per_account
            or by_address >= settings.login_max_failures_per_address
        ):
            raise TooManyAttempts(f"登录失败次数过多，请 {settings.login_failure_window_minutes} 分钟后再试")
        if user is None:
            dummy_verify(settings, password)
        if user is None or not user.is_active or not verify_password(settings, user.password_hash, password):
            with self.writing() as conn:
                conn.execute(RECORD_FAILURE, {"username": username[:64], "address": address[:64], "at": utcnow()})
            raise BadCredentials()
        if by_account:
            with self.writing() as conn:
                conn.execute(CLEAR_FAILURES, {"p_username": username})
        return TokenOut(
            access_token=issue_token(settings, user_id=user.id, role=user.role),
            expires_in=settings.token_ttl_minutes * 60,
        )

    def _viewer(self, conn: Connection, token: str | None) -> Row[Any]:
        """The signed-in caller and the name of its kindergarten; a 401 for anything doubtful."""
        if not token:
            raise UNAUTHENTICATED
        try:
            user_id = read_token(self.settings, token)
        except InvalidToken:
            raise UNAUTHENTICATED from None
        viewer = conn.execute(VIEWER, {"p_user": user_id}).first()
        if viewer is None:
            raise UNAUTHENTICATED
        if viewer.must_change_password:
            raise PASSWORD_CHANGE_REQUIRED
        return viewer

    def _visible(self, conn: Connection, viewer: Row[Any], application_id: uuid.UUID) -> Row[Any]:
        row = conn.execute(APPLICATION, {"p_application": application_id}).first()
        if row is None or not _may_see(viewer, row):
            raise NotFound("申请不存在")
        return row

    def _append_audit(self, conn: Connection, *, entity_id: uuid.UUID, event: str, actor_id: uuid.UUID,
                      from_state: str | None, to_state: str, data: dict[str, Any]) -> None:  # fmt: skip
        """One hash-chained audit row; the head is taken here, last in the transaction."""
        seq, prev = conn.execute(TAKE_AUDIT_HEAD).one()
        row = {"seq": seq, "entity_id": str(entity_id), "event": event, "from_state": from_state,
               "to_state": to_state, "actor_id": str(actor_id), "data": data, "created_at": utcnow()}  # fmt: skip
        digest = audit_hash(prev, row)
        conn.execute(INSERT_AUDIT, row | {"prev_hash": prev, "hash": digest})
        conn.execute(MOVE_AUDIT_HEAD, {"p_hash": digest})

    def _next_number(self, conn: Connection) -> str:
        year = datetime.now(UTC).year
        counter = f"application:{year}"
        value = conn.execute(NEXT_NUMBER, {"p_counter": counter}).scalar()
        if value is None:
            try:
                with conn.begin_nested():
                    conn.execute(FIRST_NUMBER, {"name": counter, "value": 1})
                value = 1
            except IntegrityError:  # another request created it first
                return self._next_number(conn)
        return f"SQ{year}-{value:04d}"

    def create(self, *, token: str | None, form: ApplicationForm) -> ApplicationOut:
        """A draft application for the caller's kindergarten (one open application at a time)."""
        with self.engine.connect() as conn:
            viewer = self._viewer(conn, token)
        if Role(viewer.role) != Role.APPLICANT or viewer.kindergarten_id is None:
            raise NotFound()
        if form.preferred_alliance_id is not None:  # the reference keeps no alliances
            raise ValidationFailed([FieldError("preferred_alliance_id", "not_found", "所选联盟不存在或已停用")])
        now = utcnow()
        row = {"id": uuid.uuid4(), "kindergarten_id": viewer.kindergarten_id, "state": "draft", "version": 1,
               "form": form.model_dump(mode="json", exclude_none=True), "town": form.town or "",
               "preferred_alliance_id": None, "approved_alliance_id": None,
               "eligibility": [], "last_comment": "", "created_by": viewer.id, "created_at": now,
               "updated_at": now, "submitted_at": None, "decided_at": None}  # fmt: skip
        try:
            with self.writing() as conn:
                row["number"] = self._next_number(conn)
                conn.execute(INSERT_APPLICATION, row)
                self._append_audit(conn, entity_id=row["id"], event="create", actor_id=viewer.id, from_state=None,
                                   to_state="draft", data={"number": row["number"]})  # fmt: skip
        except IntegrityError as exc:
            if "uq_ref_open_application" not in str(exc) and "ref_applications.kindergarten_id" not in str(exc):
                raise
            raise Conflict("本园已有办理中的申请，请在该申请上继续", code="open_application_exists") from None
        return _application_out(row | {"kindergarten_name": viewer.kindergarten_name}, [], Role(viewer.role))

    def upload(
        self, *, token: str | None, application_id: uuid.UUID, kind: AttachmentKind, file: UploadFile
    ) -> AttachmentOut:
        """Store a scan judged by its content and make it the current one of its kind."""
        with self.engine.connect() as conn:
            viewer = self._viewer(conn, token)
            application = self._visible(conn, viewer, application_id)
        _require_editable(viewer, application)
        mime = sniff(file.file, allowed=SCAN_TYPES)
        # The object first; the rows that reference it in a short transaction afterwards.
        name = file.filename or kind.value
        stored = self.objects.put(file.file, filename=name, content_type=mime, max_size=self.settings.max_upload_bytes)
        now = utcnow()
        row = {"id": uuid.uuid4(), "application_id": application_id, "kind": kind.value,
               "filename": safe_filename(name, default=kind.value, extension=SCAN_TYPES[mime]),
               "content_type": mime, "size": stored.size, "sha256": stored.sha256, "object_key": stored.key,
               "uploaded_by": viewer.id, "uploaded_at": now, "replaced_at": None}  # fmt: skip
        with self.writing() as conn:
            # Still editable now (a submit may have landed since the read); the row lock keeps it so.
            if not conn.execute(STILL_EDITABLE, {"p_application": application_id, "p_now": now}).rowcount:
                raise TransitionNotAllowed("申请已提交，不能再上传附件")
            conn.execute(REPLACE_ATTACHMENT, {"p_application": application_id, "p_kind": kind.value, "p_now": now})
            conn.execute(INSERT_ATTACHMENT, row)
            self._append_audit(conn, entity_id=application_id, event="attach", actor_id=viewer.id,
                               from_state=application.state, to_state=application.state,
                               data={"kind": kind.value, "sha256": stored.sha256, "size": stored.size})  # fmt: skip
        return _attachment_out(row)

    def read(self, *, token: str | None, application_id: uuid.UUID) -> ApplicationOut:
        """One application the caller may see, with its attachments."""
        with self.engine.connect() as conn:
            viewer = self._viewer(conn, token)
            application = self._visible(conn, viewer, application_id)
            rows = list(conn.execute(ATTACHMENTS, {"p_application": application_id}))
        return _application_out(application._asdict(), rows, Role(viewer.role))

    def submit(self, *, token: str | None, application_id: uuid.UUID, event: str, version: int,
               today: date | None = None) -> ApplicationOut:  # fmt: skip
        """Submit a complete application: eligibility advice, the 申请表 rendered and stored, one audit row."""
        with self.engine.connect() as conn:
            viewer = self._viewer(conn, token)
            application = self._visible(conn, viewer, application_id)
            rows = list(conn.execute(ATTACHMENTS, {"p_application": application_id}))
            latest = conn.execute(LATEST_FORM, {"p_application": application_id}).scalar()
        role = Role(viewer.role)
        rule = APPLICATION_WORKFLOW.rules.get(event)
        if event != "submit" or rule is None:
            raise TransitionNotAllowed(f"没有名为「{event}」的操作", code="unknown_event")
        if role not in rule.roles:
            raise Forbidden(f"您的角色不能执行「{rule.label}」")
        if version != application.version:
            raise StaleVersion()
        if event not in ALLOWED_EVENTS[(application.state, role)]:
            raise TransitionNotAllowed(f"当前状态为「{STATE_LABELS[application.state]}」，不能执行「{rule.label}」")
        record = _Record(number=application.number, form=application.form, attachments=rows)
        problems = completeness_problems(record)  # type: ignore[arg-type]
        if problems:
            raise ValidationFailed(problems, summary=None if len(problems) == 1 else f"还有 {len(problems)} 项需要处理")
        now = utcnow()
        form = ApplicationForm.model_validate(application.form)
        record.eligibility = eligibility.check(form, today=today or clock.today())
        record.submitted_at = now
        version_no = (latest or 0) + 1
        # Rendered and stored before the transaction: the lock is held for statements, not for work.
        content = render_docx(TEMPLATE, form_context(None, record, version_no))  # type: ignore[arg-type]
        filename = f"{application.number}_申请表_v{version_no}.docx"
        stored = self.objects.put(io.BytesIO(content), filename=filename, content_type=DOCX)
        with self.writing() as conn:
            moved = conn.execute(SUBMIT, {"p_application": application_id, "p_version": version,
                                          "p_state": application.state, "p_eligibility": record.eligibility,
                                          "p_now": now}).rowcount  # fmt: skip
            if not moved:
                raise StaleVersion()
            conn.execute(INSERT_DOCUMENT, {
                "id": uuid.uuid4(), "application_id": application_id, "kind": "application_form",
                "version_no": version_no, "filename": filename, "size": stored.size, "sha256": stored.sha256,
                "object_key": stored.key, "created_at": now,
            })  # fmt: skip
            conn.execute(NOTIFY_OFFICERS, {"p_title": f"新的入盟申请待审核：{form.name}",
                                           "p_link": f"/applications/{application_id}"})  # fmt: skip
            self._append_audit(conn, entity_id=application_id, event="submit", actor_id=viewer.id,
                               from_state=application.state, to_state="submitted", data={})  # fmt: skip
        moved_row = application._asdict() | {"state": "submitted", "version": version + 1,
                                             "eligibility": record.eligibility, "submitted_at": now}  # fmt: skip
        return _application_out(moved_row, rows, role)


AUDITED = ("seq", "entity_id", "event", "from_state", "to_state", "actor_id", "data")


def audit_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The chain's hash of an audit row: SHA-256 over the previous hash and the row's canonical JSON."""
    body = {key: row[key] for key in AUDITED} | {"created_at": row["created_at"].isoformat(timespec="microseconds")}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical.encode()).hexdigest()


def _may_see(viewer: Row[Any], application: Row[Any]) -> bool:
    """The project's rule: the bureau, the kindergarten itself, and (once submitted) its alliance's lead and pillar."""
    role = Role(viewer.role)
    if role in BUREAU_ROLES or application.kindergarten_id == viewer.kindergarten_id:
        return True
    return (
        role in (Role.LEAD, Role.PILLAR)
        and application.state != "draft"
        and viewer.alliance_id is not None
        and viewer.alliance_id in (application.preferred_alliance_id, application.approved_alliance_id)
    )


def _require_editable(viewer: Row[Any], application: Row[Any]) -> None:
    if Role(viewer.role) != Role.APPLICANT or application.kindergarten_id != viewer.kindergarten_id:
        raise NotFound("申请不存在")
    if application.state not in EDITABLE_STATES:
        label = STATE_LABELS[application.state]
        raise TransitionNotAllowed(f"申请当前为「{label}」，不能修改；退回修改后才可再次编辑")


def _attachment_out(row: Any) -> AttachmentOut:
    get = row.get if isinstance(row, dict) else row._mapping.get
    return AttachmentOut(
        id=get("id"), kind=get("kind"), kind_label=ATTACHMENT_LABELS[AttachmentKind(get("kind"))],
        filename=get("filename"), content_type=get("content_type"), size=get("size"), sha256=get("sha256"),
        uploaded_at=get("uploaded_at"), current=get("replaced_at") is None,
    )  # fmt: skip


def _application_out(row: dict[str, Any], attachment_rows: list[Row[Any]], role: Role) -> ApplicationOut:
    return ApplicationOut(
        id=row["id"], number=row["number"], kindergarten_id=row["kindergarten_id"],
        kindergarten_name=row["kindergarten_name"], state=row["state"], state_label=STATE_LABELS[row["state"]],
        version=row["version"], form=row["form"], eligibility=[CheckOut(**c) for c in row["eligibility"]],
        approved_alliance_id=row["approved_alliance_id"], last_comment=row["last_comment"], created_at=row["created_at"],
        submitted_at=row["submitted_at"], decided_at=row["decided_at"],
        attachments=[_attachment_out(a) for a in attachment_rows],
        allowed_events=ALLOWED_EVENTS[(row["state"], role)],
    )  # fmt: skip


def create_app(settings: Settings | None = None) -> FastAPI:
    """The reference service for the given settings (``KINDERFLOW_*`` from the environment by default)."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    service = Reference(settings, engine, build_object_store(settings))
    app = FastAPI(title="Kinderflow bench reference", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.engine = engine
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limit_for=lambda _path: settings.max_upload_bytes)

    @app.post("/api/auth/token", response_model=TokenOut)
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request) -> TokenOut:
        address = request.client.host if request.client else "unknown"
        return service.login(username=form.username, password=form.password, address=address)

    @app.post("/api/applications", response_model=ApplicationOut, status_code=201)
    def create(body: ApplicationCreate, token: Token) -> ApplicationOut:
        return service.create(token=token, form=body)

    @app.post("/api/applications/{application_id}/attachments", response_model=AttachmentOut, status_code=201)
    def upload(
        application_id: uuid.UUID,
        kind: Annotated[AttachmentKind, Form()],
        file: Annotated[UploadFile, File()],
        token: Token,
    ) -> AttachmentOut:
        return service.upload(token=token, application_id=application_id, kind=kind, file=file)

    @app.get("/api/applications/{application_id}", response_model=ApplicationOut)
    def read(application_id: uuid.UUID, token: Token) -> ApplicationOut:
        return service.read(token=token, application_id=application_id)

    @app.post("/api/applications/{application_id}/events/{event}", response_model=ApplicationOut)
    def fire_event(application_id: uuid.UUID, event: str, body: EventBody, token: Token) -> ApplicationOut:
        return service.submit(token=token, application_id=application_id, event=event, version=body.version)

    return app


def seed(database_url: str, usernames: list[str], password: str, settings: Settings) -> None:
    """Create the reference's tables and one kindergarten with an applicant account per username."""
    engine = make_engine(database_url)
    metadata.create_all(engine)
    password_hash = hash_password(settings, password)
    with engine.begin() as conn:
        conn.execute(insert(audit_head).values(id=1, seq=0, last_hash=GENESIS_HASH))
        for n, username in enumerate(usernames):
            kindergarten_id = uuid.uuid4()
            conn.execute(insert(kindergartens).values(id=kindergarten_id, name=f"压测第{n}幼儿园"))
            conn.execute(insert(users).values(
                id=uuid.uuid4(), username=username, display_name=username, password_hash=password_hash,
                role=Role.APPLICANT.value, kindergarten_id=kindergarten_id, is_active=True, must_change_password=False,
            ))  # fmt: skip
    engine.dispose()


def counted(database_url: str) -> dict[str, int]:
    """Submitted applications and rendered forms in the reference's tables."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        submitted = conn.execute(select(func.count()).where(applications.c.state == "submitted")).scalar() or 0
        forms = conn.execute(select(func.count()).where(documents.c.kind == "application_form")).scalar() or 0
    engine.dispose()
    return {"submitted": submitted, "forms": forms}
