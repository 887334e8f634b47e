"""Channel secrets sealed with AES-256-GCM under a key derived from the installation secret.

A copy of the database alone does not reveal webhook URLs, signing secrets or mail passwords.
Each value is bound to its field name, so a sealed value cannot be moved to another field.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.settings import Settings

PREFIX = "sealed:v1:"
_NONCE = 12


class UnsealError(Exception):
    """A sealed value could not be opened (the secret key changed, or the value was altered)."""


def _key(settings: Settings) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kinderflow", info=b"channel-secrets")
    return hkdf.derive(settings.secret_key.get_secret_value().encode())


def seal(settings: Settings, field: str, value: str) -> str:
    """Encrypt ``value`` for storage under ``field``."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_key(settings)).encrypt(nonce, value.encode(), field.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(settings: Settings, field: str, stored: str) -> str:
    """The plain value of a sealed ``field``; raises UnsealError."""
    if not stored.startswith(PREFIX):
        raise UnsealError(f"{field} is not sealed")
    try:
        raw = base64.urlsafe_b64decode(stored.removeprefix(PREFIX))
        return AESGCM(_key(settings)).decrypt(raw[:_NONCE], raw[_NONCE:], field.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise UnsealError(f"{field} cannot be unsealed (was the secret key changed?)") from exc
