"""The embedded database (with every password hash) and the generated secret are the owner's alone."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from storage import migrate
from storage.db import Database
from storage.settings import Settings


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_embedded_database_and_its_wal_are_created_0600(tmp_path):
    old = os.umask(0o022)  # the usual umask, which would leave them readable by everyone
    try:
        database = tmp_path / "var" / "kinderflow.db"
        url = f"sqlite:///{database.as_posix()}"
        migrate.upgrade(url)
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
            conn.execute(text("INSERT INTO scratch VALUES (1)"))
            files = sorted(p for p in database.parent.iterdir() if p.name.startswith("kinderflow.db"))
            assert {p.name for p in files} >= {"kinderflow.db", "kinderflow.db-wal"}
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        db.dispose()
    finally:
        os.umask(old)


def test_the_generated_demo_secret_is_created_0600(tmp_path):
    old = os.umask(0o022)
    try:
        settings = Settings(demo=True, var_dir=tmp_path, secret_key="")
        assert mode(tmp_path / "demo-secret-key") == 0o600
        assert Settings(demo=True, var_dir=tmp_path, secret_key="").secret_key == settings.secret_key
    finally:
        os.umask(old)
