"""The ``store`` fixture: every contract test runs on the local folder and on S3 (moto over HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from storage.objects import ObjectStore
from storage.settings import Settings
from storage.stores import build_object_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return build_object_store(Settings(demo=True, var_dir=tmp_path))
    return cast(ObjectStore, request.getfixturevalue("s3_store"))
