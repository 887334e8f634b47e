"""The ``kinderflow`` command line, run as a real process: migrate, demo data, admin, templates."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys


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
