"""The ``kinderflow`` command line, run as a real process: migrate, demo data, admin, templates."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from storage import softhsm


def run(args, env, input_text=None):
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=300, input=input_text
    )


def base_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDERFLOW_") or k.startswith("KINDERFLOW_ARGON2")}
    env.update({"KINDERFLOW_VAR_DIR": str(tmp_path), **extra})
    return env


def test_demo_install_twice_creates_nothing_twice(tmp_path):
    env = base_env(tmp_path, KINDERFLOW_DEMO="true")
    assert run(["migrate"], env).returncode == 0
    first = run(["load-demo"], env)
    assert first.returncode == 0, first.stderr
    assert "88 所幼儿园" in first.stdout and "kg001 … kg073" in first.stdout and "demo-2026" in first.stdout
    second = run(["load-demo"], env)
    assert second.returncode == 0 and "未重复创建" in second.stdout
    db = sqlite3.connect(tmp_path / "kinderflow.db")
    assert db.execute("select count(*) from kindergartens").fetchone()[0] == 88
    assert db.execute("select count(*) from users").fetchone()[0] == 3 + 5 + 5 + 73
    # Embedded mode made its own SoftHSM2 token under var/, PINs kept 0600, and every demo signer's key is in it.
    token = tmp_path / "softhsm2"
    for name in ("user-pin", "so-pin"):
        assert (token / name).stat().st_mode & 0o777 == 0o600
    assert (token / "softhsm2.conf").read_text().startswith(f"directories.tokendir = {token / 'tokens'}")
    keys = db.execute("select key_id, pin_hash from signing_keys where revoked_at is null").fetchall()
    assert len(keys) == 1 + 5 + 5 + 73 and all(len(k) == 32 and h.startswith("$argon2id$") for k, h in keys)
    assert run(["token", "init"], env).returncode == 0


def test_token_init_creates_a_missing_softhsm_token_and_checks_the_pin(tmp_path):
    conf = tmp_path / "softhsm2.conf"
    (tmp_path / "tokens").mkdir()
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    env = base_env(
        tmp_path, SOFTHSM2_CONF=str(conf), KINDERFLOW_SECRET_KEY="a-real-secret-" + "x" * 30,
        KINDERFLOW_BROKER_URL="redis://127.0.0.1:6379/0", KINDERFLOW_PKCS11_MODULE=softhsm.module_path() or "",
        KINDERFLOW_PKCS11_TOKEN_LABEL="kf-cli", KINDERFLOW_PKCS11_PIN="user-pin-2468",
    )  # fmt: skip
    no_so_pin = run(["token", "init"], env)
    assert no_so_pin.returncode == 2 and "KINDERFLOW_PKCS11_SO_PIN" in no_so_pin.stderr
    first = run(["token", "init"], {**env, "KINDERFLOW_PKCS11_SO_PIN": "so-pin-1357"})
    assert first.returncode == 0 and "已创建 SoftHSM2 令牌「kf-cli」" in first.stdout, first.stderr
    again = run(["token", "init"], env)  # there now: no SO PIN needed, and it opens with the PIN
    assert again.returncode == 0 and "已创建" not in again.stdout and "签名令牌可用" in again.stdout
    wrong = run(["token", "init"], {**env, "KINDERFLOW_PKCS11_PIN": "not-the-pin"})
    assert wrong.returncode == 1 and "令牌 PIN 错误" in wrong.stderr
    # Full mode names its token: without the module and PIN the service refuses to start.
    unnamed = run(["migrate"], {k: v for k, v in env.items() if not k.startswith("KINDERFLOW_PKCS11")})
    assert unnamed.returncode != 0 and "KINDERFLOW_PKCS11_MODULE" in unnamed.stderr


def test_real_install_refuses_demo_data_and_placeholder_secret(tmp_path):
    no_secret = run(["migrate"], base_env(tmp_path))
    assert no_secret.returncode != 0 and "KINDERFLOW_SECRET_KEY" in no_secret.stderr
    env = base_env(tmp_path, KINDERFLOW_SECRET_KEY="a-real-secret-" + "x" * 30)
    assert run(["migrate"], env).returncode == 0
    refused = run(["load-demo"], env)
    assert refused.returncode == 2 and "演示模式" in refused.stderr
    weak = run(["create-admin", "root-admin"], {**env, "KINDERFLOW_ADMIN_PASSWORD": "short"})
    assert weak.returncode == 1 and "密码至少" in weak.stderr
    ok = run(["create-admin", "root-admin"], {**env, "KINDERFLOW_ADMIN_PASSWORD": "a-long-enough-password"})
    assert ok.returncode == 0, ok.stderr
    db = sqlite3.connect(tmp_path / "kinderflow.db")
    row = db.execute("select role, password_hash, is_demo from users where username='root-admin'").fetchone()
    assert row[0] == "admin" and row[1].startswith("$argon2id$") and row[2] == 0
    assert db.execute("select count(*) from users").fetchone()[0] == 1


def test_templates_check_passes_on_the_shipped_templates(tmp_path):
    r = run(["templates", "check"], base_env(tmp_path, KINDERFLOW_DEMO="true"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "application_form.docx" in r.stdout
