"""Short-lived bearer tokens: JWT, HS256 only, with expiry, audience and issuer always checked.

A token names its user and the user's session version (``sv``) when it was issued: a token of an
older version is refused (``accounts.service.get_session_user``), so sessions end on the server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import jwt

from storage.settings import Settings

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, forged or meant for someone else."""


class TokenSubject(NamedTuple):
    """Whom a valid token speaks for, and under which of their session versions it was issued."""

    user_id: uuid.UUID
    session_version: int


def issue_token(
    settings: Settings, *, user_id: uuid.UUID, role: str, session_version: int = 0, now: datetime | None = None
) -> str:
    """Sign a bearer token for one user, valid for ``token_ttl_minutes`` and while their session version holds."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "sv": session_version,
        "role": role,
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + timedelta(minutes=settings.token_ttl_minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def read_token(settings: Settings, token: str) -> uuid.UUID:
    """Return the user id of a valid token; anything else raises InvalidToken."""
    return read_subject(settings, token).user_id


def read_subject(settings: Settings, token: str) -> TokenSubject:
    """The user and session version of a valid token; anything else raises InvalidToken."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],  # fixed: never trust the header's alg
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "sv"]},
        )
        version = claims["sv"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("sv is not an integer")
        return TokenSubject(uuid.UUID(claims["sub"]), version)
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
