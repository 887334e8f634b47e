"""The browser session: one encrypted, HttpOnly, SameSite=Lax cookie.

The cookie holds a CSRF secret, the same short-lived bearer token the API issues
(``workflows.accounts.tokens``) and when that token was issued. It is encrypted and authenticated with
a key derived from the app secret (Fernet), so none of it can be read, forged or swapped. The token
expires like an API token (``token_ttl_minutes``); while the user keeps working, a token past half its
life is replaced (sliding renewal), so an idle session ends after one TTL. The token also carries the
user's session version: signing out, a password change or reset and deactivation raise it on the
server, which ends this cookie and every other one of the user (``accounts.service.get_session_user``).

Visitors who are not signed in get an anonymous session too: the login and verification forms
carry its CSRF token like every other form.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken as BadCookie
from starlette.requests import Request
from starlette.responses import Response

from storage.settings import Settings
from workflows.accounts.tokens import InvalidToken, TokenSubject, issue_token, read_subject

COOKIE_NAME = "kf_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SALT = "kinderflow.web.session"
# The cookie must stay well under the browsers' 4 KB: a refusal carries only its first few details.
FLASH_DETAILS, FLASH_DETAIL_CHARS = 5, 120


class Flash(NamedTuple):
    """A one-time message: ``level`` is ok, info or error; ``details`` lists what a refusal named."""

    level: str
    message: str
    details: tuple[str, ...] = ()


@dataclass
class WebSession:
    csrf: str
    token: str | None = None
    issued_at: int = 0
    flash: list[Flash] = field(default_factory=list)
    # Set when the cookie must be written back with this response.
    dirty: bool = False
    # Set (for this request only) when the cookie carried a token that has expired.
    expired: bool = False

    def add_flash(self, message: str, level: str = "ok", details: list[str] | tuple[str, ...] = ()) -> None:
        """A one-time message shown on the next page rendered for this browser."""
        kept = tuple(d[:FLASH_DETAIL_CHARS] for d in details[:FLASH_DETAILS])
        self.flash.append(Flash(level, message, kept))
        self.dirty = True

    def pop_flash(self) -> list[Flash]:
        messages, self.flash = self.flash, []
        if messages:
            self.dirty = True
        return messages

    def csrf_matches(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(candidate or "", self.csrf)


def anonymous() -> WebSession:
    return WebSession(csrf=secrets.token_urlsafe(32), dirty=True)


def signed_in(settings: Settings, *, user_id: uuid.UUID, role: str, session_version: int) -> WebSession:
    """A fresh session for a user who just proved their password: new CSRF secret, new token."""
    return WebSession(
        csrf=secrets.token_urlsafe(32),
        token=issue_token(settings, user_id=user_id, role=role, session_version=session_version),
        issued_at=int(time.time()),
        dirty=True,
    )


def _fernet(settings: Settings) -> Fernet:
    key = hmac.new(settings.secret_key.get_secret_value().encode(), SALT.encode(), "sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encode(settings: Settings, data: dict[str, Any]) -> str:
    """The cookie value holding ``data``: compressed, encrypted and authenticated."""
    packed = zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    return _fernet(settings).encrypt(packed).decode()


def decode(settings: Settings, raw: str) -> Any:
    """What ``encode`` put in a cookie value; raises ValueError for anything else."""
    try:
        return json.loads(zlib.decompress(_fernet(settings).decrypt(raw.encode())))
    except (BadCookie, zlib.error, UnicodeError) as exc:
        raise ValueError("not a session cookie of this installation") from exc


def load(settings: Settings, request: Request) -> WebSession:
    """The session of this request; a missing, forged or malformed cookie starts an anonymous one."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return anonymous()
    try:
        data: Any = decode(settings, raw)
        return WebSession(
            csrf=str(data["c"]),
            token=data.get("t"),
            issued_at=int(data.get("i", 0)),
            flash=[_flash(entry) for entry in data.get("f", [])],
        )
    except (KeyError, TypeError, ValueError):
        return anonymous()


def _flash(entry: Any) -> Flash:
    level, text, *rest = entry
    return Flash(str(level), str(text), tuple(str(d) for d in (rest[0] if rest else [])))


def subject_of(settings: Settings, session: WebSession) -> TokenSubject | None:
    """Who the cookie says is signed in; None when signed out or when the token expired (it is then dropped).

    Whether the session still holds (the user's session version) is for the caller to check."""
    if not session.token:
        return None
    try:
        return read_subject(settings, session.token)
    except InvalidToken:
        session.token, session.dirty, session.expired = None, True, True
        return None


def sign_out(session: WebSession) -> None:
    """Forget the user of a session that ended on the server (signed out elsewhere, password changed)."""
    session.token, session.dirty, session.expired = None, True, True


def renew_if_due(
    settings: Settings, session: WebSession, *, user_id: uuid.UUID, role: str, session_version: int
) -> None:
    """Sliding renewal: a token past half its life is replaced by a fresh one."""
    if session.token and time.time() - session.issued_at > settings.token_ttl_minutes * 30:
        session.token = issue_token(settings, user_id=user_id, role=role, session_version=session_version)
        session.issued_at, session.dirty = int(time.time()), True


def write(settings: Settings, request: Request, response: Response, session: WebSession) -> None:
    """Set the cookie on ``response`` when the session changed."""
    if not session.dirty:
        return
    data: dict[str, Any] = {"c": session.csrf}
    if session.token:
        data["t"], data["i"] = session.token, session.issued_at
    if session.flash:
        data["f"] = [
            [f.level, f.message, list(f.details)] if f.details else [f.level, f.message] for f in session.flash
        ]
    response.set_cookie(
        COOKIE_NAME,
        encode(settings, data),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or settings.base_url.startswith("https://"),
        path="/",
    )
