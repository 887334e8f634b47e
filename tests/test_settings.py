"""Settings: secrets are required outside demo mode; defaults give embedded mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from storage.settings import Settings


def test_secret_is_required_outside_demo(tmp_path):
    with pytest.raises(ValidationError, match="KINDERFLOW_SECRET_KEY"):
        Settings(var_dir=tmp_path, demo=False, secret_key="")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(var_dir=tmp_path, demo=False, secret_key="change-me")
    with pytest.raises(ValidationError, match="32"):
        Settings(var_dir=tmp_path, demo=False, secret_key="short-but-not-placeholder")
    ok = Settings(var_dir=tmp_path, demo=False, secret_key="x" * 40)
    assert ok.secret_key.get_secret_value() == "x" * 40


def test_demo_generates_and_keeps_a_secret(tmp_path):
    first = Settings(var_dir=tmp_path, demo=True)
    second = Settings(var_dir=tmp_path, demo=True)
    assert len(first.secret_key.get_secret_value()) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "demo-secret-key").stat().st_mode & 0o777 == 0o600


def test_defaults_are_embedded_mode(tmp_path):
    s = Settings(var_dir=tmp_path, demo=True)
    assert s.embedded and s.mode == "embedded"
    assert s.database_url == f"sqlite:///{(tmp_path / 'kinderflow.db').as_posix()}"
    assert s.object_store == (tmp_path / "objects").as_posix()
    full = Settings(var_dir=tmp_path, demo=True, broker_url="redis://127.0.0.1:6379/0")
    assert full.mode == "full"


def test_environment_variables_use_the_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv("KINDERFLOW_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KINDERFLOW_DEMO", "true")
    monkeypatch.setenv("KINDERFLOW_MAX_UPLOAD_BYTES", "12345")
    monkeypatch.setenv("KINDERFLOW_OBJECT_STORE", "s3://bucket")
    s = Settings()
    assert s.max_upload_bytes == 12345 and s.object_store == "s3://bucket"


def test_full_mode_names_its_signing_token(tmp_path, monkeypatch):
    for name in ("KINDERFLOW_PKCS11_MODULE", "KINDERFLOW_PKCS11_PIN", "KINDERFLOW_PKCS11_TOKEN_LABEL"):
        monkeypatch.delenv(name, raising=False)
    real = {"var_dir": tmp_path, "secret_key": "x" * 40, "broker_url": "redis://127.0.0.1:6379/0"}
    with pytest.raises(ValidationError, match="KINDERFLOW_PKCS11_MODULE and KINDERFLOW_PKCS11_PIN are required"):
        Settings(**real)
    with pytest.raises(ValidationError, match="KINDERFLOW_PKCS11_PIN"):
        Settings(**real, pkcs11_module="/usr/lib/softhsm/libsofthsm2.so")
    named = Settings(**real, pkcs11_module="/opt/hsm/libvendor.so", pkcs11_pin="1234", pkcs11_slot=3)
    assert named.pkcs11_slot == 3 and named.pkcs11_token_label == "kinderflow"
    # Embedded and demo installs keep a SoftHSM2 token of their own under var/ instead.
    assert Settings(var_dir=tmp_path, secret_key="x" * 40).pkcs11_module == ""
    assert Settings(var_dir=tmp_path, demo=True, broker_url="redis://127.0.0.1:6379/0").pkcs11_module == ""
