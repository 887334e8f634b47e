"""The installation's certificate authority: created once, it certifies every signer's key.

Its private key is generated in the PKCS#11 token (``token``) and never leaves it; the database keeps
the certificate and the key's id in the token. Certificates are issued by the token signing them, so
neither the database nor the installation secret, nor both, can issue one.

An installation from before the token kept the CA key sealed (AES-256-GCM) under a key derived from
the installation secret. The first use after the upgrade moves that key into the token (sensitive,
not extractable) and erases it from the database, so the root, and every signature made under it,
stays valid. Backups of the database taken before the upgrade still hold it sealed: README says so.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.settings import Settings
from workflows import audit
from workflows.agreements import token
from workflows.agreements.models import SigningAuthority
from workflows.agreements.parties import BUREAU_NAME

CA_ROW = 1
CA_YEARS = 20
SIGNER_YEARS = 5
_NONCE = 12
_CA_AAD = b"kinderflow-ca-key:v1"


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: token.TokenKey

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding, hex."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _legacy_wrapping_key(settings: Settings) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kinderflow", info=b"installation-ca-key")
    return hkdf.derive(settings.secret_key.get_secret_value().encode())


def _new_authority(settings: Settings, now: datetime) -> Authority:
    key_id = os.urandom(16)
    key = token.generate_key(settings, key_id=key_id, label=token.key_label("ca", "root", key_id))
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Kinderflow 电子签名根证书"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, BUREAU_NAME),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "幼教联盟文书流转系统"),
            # Tells two installations' roots apart.
            x509.NameAttribute(NameOID.SERIAL_NUMBER, uuid.uuid4().hex),
        ]
    )
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(certificate, key)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not cert_sign,  # nonRepudiation: the signer commits to the content
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _move_legacy_key(settings: Settings, session: Session, row: SigningAuthority) -> token.TokenKey:
    """The CA key sealed in the database by the scheme before the token: into the token, out of the row."""
    if row.sealed_key is None:
        raise RuntimeError("expected row.sealed_key is not None")
    certificate = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    nonce, sealed = row.sealed_key[:_NONCE], row.sealed_key[_NONCE:]
    der = AESGCM(_legacy_wrapping_key(settings)).decrypt(nonce, sealed, _CA_AAD)
    legacy = serialization.load_der_private_key(der, password=None)
    if not isinstance(legacy, ec.EllipticCurvePrivateKey):
        raise TypeError("expected isinstance(legacy, ec.EllipticCurvePrivateKey)")
    key_id = token.key_id_for(certificate)
    key = token.import_key(settings, legacy, key_id=key_id, label=token.key_label("ca", "root", key_id))
    row.key_id, row.sealed_key = key_id.hex(), None
    session.flush()
    audit.append(
        session,
        entity_type="registry",
        entity_id="signing_authority",
        event="ca_key_moved_to_token",
        actor=audit.SYSTEM_ACTOR,
        data={"sha256": row.certificate_sha256},
    )
    return key


def ensure_authority(*, session: Session, settings: Settings) -> Authority:
    """The installation CA, created on first need (or by ``kinderflow ca init``), its key in the token."""
    row = session.get(SigningAuthority, CA_ROW)
    if row is None:
        authority = _new_authority(settings, datetime.now(UTC))
        try:
            with session.begin_nested():
                session.add(
                    SigningAuthority(
                        id=CA_ROW,
                        certificate_pem=authority.pem.decode(),
                        certificate_sha256=fingerprint(authority.certificate),
                        key_id=authority.key.key_id.hex(),
                    )
                )
            return authority
        except IntegrityError:
            token.destroy_key(settings, authority.key.key_id)
            row = session.get(SigningAuthority, CA_ROW)  # another process created it first
            if row is None:
                raise RuntimeError("the CA row vanished after a concurrent insert") from None
    certificate = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    if row.key_id is None:
        return Authority(certificate, _move_legacy_key(settings, session, row))
    key_id = bytes.fromhex(row.key_id)
    if not token.has_key(settings, key_id):
        raise token.TokenUnavailable(
            "签名令牌中找不到本系统根证书的密钥（令牌被更换或清空了吗？），暂不能签发证书或签名"
        )
    return Authority(certificate, token.TokenKey(settings, key_id, certificate.public_key()))  # type: ignore[arg-type]


def authority_certificate(*, session: Session, settings: Settings) -> x509.Certificate:
    """The CA certificate (public), created on first need."""
    row = session.get(SigningAuthority, CA_ROW)
    if row is not None:
        return x509.load_pem_x509_certificate(row.certificate_pem.encode())
    return ensure_authority(session=session, settings=settings).certificate


def issue_certificate(
    authority: Authority,
    public_key: ec.EllipticCurvePublicKey,
    *,
    common_name: str,
    organization: str,
    unit: str,
    user_id: str,
) -> x509.Certificate:
    """A signer's certificate: digitalSignature + nonRepudiation, for SIGNER_YEARS (within the CA's life)."""
    now = datetime.now(UTC)
    not_after = min(now + timedelta(days=365 * SIGNER_YEARS), authority.certificate.not_valid_after_utc)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit[:64]),
            x509.NameAttribute(NameOID.USER_ID, user_id),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(authority.key, hashes.SHA256())
    )
