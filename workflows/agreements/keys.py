"""Signers' keys: an EC P-256 key pair per signing account, certified by the installation CA.

The private key is kept only sealed (AES-256-GCM) under a key derived with argon2id from the signer's
signing PIN, which is never stored; the server alone cannot sign (电子签名法 art. 13: the signature
data belong to and are controlled by the signer). The PIN is first keyed with a pepper derived from
the installation secret, so a stolen database alone does not allow guessing PINs offline. The
ciphertext is bound to its account and key id (AEAD associated data), so it cannot be moved to
another account.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer
from workflows.accounts import service as accounts
from workflows.accounts.management import user_matches
from workflows.accounts.models import ROLE_LABELS, Role, User
from workflows.agreements import ca, pins
from workflows.agreements.models import SigningKey
from workflows.agreements.parties import BUREAU_NAME, BUREAU_SECTION
from workflows.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from workflows.registry.models import Kindergarten

PIN_PATTERN = re.compile(r"\d{6,12}")
SIGNING_ROLES = frozenset({Role.APPLICANT, Role.LEAD, Role.PILLAR, Role.OFFICER})
_NONCE = 12


class WrongPin(Exception):
    """The PIN does not open the sealed key (nothing about the key is revealed)."""


@dataclass(frozen=True)
class Unlocked:
    """A signer's key, opened for one signing, and its certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    record: SigningKey


def pin_problem(pin: str) -> str | None:
    """Why a new PIN is refused (None if acceptable)."""
    if not PIN_PATTERN.fullmatch(pin):
        return "签名密码须为 6–12 位数字"
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps <= {0} or steps <= {1, -9} or steps <= {-1, 9}:
        return "签名密码过于简单（不能是重复或连续的数字）"
    return None


def _pepper(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.get_secret_value().encode(), b"kinderflow signing pin", "sha256").digest()


def new_kdf(settings: Settings) -> dict[str, Any]:
    """Fresh derivation parameters: a random salt and the installation's argon2id cost."""
    return {
        "alg": "argon2id+aes-256-gcm",
        "salt": base64.b64encode(os.urandom(16)).decode(),
        "t": settings.argon2_time_cost,
        "m": settings.argon2_memory_kib,
        "p": settings.argon2_parallelism,
    }


def derive(settings: Settings, pin: str, kdf: dict[str, Any]) -> bytes:
    """The 256-bit key that seals a private key, from the PIN (peppered) and ``kdf``."""
    keyed_pin = hmac.new(_pepper(settings), pin.encode(), "sha256").digest()
    return hash_secret_raw(
        keyed_pin,
        base64.b64decode(kdf["salt"]),
        time_cost=kdf["t"],
        memory_cost=kdf["m"],
        parallelism=kdf["p"],
        hash_len=32,
        type=Type.ID,
    )


def key_aad(user_id: uuid.UUID, key_id: uuid.UUID) -> bytes:
    """What binds a sealed key to its account and key id (AEAD associated data)."""
    return f"kinderflow-signing-key:v1:{user_id}:{key_id}".encode()


def seal_with(derived: bytes, private_key: ec.EllipticCurvePrivateKey, aad: bytes) -> bytes:
    """The PKCS#8 private key encrypted under ``derived`` (nonce + AES-256-GCM ciphertext)."""
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(derived).encrypt(nonce, der, aad)


def seal(
    settings: Settings, private_key: ec.EllipticCurvePrivateKey, pin: str, aad: bytes
) -> tuple[bytes, dict[str, Any]]:
    """The private key encrypted under a key derived from ``pin`` with a fresh salt, and the parameters."""
    kdf = new_kdf(settings)
    return seal_with(derive(settings, pin, kdf), private_key, aad), kdf


def open_sealed(
    settings: Settings, sealed: bytes, kdf: dict[str, Any], pin: str, aad: bytes
) -> ec.EllipticCurvePrivateKey:
    """The private key, if ``pin`` is the one it was sealed with; WrongPin otherwise."""
    try:
        der = AESGCM(derive(settings, pin, kdf)).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
    except InvalidTag:
        raise WrongPin() from None
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def active_key(session: Session, user_id: uuid.UUID) -> SigningKey | None:
    """The user's current signing key, if one was set up."""
    return session.scalar(select(SigningKey).where(SigningKey.user_id == user_id, SigningKey.revoked_at.is_(None)))


def unlock(*, session: Session, settings: Settings, user_id: uuid.UUID, pin: str) -> Unlocked:
    """Open the user's key with the PIN; raises WrongPin (or Conflict when there is no key)."""
    record = active_key(session, user_id)
    if record is None:
        raise Conflict("您尚未设置签名密钥，请先设置签名密码", code="no_signing_key")
    key = open_sealed(settings, record.sealed_key, record.kdf, pin, key_aad(user_id, record.id))
    return Unlocked(key, x509.load_pem_x509_certificate(record.certificate_pem.encode()), record)


def _organization(user: User) -> tuple[str, str]:
    if user.kindergarten is not None:
        return user.kindergarten.name, ROLE_LABELS[Role(user.role)]
    return BUREAU_NAME, user.section.name if user.section else BUREAU_SECTION


def create_signing_key(
    *,
    session: Session,
    settings: Settings,
    user: User,
    pin: str,
    password: str,
    current_pin: str | None = None,
    address: str = "",
) -> SigningKey:
    """Give the user a new key pair and certificate, sealed under ``pin``.

    Needs the account password again; replacing a key also needs its PIN, and a wrong one counts
    against the signer's PIN throttle (``pins``) like a wrong PIN when signing."""
    if user.role not in SIGNING_ROLES:
        raise Forbidden("只有园所账号和成幼科账号可以设置签名密钥")
    problem = pin_problem(pin)
    if problem:
        raise ValidationFailed([FieldError("pin", "weak_pin", problem)])
    existing = active_key(session, user.id)
    if existing is not None and not current_pin:
        raise Conflict("已设置签名密钥；更换时请同时提供原签名密码", code="signing_key_exists")
    accounts.confirm_password(session=session, settings=settings, user=user, password=password, address=address)
    if existing is not None:
        assert current_pin is not None
        pins.check_throttle(session, user.id)
        try:
            open_sealed(settings, existing.sealed_key, existing.kdf, current_pin, key_aad(user.id, existing.id))
        except WrongPin:
            pins.record_wrong_pin(
                session, entity_type="user", entity_id=user.id, actor=_actor(user), purpose="change_key"
            )
            raise Forbidden("原签名密码错误", code="wrong_pin") from None
        existing.revoked_at = utcnow()
        session.flush()
    authority = ca.ensure_authority(session=session, settings=settings)
    private_key = ec.generate_private_key(ec.SECP256R1())
    organization, unit = _organization(user)
    certificate = ca.issue_certificate(
        authority,
        private_key.public_key(),
        common_name=user.display_name,
        organization=organization,
        unit=unit,
        user_id=user.username,
    )
    key_id = uuid.uuid4()
    sealed, kdf = seal(settings, private_key, pin, key_aad(user.id, key_id))
    record = SigningKey(
        id=key_id,
        user_id=user.id,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        certificate_serial=format(certificate.serial_number, "x"),
        certificate_sha256=ca.fingerprint(certificate),
        sealed_key=sealed,
        kdf=kdf,
    )
    session.add(record)
    session.flush()
    audit.append(
        session,
        entity_type="user",
        entity_id=user.id,
        event="signing_key_created" if existing is None else "signing_key_replaced",
        actor=_actor(user),
        data={"serial": record.certificate_serial, "sha256": record.certificate_sha256},
    )
    return record


def _actor(user: User) -> audit.Actor:
    return audit.Actor(id=str(user.id), name=user.display_name, role=Role(user.role).value)


def last_revoked_key(session: Session, user_id: uuid.UUID) -> SigningKey | None:
    """The key revoked last, when the user has no active one (they must set a PIN again)."""
    if active_key(session, user_id) is not None:
        return None
    stmt = (
        select(SigningKey)
        .where(SigningKey.user_id == user_id, SigningKey.revoked_at.is_not(None))
        .order_by(SigningKey.revoked_at.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def revoke_signing_key(*, session: Session, viewer: Viewer, user_id: uuid.UUID) -> SigningKey:
    """The officer (or the administrator) revokes a user's key; the user must enrol again to sign."""
    viewer.require_role(Role.OFFICER, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("账号不存在")
    record = session.scalar(
        select(SigningKey).where(SigningKey.user_id == user_id, SigningKey.revoked_at.is_(None)).with_for_update()
    )
    if record is None:
        raise Conflict("该账号没有有效的签名密钥", code="no_signing_key")
    record.revoked_at = utcnow()
    session.flush()
    audit.append(
        session,
        entity_type="user",
        entity_id=user.id,
        event="signing_key_revoked",
        actor=viewer.actor,
        data={"username": user.username, "serial": record.certificate_serial, "sha256": record.certificate_sha256},
    )
    return record


def list_active_keys(*, session: Session, viewer: Viewer, query: str = "") -> list[tuple[SigningKey, User]]:
    """Every active signing key with its account, for the officer's 签名密钥 list (by username)."""
    viewer.require_role(Role.OFFICER, Role.ADMIN)
    stmt = (
        select(SigningKey, User)
        .join(User, SigningKey.user_id == User.id)
        .outerjoin(Kindergarten, User.kindergarten_id == Kindergarten.id)
        .where(SigningKey.revoked_at.is_(None))
        .options(selectinload(User.kindergarten))
        .order_by(User.username)
    )
    if query:
        stmt = stmt.where(user_matches(query))
    return [(key, user) for key, user in session.execute(stmt)]
