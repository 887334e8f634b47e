"""Short-lived bearer tokens: JWT, HS256 only, with expiry, audience and issuer always checked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from storage.settings import Settings

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, forged or meant for someone else."""


def issue_token(settings: Settings, *, user_id: uuid.UUID, role: str, now: datetime | None = None) -> str:
    """Sign a bearer token for one user, valid for ``token_ttl_minutes``."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": str(user_id),
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
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],  # fixed: never trust the header's alg
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        return uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc
