"""The PKCS#11 token that holds every private signing key: the signers' and the CA's.

Keys are generated inside the token (EC P-256), marked sensitive and not extractable, and found by
their CKA_ID (the key's id, kept in the database next to the certificate). The database and the
installation secret hold no private key: without the token nothing can be signed. The token is
SoftHSM2 in demo and embedded mode (``storage.softhsm``) and any PKCS#11 HSM in production
(``KINDERFLOW_PKCS11_*``).

A process keeps one logged-in session per token and serialises every call on it: the library is
initialised without locking callbacks, so PKCS#11 allows one thread in it at a time. After a fork
(Celery, uvicorn workers) the child initialises the library again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature, encode_named_curve_parameters
from pyhanko.sign.pkcs11 import PKCS11Signer

from storage import softhsm
from storage.settings import Settings
from workflows.errors import ServiceUnavailable

CURVE = "secp256r1"


class TokenUnavailable(ServiceUnavailable):
    """The token cannot be reached (not installed, not configured, wrong PIN): a 503 that says why."""

    code = "signing_token_unavailable"


class KeyNotInToken(Exception):
    """No private key with this id is in the token (destroyed, or the token was replaced)."""


_provisioned: dict[tuple[Path, str], softhsm.TokenConfig] = {}


def config_for(settings: Settings) -> softhsm.TokenConfig:
    """The configured token, or the installation's own SoftHSM2 token under var/ (created on first use)."""
    if settings.pkcs11_module:
        return softhsm.TokenConfig(
            module=settings.pkcs11_module,
            label=settings.pkcs11_token_label,
            pin=settings.pkcs11_pin.get_secret_value(),
            slot=settings.pkcs11_slot,
        )
    folder = settings.var_dir / "softhsm2"
    known = _provisioned.get((folder, settings.pkcs11_token_label))
    if known is not None:
        return known
    try:
        config = softhsm.provision(folder, label=settings.pkcs11_token_label)
    except softhsm.SoftHsmMissing:
        raise TokenUnavailable(
            f"未安装 {softhsm.PACKAGE}，签名密钥无处保管，暂不能签名或设置签名密码（请安装 {softhsm.PACKAGE} 软件包）"
        ) from None
    except (OSError, subprocess.SubprocessError) as exc:  # softhsm2-util failed, or var/ is not writable
        raise TokenUnavailable(f"无法创建签名令牌（SoftHSM2）：{exc}"[:200]) from None
    _provisioned[(folder, settings.pkcs11_token_label)] = config
    return config


@dataclass
class _Open:
    pid: int
    session: Any


_LOCK = threading.RLock()
_open: dict[softhsm.TokenConfig, _Open] = {}
_initialised: dict[str, int] = {}  # module -> the process that initialised it


def _token(lib: Any, config: softhsm.TokenConfig) -> Any:
    if config.slot is not None:
        slot = next((s for s in lib.get_slots(token_present=True) if s.slot_id == config.slot), None)
        if slot is None:
            raise TokenUnavailable(f"签名令牌不可用：找不到 PKCS#11 槽位 {config.slot}")
        return slot.get_token()
    return lib.get_token(token_label=config.label)


def _connect(config: softhsm.TokenConfig) -> Any:
    current = _open.get(config)
    if current is not None and current.pid == os.getpid():
        return current.session
    try:
        lib = pkcs11.lib(config.module)
        if _initialised.setdefault(config.module, os.getpid()) != os.getpid():
            lib.reinitialize()  # forked: this process must initialise the library itself
            _initialised[config.module] = os.getpid()
        session = _token(lib, config).open(user_pin=config.pin, rw=True)
    except TokenUnavailable:
        raise
    except pkcs11.PinIncorrect:
        raise TokenUnavailable("签名令牌不可用：令牌 PIN 错误（KINDERFLOW_PKCS11_PIN）") from None
    except (pkcs11.NoSuchToken, pkcs11.MultipleTokensReturned):
        raise TokenUnavailable(f"签名令牌不可用：找不到标签为「{config.label}」的唯一令牌") from None
    except (pkcs11.PKCS11Error, OSError, RuntimeError) as exc:
        raise TokenUnavailable(f"签名令牌不可用：{type(exc).__name__} {exc}"[:200]) from None
    _open[config] = _Open(os.getpid(), session)
    return session


def is_open(config: softhsm.TokenConfig) -> bool:
    """Whether this process has a session on the token."""
    current = _open.get(config)
    return current is not None and current.pid == os.getpid()


def token_session(settings: Settings) -> AbstractContextManager[Any]:
    """The process's logged-in session on the token, held alone for the ``with`` block."""
    return session_for(config_for(settings))


@contextmanager
def session_for(config: softhsm.TokenConfig) -> Iterator[Any]:
    """The logged-in session on the token ``config`` names, held alone for the ``with`` block."""
    with _LOCK:
        session = _connect(config)
        try:
            yield session
        except (pkcs11.SessionHandleInvalid, pkcs11.SessionClosed, pkcs11.DeviceRemoved, pkcs11.TokenNotPresent):
            _open.pop(config, None)  # the next call opens a new session
            raise TokenUnavailable("签名令牌连接已断开，请重试") from None


def _private_key(session: Any, key_id: bytes) -> Any:
    try:
        return session.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, id=key_id)
    except pkcs11.NoSuchKey:
        raise KeyNotInToken(key_id.hex()) from None


# Private keys: made in the token, kept there, usable only to sign.
_PRIVATE = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}


def generate_key(settings: Settings, *, key_id: bytes, label: str) -> TokenKey:
    """A new EC P-256 key pair made inside the token; only the public half comes out."""
    with token_session(settings) as session:
        parameters = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(CURVE)}, local=True
        )
        # The public half needs no place in the token: the certificate carries it.
        public, _ = parameters.generate_keypair(
            store=True,
            id=key_id,
            label=label,
            public_template={Attribute.TOKEN: False, Attribute.VERIFY: True},
            private_template=_PRIVATE,
        )
        der = encode_ec_public_key(public)
    public_key = serialization.load_der_public_key(der)
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise TypeError("expected isinstance(public_key, ec.EllipticCurvePublicKey)")
    return TokenKey(settings, key_id, public_key)


def import_key(settings: Settings, private_key: ec.EllipticCurvePrivateKey, *, key_id: bytes, label: str) -> TokenKey:
    """Put a key made before the token existed into it, sensitive and not extractable (the CA's)."""
    numbers = private_key.private_numbers()
    with token_session(settings) as session:
        try:
            _private_key(session, key_id)
        except KeyNotInToken:
            session.create_object(
                {
                    **_PRIVATE,
                    Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                    Attribute.KEY_TYPE: KeyType.EC,
                    Attribute.EC_PARAMS: encode_named_curve_parameters(CURVE),
                    Attribute.VALUE: numbers.private_value.to_bytes(32, "big"),
                    Attribute.ID: key_id,
                    Attribute.LABEL: label,
                }
            )
    return TokenKey(settings, key_id, private_key.public_key())


def destroy_key(settings: Settings, key_id: bytes) -> None:
    """Destroy a private key in the token (a revoked key can never sign again); absent is fine."""
    with token_session(settings) as session, suppress(KeyNotInToken):
        _private_key(session, key_id).destroy()


def has_key(settings: Settings, key_id: bytes) -> bool:
    with token_session(settings) as session:
        try:
            _private_key(session, key_id)
        except KeyNotInToken:
            return False
        return True


def key_label(kind: str, name: str, key_id: bytes) -> str:
    """CKA_LABEL of a key: what it is, whose, and its id (operators see it in the HSM's tools)."""
    return f"kinderflow {kind} {name} {key_id.hex()}"[:120]


def key_id_for(certificate: x509.Certificate) -> bytes:
    """A deterministic CKA_ID for a key that already has a certificate (an imported key)."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:16]


class TokenKey(ec.EllipticCurvePrivateKey):
    """A private key in the token, usable wherever ``cryptography`` signs (certificates, CMS).

    ``cryptography`` calls ``sign``; the digest is made here and the token signs it (CKM_ECDSA, which
    every HSM with EC keys offers). Nothing else about the private half can be had."""

    def __init__(self, settings: Settings, key_id: bytes, public: ec.EllipticCurvePublicKey) -> None:
        self._settings = settings
        self.key_id = key_id
        self._public = public

    def sign(
        self, data: bytes | bytearray | memoryview, signature_algorithm: ec.EllipticCurveSignatureAlgorithm
    ) -> bytes:
        algorithm = signature_algorithm.algorithm
        if isinstance(algorithm, utils.Prehashed):
            digest = bytes(data)
        else:
            hashing = hashes.Hash(algorithm)
            hashing.update(data)
            digest = hashing.finalize()
        with token_session(self._settings) as session:
            raw = _private_key(session, self.key_id).sign(digest, mechanism=Mechanism.ECDSA)
        return encode_ecdsa_signature(raw)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise TypeError("a signing key in the token cannot be used for key agreement")

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise TypeError("a private key in the token cannot be exported")

    def private_bytes(self, *args: object, **kwargs: object) -> bytes:
        raise TypeError("a private key in the token cannot be exported")

    def __copy__(self) -> TokenKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenKey:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenKey) and other.key_id == self.key_id

    def __hash__(self) -> int:
        return hash(self.key_id)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@contextmanager
def pdf_signer(
    key: TokenKey, *, certificate: x509.Certificate, chain: list[x509.Certificate]
) -> Iterator[PKCS11Signer]:
    """pyHanko's PKCS#11 signer for ``key``, with the token held for the ``with`` block."""
    with token_session(key._settings) as session:
        _private_key(session, key.key_id)  # a missing key is told here, not deep inside pyHanko
        yield PKCS11Signer(
            session,
            key_id=key.key_id,
            signing_cert=_asn1(certificate),
            ca_chain=[_asn1(c) for c in chain],
            use_raw_mechanism=True,
            other_certs_to_pull=(),
            bulk_fetch=False,
        )
