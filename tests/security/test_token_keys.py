"""Signer and CA keys live in the PKCS#11 token: the database and the installation secret cannot sign.

The attacker of issue 16 had a copy of the database and ``KINDERFLOW_SECRET_KEY``. Here the attacker
gets both (every row of every table, and the secret), and even the signer's PIN, and tries what is
left: there is no private key to find, the service on another token cannot sign, and a key of the
attacker's own, under a certificate copied from the database or one it makes, fails ``openssl cms
-verify`` against /api/ca.pem, while the real signature passes it.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from fastapi.testclient import TestClient
from pkcs11 import Attribute, ObjectClass
from sqlalchemy import inspect, select

from api.main import create_app
from storage import softhsm
from storage.runtime import build_runtime
from tests.fixtures.agreements import PIN, create_key
from tests.fixtures.app import PASSWORD, build_world, make_settings
from tests.web.conftest import Browser
from workflows.agreements import ca, cms, keys, token
from workflows.agreements.demo import load_signing_demo
from workflows.agreements.models import SigningAuthority, SigningKey
from workflows.models import metadata

CONTENT = "联盟协议书 A&B<幼儿园> 定稿".encode() * 50


def openssl_verifies(folder: Path, signature: bytes, ca_pem: bytes, name: str) -> bool:
    (folder / f"{name}.p7s").write_bytes(signature)
    (folder / "content.bin").write_bytes(CONTENT)
    (folder / "ca.pem").write_bytes(ca_pem)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(folder / f"{name}.p7s"),
         "-content", str(folder / "content.bin"), "-CAfile", str(folder / "ca.pem"), "-purpose", "any",
         "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.returncode == 0 and "Verification successful" in result.stderr


def token_attributes(runtime, key_id: bytes) -> dict[Attribute, object]:
    with token.token_session(runtime.settings) as session:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=key_id)
        values = {a: key[a] for a in (Attribute.SENSITIVE, Attribute.EXTRACTABLE, Attribute.NEVER_EXTRACTABLE,
                                      Attribute.ALWAYS_SENSITIVE, Attribute.LOCAL, Attribute.SIGN, Attribute.LABEL)}  # fmt: skip
        with pytest.raises(pkcs11.AttributeSensitive):
            key[Attribute.VALUE]  # the token refuses to give out the private value
    return values


def every_value_in_the_database(runtime) -> list[object]:
    values: list[object] = []
    with runtime.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                values.extend(v for v in row if v is not None)
    return values


def loads_as_private_key(value: object) -> bool:
    data = value if isinstance(value, bytes) else value.encode() if isinstance(value, str) else b""
    for load in (serialization.load_der_private_key, serialization.load_pem_private_key):
        try:
            load(data, password=None)
        except (ValueError, TypeError):
            continue
        return True
    return False


def test_the_ca_key_is_made_in_the_token_once_and_never_leaves_it(runtime):
    with runtime.db.session() as s:
        first = ca.ensure_authority(session=s, settings=runtime.settings)
    with runtime.db.session() as s:
        again = ca.ensure_authority(session=s, settings=runtime.settings)
        row = s.get(SigningAuthority, ca.CA_ROW)
        assert row is not None and row.sealed_key is None and row.key_id == first.key.key_id.hex()
    assert ca.fingerprint(first.certificate) == ca.fingerprint(again.certificate)
    assert again.key.key_id == first.key.key_id
    attributes = token_attributes(runtime, first.key.key_id)
    assert attributes[Attribute.SENSITIVE] and not attributes[Attribute.EXTRACTABLE]
    assert attributes[Attribute.NEVER_EXTRACTABLE] and attributes[Attribute.ALWAYS_SENSITIVE]
    assert attributes[Attribute.LOCAL]  # generated in the token, not imported
    with pytest.raises(TypeError):
        first.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    # The root certifies itself with the key in the token.
    first.certificate.verify_directly_issued_by(first.certificate)


def test_a_signers_key_is_made_in_the_token_and_released_only_by_the_pin(client, login, world, runtime):
    created = create_key(client, login("lead-a"))
    user_id = world.users["lead-a"].id
    with runtime.db.session() as s:
        record = s.get(SigningKey, uuid.UUID(created["id"]))
        assert record is not None and record.pin_hash.startswith("$argon2id$") and PIN not in record.pin_hash
        key_id = bytes.fromhex(record.key_id)
        with pytest.raises(keys.WrongPin):
            keys.unlock(session=s, settings=runtime.settings, user_id=user_id, pin="97531864")
        unlocked = keys.unlock(session=s, settings=runtime.settings, user_id=user_id, pin=PIN)
        root = ca.authority_certificate(session=s, settings=runtime.settings)
    attributes = token_attributes(runtime, key_id)
    assert attributes[Attribute.SENSITIVE] and not attributes[Attribute.EXTRACTABLE] and attributes[Attribute.LOCAL]
    assert "lead-a" in attributes[Attribute.LABEL]
    assert unlocked.key.public_key() == unlocked.certificate.public_key()
    signature = cms.sign_detached(CONTENT, key=unlocked.key, certificate=unlocked.certificate)
    assert cms.verify_detached(CONTENT, signature, ca_certificate=root).ok
    # Revoking destroys the private key in the token: nothing can sign with it again.
    r = client.post(f"/api/users/{user_id}/signing-key/revoke", headers=login("officer"))
    assert r.status_code == 200, r.text
    assert not token.has_key(runtime.settings, key_id)


def attacker_certificate(*, subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey,
                         signed_by: ec.EllipticCurvePrivateKey, ca: bool = False) -> x509.Certificate:  # fmt: skip
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signed_by, hashes.SHA256())
    )


def test_the_database_and_the_secret_without_the_token_cannot_sign(client, login, world, runtime, tmp_path):
    create_key(client, login("kg-a1"))
    user_id = world.users["kg-a1"].id
    ca_pem = client.get("/api/ca.pem").content
    with runtime.db.session() as s:
        real = keys.unlock(session=s, settings=runtime.settings, user_id=user_id, pin=PIN)
    # The control: what the service signs with the token passes the very check the attacker must pass.
    assert openssl_verifies(
        tmp_path, cms.sign_detached(CONTENT, key=real.key, certificate=real.certificate), ca_pem, "real"
    )

    # The attacker's copy: every row, and the secret. No private key is there to load, sealed or not.
    secret = runtime.settings.secret_key.get_secret_value()
    columns = {c["name"] for c in inspect(runtime.db.engine).get_columns("signing_keys")}
    assert not {"sealed_key", "kdf"} & columns
    with runtime.db.session() as s:
        assert s.scalar(select(SigningAuthority.sealed_key)) is None
        record = s.scalar(select(SigningKey).where(SigningKey.user_id == user_id))
        assert record is not None and keys.pin_matches(runtime.settings, record, PIN)  # even the PIN, guessed
    values = every_value_in_the_database(runtime)
    assert len(values) > 50 and not [v for v in values if loads_as_private_key(v)]
    assert secret and not loads_as_private_key(secret)

    # Best efforts with keys of its own: the signer's real certificate, a copy of it re-signed, a fake root.
    ca_certificate = x509.load_pem_x509_certificate(ca_pem)
    own = ec.generate_private_key(ec.SECP256R1())
    forged = {
        "real-certificate": real.certificate,
        "copied-certificate": attacker_certificate(
            subject=real.certificate.subject, issuer=ca_certificate.subject, key=own, signed_by=own
        ),
    }
    fake_root_key = ec.generate_private_key(ec.SECP256R1())
    fake_root = attacker_certificate(
        subject=ca_certificate.subject,
        issuer=ca_certificate.subject,
        key=fake_root_key,
        signed_by=fake_root_key,
        ca=True,
    )
    forged["fake-root"] = attacker_certificate(
        subject=real.certificate.subject, issuer=fake_root.subject, key=own, signed_by=fake_root_key
    )
    for name, certificate in forged.items():
        builder = pkcs7.PKCS7SignatureBuilder().set_data(CONTENT).add_signer(certificate, own, hashes.SHA256())
        if name == "fake-root":
            builder = builder.add_certificate(fake_root)
        signature = builder.sign(
            serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
        )
        assert not openssl_verifies(tmp_path, signature, ca_pem, name), name

    # The service itself, given the database and the secret but another token, cannot sign either.
    ours = os.environ["SOFTHSM2_CONF"]
    other = softhsm.provision(tmp_path / "other-token", label="kinderflow-tests")
    os.environ["SOFTHSM2_CONF"] = ours  # provision points the process at the new token; this one keeps the suite's
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(tmp_path / "other-token" / "softhsm2.conf"),
        "KINDERFLOW_PKCS11_PIN": other.pin,
        "KINDERFLOW_DATABASE_URL": runtime.settings.database_url,
        "KINDERFLOW_SECRET_KEY": secret,
        "KINDERFLOW_VAR_DIR": str(tmp_path),
        "KINDERFLOW_DEMO": "true",
    }
    script = f"""
import uuid
from storage.db import Database
from storage.settings import Settings
from workflows.agreements import ca, keys
from workflows.errors import DomainError
settings = Settings()
with Database(settings.database_url).session() as s:
    for attempt in (lambda: keys.unlock(session=s, settings=settings, user_id=uuid.UUID("{user_id}"), pin="{PIN}"),
                    lambda: ca.ensure_authority(session=s, settings=settings)):
        try:
            attempt()
            print("signed")
        except DomainError as exc:
            print(exc.code, exc.message)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("signing_key_missing 签名令牌中找不到您的签名密钥"), lines
    assert lines[1].startswith("signing_token_unavailable 签名令牌中找不到本系统根证书的密钥"), lines


def _sign_in_child(settings, key_id: bytes, public_pem: bytes, queue) -> None:
    key = token.TokenKey(settings, key_id, serialization.load_pem_public_key(public_pem))
    signature = key.sign(CONTENT, ec.ECDSA(hashes.SHA256()))
    queue.put(signature)


def test_a_forked_process_signs_with_the_token_too(runtime):
    """Celery and uvicorn workers fork: the child initialises the library again and signs."""
    with runtime.db.session() as s:
        authority = ca.ensure_authority(session=s, settings=runtime.settings)  # the parent has the token open
    public = authority.certificate.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_sign_in_child, args=(runtime.settings, authority.key.key_id, pem, queue))
    child.start()
    signature = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    public.verify(signature, CONTENT, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
    # And the parent still signs after its child did.
    public.verify(authority.key.sign(CONTENT, ec.ECDSA(hashes.SHA256())), CONTENT, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]


def test_without_softhsm2_the_service_starts_and_signing_names_the_package(db, tmp_path, monkeypatch):
    """Embedded mode with no token configured and SoftHSM2 not installed: pages and the API work, and
    whatever needs a key answers 503 in Chinese, naming the Debian package."""
    monkeypatch.setattr(softhsm, "module_path", lambda: None)
    settings = make_settings(db.url, tmp_path, pkcs11_module="", pkcs11_pin="")
    runtime = build_runtime(settings)
    build_world(runtime)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            assert client.get("/api/health").status_code == 200
            r = client.post("/api/auth/token", data={"username": "kg-a1", "password": PASSWORD})
            h = {"Authorization": f"Bearer {r.json()['access_token']}"}
            refused = client.post("/api/me/signing-key", headers=h, json={"pin": PIN, "password": PASSWORD})
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "signing_token_unavailable"
            assert "softhsm2" in refused.json()["message"] and "未安装" in refused.json()["message"]
            # The page answers the same refusal in Chinese, next to the form, and keeps no key half made.
            person = Browser(client)
            assert person.login("kg-a1").status_code == 303
            answer = person.post("/account/pin", {"password": PASSWORD, "pin": PIN, "pin_confirm": PIN})
            shown = person.follow(answer) if answer.status_code == 303 else answer
            assert "未安装 softhsm2" in shown.text
        with runtime.db.session() as s:
            assert s.scalar(select(SigningKey)) is None and s.scalar(select(SigningAuthority)) is None
            # `make run` still loads its demo: the keys are left out, with the same message printed.
            report = load_signing_demo(session=s, settings=settings, objects=runtime.objects)
            assert report.keys == 0 and "未安装 softhsm2" in report.missing
    finally:
        runtime.close()
