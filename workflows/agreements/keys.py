"""Signers' keys: an EC P-256 key pair per signing account, made in the PKCS#11 token and certified
by the installation CA.

The private key is generated inside the token, sensitive and not extractable (``token``), and is used
only after the signer's PIN is verified against ``pin_hash`` under the one PIN throttle (``pins``).
The PIN is keyed with a pepper derived from the installation secret before argon2id, so the database
alone does not allow guessing it offline; and since the private key is not in the database, even the
database with the secret (and a guessed PIN) cannot sign: that needs the token.

Keys from before the token (sealed in the database under a PIN-derived key) were retired by the
upgrade (migration ``0022``): their signers set a PIN again on 我的账号, which enrols a key in the token.
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer
from workflows.accounts import service as accounts
from workflows.accounts.management import user_matches
from workflows.accounts.models import User
from workflows.accounts.passwords import hasher_for, verify_password
from workflows.agreements import ca, pins, token
from workflows.agreements.models import SigningKey
from workflows.agreements.parties import BUREAU_NAME, BUREAU_SECTION
from workflows.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from workflows.registry.models import Kindergarten
from workflows.roles import ROLE_LABELS, Role

PIN_PATTERN = re.compile(r"\d{6,12}")
SIGNING_ROLES = frozenset({Role.APPLICANT, Role.LEAD, Role.PILLAR, Role.OFFICER})

logger = logging.getLogger(__name__)
# ``key_id`` of a key from before the token (retired by the upgrade, never in the token).
LEGACY_KEY_ID = ""


class WrongPin(Exception):
    """The PIN does not match the signer's (nothing about the key is revealed)."""


@dataclass(frozen=True)
class Unlocked:
    """A signer's key in the token, released for one signing after the PIN matched, and its certificate."""

    key: token.TokenKey
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


def _keyed_pin(settings: Settings, pin: str) -> str:
    pepper = hmac.new(settings.secret_key.get_secret_value().encode(), b"kinderflow signing pin", "sha256").digest()
    return hmac.new(pepper, pin.encode(), "sha256").hexdigest()


def hash_pin(settings: Settings, pin: str) -> str:
    """The slow hash (argon2id, the configured cost) of the PIN keyed with the installation's pepper."""
    return hasher_for(settings).hash(_keyed_pin(settings, pin))


def pin_matches(settings: Settings, record: SigningKey, pin: str) -> bool:
    """True when ``pin`` is the one the key was enrolled with."""
    return bool(record.pin_hash) and verify_password(settings, record.pin_hash, _keyed_pin(settings, pin))


def active_key(session: Session, user_id: uuid.UUID) -> SigningKey | None:
    """The user's current signing key, if one was set up."""
    return session.scalar(select(SigningKey).where(SigningKey.user_id == user_id, SigningKey.revoked_at.is_(None)))


def _no_key(session: Session, user_id: uuid.UUID) -> Conflict:
    revoked = last_revoked_key(session, user_id)
    if revoked is not None and revoked.key_id == LEGACY_KEY_ID:
        return Conflict(
            "签名密钥已改由签名令牌保管，原密钥已停用：请在「我的账号」重新设置签名密码后再签署", code="no_signing_key"
        )
    if revoked is not None:
        return Conflict("您的签名密钥已被撤销，请在「我的账号」重新设置签名密码", code="no_signing_key")
    return Conflict("您尚未设置签名密钥，请先在「我的账号」设置签名密码", code="no_signing_key")


def missing_key_message(session: Session, user_id: uuid.UUID) -> str | None:
    """Why the user cannot sign yet (no PIN set, or the key revoked), or None when they have a key."""
    return None if active_key(session, user_id) is not None else _no_key(session, user_id).message


def unlock(*, session: Session, settings: Settings, user_id: uuid.UUID, pin: str) -> Unlocked:
    """The user's key in the token if the PIN matches; raises WrongPin (or Conflict when there is no key)."""
    record = active_key(session, user_id)
    if record is None:
        raise _no_key(session, user_id)
    if not pin_matches(settings, record, pin):
        raise WrongPin()
    certificate = x509.load_pem_x509_certificate(record.certificate_pem.encode())
    key_id = bytes.fromhex(record.key_id)
    if not token.has_key(settings, key_id):
        raise Conflict(
            "签名令牌中找不到您的签名密钥（令牌被更换或清空了吗？）：请在「我的账号」重新设置签名密码",
            code="signing_key_missing",
        )
    return Unlocked(token.TokenKey(settings, key_id, certificate.public_key()), certificate, record)  # type: ignore[arg-type]


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
    """Give the user a new key pair in the token and a certificate, usable with ``pin``.

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
        if current_pin is None:
            raise RuntimeError("expected current_pin is not None")
        pins.check_throttle(session, user.id)
        if not pin_matches(settings, existing, current_pin):
            pins.record_wrong_pin(
                session, entity_type="user", entity_id=user.id, actor=_actor(user), purpose="change_key"
            )
            raise Forbidden("原签名密码错误", code="wrong_pin") from None
        _retire(session, settings, existing)
    authority = ca.ensure_authority(session=session, settings=settings)
    record = enrol(session=session, settings=settings, authority=authority, user=user, pin_hash=hash_pin(settings, pin))
    audit.append(
        session,
        entity_type="user",
        entity_id=user.id,
        event="signing_key_created" if existing is None else "signing_key_replaced",
        actor=_actor(user),
        data={"serial": record.certificate_serial, "sha256": record.certificate_sha256},
    )
    return record


def enrol(*, session: Session, settings: Settings, authority: ca.Authority, user: User, pin_hash: str) -> SigningKey:
    """A key pair made in the token for ``user``, its certificate issued by the CA in the token, recorded."""
    record_id = uuid.uuid4()
    key = token.generate_key(
        settings, key_id=record_id.bytes, label=token.key_label("signer", user.username, record_id.bytes)
    )
    organization, unit = _organization(user)
    certificate = ca.issue_certificate(
        authority,
        key.public_key(),
        common_name=user.display_name,
        organization=organization,
        unit=unit,
        user_id=user.username,
    )
    record = SigningKey(
        id=record_id,
        user_id=user.id,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        certificate_serial=format(certificate.serial_number, "x"),
        certificate_sha256=ca.fingerprint(certificate),
        key_id=record_id.bytes.hex(),
        pin_hash=pin_hash,
    )
    session.add(record)
    session.flush()
    return record


def _retire(session: Session, settings: Settings, record: SigningKey) -> None:
    """Revoke the key and destroy its private half in the token: it can never sign again."""
    record.revoked_at = utcnow()
    session.flush()
    if record.key_id == LEGACY_KEY_ID:
        return
    try:
        token.destroy_key(settings, bytes.fromhex(record.key_id))
    except token.TokenUnavailable as exc:
        # Revoking must not wait for the token: a revoked record is never unlocked, so the key left
        # behind cannot sign; it is only clutter in the token.
        logger.warning("revoked key %s left in the token: %s", record.key_id, exc.message)


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


def revoke_signing_key(*, session: Session, settings: Settings, viewer: Viewer, user_id: uuid.UUID) -> SigningKey:
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
    _retire(session, settings, record)
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
