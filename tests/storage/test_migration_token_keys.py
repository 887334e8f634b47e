"""An installation from before the token: its sealed keys are retired, its CA moves into the token.

At revision 0014 a signer has an active key sealed under its PIN, another a revoked one, and the CA key
is sealed under the installation secret (the old scheme, written here as the old code wrote it).
After the upgrade no signer key material is left in the database; the signer is told, on 我的账号 and
when signing, to set the PIN again; the CA's first use moves its key into the token and erases it,
and keeps the root: the new key it certifies chains to the same CA certificate as before.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from api.main import create_app
from storage import migrate
from storage.db import Database
from storage.runtime import build_runtime
from tests.fixtures.app import PASSWORD, make_settings
from tests.fixtures.database import BACKENDS, discard_database_url, fresh_database_url
from tests.web.conftest import Browser
from workflows import audit
from workflows.accounts.passwords import hash_password
from workflows.agreements import ca, keys, token
from workflows.agreements.models import SigningAuthority, SigningKey
from workflows.errors import Conflict

BEFORE = "0014_agreement_kinds_withdrawals"
PIN = "135790"


def legacy_ca(secret: str) -> tuple[x509.Certificate, bytes]:
    """A root and its key sealed as ``ca.py`` did before the token (HKDF of the secret, AES-256-GCM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kinderflow 电子签名根证书")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650)).add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    wrapping = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kinderflow", info=b"installation-ca-key")
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(wrapping.derive(secret.encode())).encrypt(nonce, der, b"kinderflow-ca-key:v1")
    return certificate, sealed


def insert_user(conn, settings, user_id: uuid.UUID, username: str, display_name: str) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, username, display_name, password_hash, role, phone, is_active, is_demo,"
            " must_change_password, created_at) VALUES (:id, :username, :name, :hash, 'officer', '', true, false,"
            " false, :now)"
        ),
        {
            "id": user_id if conn.dialect.name == "postgresql" else user_id.hex,
            "username": username,
            "name": display_name,
            "hash": hash_password(settings, PASSWORD),
            "now": datetime.now(UTC),
        },
    )


def insert_legacy_key(conn, user_id: uuid.UUID, *, revoked: bool) -> None:
    conn.execute(
        text(
            "INSERT INTO signing_keys (id, user_id, algorithm, certificate_pem, certificate_serial, certificate_sha256,"
            " sealed_key, kdf, created_at, revoked_at) VALUES (:id, :user_id, 'ec-p256', '-', '1', :sha, :sealed,"
            " :kdf, :now, :revoked)"
        ),
        {
            "id": uuid.uuid4() if conn.dialect.name == "postgresql" else uuid.uuid4().hex,
            "user_id": user_id if conn.dialect.name == "postgresql" else user_id.hex,
            "sha": uuid.uuid4().hex * 2,
            "sealed": os.urandom(80),
            "kdf": json.dumps({"alg": "argon2id+aes-256-gcm", "salt": "AAAA", "t": 1, "m": 1024, "p": 1}),
            "now": datetime.now(UTC),
            "revoked": datetime.now(UTC) if revoked else None,
        },
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_keys_from_before_the_token_are_retired_and_the_ca_moves_into_it(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path)
    try:
        migrate.upgrade(url, BEFORE)
        settings = make_settings(url, tmp_path)
        database = Database(url)
        signer_id, other_id = uuid.uuid4(), uuid.uuid4()
        root, sealed = legacy_ca(settings.secret_key.get_secret_value())
        with database.engine.begin() as conn:
            # Written as the schema of the time has it (today's model has columns added since).
            insert_user(conn, settings, signer_id, "officer-old", "老签署人")
            insert_user(conn, settings, other_id, "officer-gone", "已撤销者")
            insert_legacy_key(conn, signer_id, revoked=False)
            insert_legacy_key(conn, other_id, revoked=True)
            conn.execute(
                text("INSERT INTO signing_authority (id, certificate_pem, certificate_sha256, sealed_key, created_at)"
                     " VALUES (1, :pem, :sha, :sealed, :now)"),
                {"pem": root.public_bytes(serialization.Encoding.PEM).decode(), "sha": ca.fingerprint(root),
                 "sealed": sealed, "now": datetime.now(UTC)},
            )  # fmt: skip
        database.dispose()

        migrate.upgrade(url)
        runtime = build_runtime(settings)
        with runtime.db.engine.connect() as conn:
            rows = conn.execute(text("SELECT key_id, pin_hash, revoked_at FROM signing_keys")).fetchall()
        assert len(rows) == 2 and all(r.key_id == "" and r.pin_hash == "" and r.revoked_at is not None for r in rows)

        with runtime.db.session() as s:
            with pytest.raises(Conflict, match="签名密钥已改由签名令牌保管") as refused:
                keys.unlock(session=s, settings=settings, user_id=signer_id, pin=PIN)
            assert refused.value.code == "no_signing_key"
            # The CA's first use moves its key into the token and erases it here; the root stays.
            authority = ca.ensure_authority(session=s, settings=settings)
            assert ca.fingerprint(authority.certificate) == ca.fingerprint(root)
        with runtime.db.session() as s:
            row = s.get(SigningAuthority, ca.CA_ROW)
            assert row is not None and row.sealed_key is None and row.key_id is not None
            assert token.has_key(settings, bytes.fromhex(row.key_id))
            [moved] = list(audit.history(s, entity_type="registry", entity_id="signing_authority"))
            assert moved.event == "ca_key_moved_to_token"

        with TestClient(create_app(runtime=runtime)) as client:
            person = Browser(client)
            assert person.login("officer-old").status_code == 303
            page = person.get("/account")
            assert page.status_code == 200 and "原签名密钥已于" in page.text and "重新设置签名密码" in page.text
            bearer = client.post("/api/auth/token", data={"username": "officer-old", "password": PASSWORD}).json()
            h = {"Authorization": f"Bearer {bearer['access_token']}"}
            r = client.post("/api/me/signing-key", headers=h, json={"pin": PIN, "password": PASSWORD})
            assert r.status_code == 201, r.text
        with runtime.db.session() as s:
            fresh = s.scalar(select(SigningKey).where(SigningKey.user_id == signer_id, SigningKey.revoked_at.is_(None)))
            assert fresh is not None and fresh.key_id and fresh.pin_hash
            unlocked = keys.unlock(session=s, settings=settings, user_id=signer_id, pin=PIN)
        unlocked.certificate.verify_directly_issued_by(root)  # certified by the moved root key, in the token
        runtime.close()
    finally:
        discard_database_url(url)
