"""The full-mode deployment files: docker-compose.yml, Dockerfile, .dockerignore.

There is no Docker engine on the development and CI machines, so the compose file is checked
with ``docker-compose config`` (Debian's docker-compose 1.29, which validates against the
Compose schema and performs the variable interpolation) and the Dockerfile is read as text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# Dummy values for every variable the compose file requires. None of them may have a default.
DUMMY_SECRETS = {
    "KINDERFLOW_SECRET_KEY": "dummy-kinderflow-secret-key-for-compose-test-0001",
    "POSTGRES_PASSWORD": "dummy-postgres-password-0002",
    "MINIO_ROOT_PASSWORD": "dummy-minio-password-0003",
    "KINDERFLOW_PKCS11_PIN": "dummy-token-pin-0004",
    "KINDERFLOW_PKCS11_SO_PIN": "dummy-token-so-pin-0005",
}

# Settings a real install must give that are not secrets (the address documents link to).
REQUIRED_SETTINGS = {"KINDERFLOW_PUBLIC_URL": "https://kinderflow.example.cn"}

SERVICES = {"postgres", "redis", "minio", "minio-init", "api", "worker", "beat"}
LONG_RUNNING = SERVICES - {"minio-init"}
APP_SERVICES = ("api", "worker", "beat")
REQUIRED_APP_ENV = {
    "KINDERFLOW_DATABASE_URL",
    "KINDERFLOW_OBJECT_STORE",
    "KINDERFLOW_S3_ENDPOINT",
    "KINDERFLOW_S3_ACCESS_KEY",
    "KINDERFLOW_S3_SECRET_KEY",
    "KINDERFLOW_S3_SECURE",
    "KINDERFLOW_BROKER_URL",
    "KINDERFLOW_SECRET_KEY",
    "KINDERFLOW_PUBLIC_URL",
    "KINDERFLOW_TRUSTED_PROXIES",
    "KINDERFLOW_PKCS11_MODULE",
    "KINDERFLOW_PKCS11_TOKEN_LABEL",
    "KINDERFLOW_PKCS11_PIN",
}
# A token's label names it and is no secret; its PINs are.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN(?!_LABEL)|_PIN$", re.IGNORECASE)


def _docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail(
            "docker-compose is not installed, so docker-compose.yml cannot be validated. "
            "Install it with `apt-get install -y docker-compose` (`make test` does this)."
        )
    return path


def run_compose_config(tmp_path: Path, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` in the repo root with only the dummy secrets in its environment.

    The inherited environment is not passed on (a developer's exported secrets must not make the
    test pass), and an empty ``--env-file`` replaces any ``.env`` file in the repo root.
    """
    compose = _docker_compose()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    for name, value in {**DUMMY_SECRETS, **REQUIRED_SETTINGS, **overrides}.items():
        if value is not None:
            env[name] = value
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [compose, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    result = run_compose_config(tmp_path_factory.mktemp("compose"))
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    parsed = yaml.safe_load(result.stdout)
    assert isinstance(parsed, dict), result.stdout
    return parsed


@pytest.fixture(scope="module")
def services(config: dict) -> dict:
    return config["services"]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def as_text(value: object) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_file_validates_and_has_all_services(services: dict) -> None:
    assert set(services) >= SERVICES


def test_long_running_services_have_healthchecks(services: dict) -> None:
    for name in sorted(LONG_RUNNING):
        check = services[name].get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        test = check.get("test")
        assert test and test not in (["NONE"], "NONE"), f"{name} has an empty healthcheck"


def test_healthchecks_probe_the_right_thing(services: dict) -> None:
    assert "pg_isready" in as_text(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in as_text(services["redis"]["healthcheck"]["test"])
    api_check = as_text(services["api"]["healthcheck"]["test"])
    assert "urllib" in api_check and ":8000/api/health" in api_check
    worker_check = as_text(services["worker"]["healthcheck"]["test"])
    assert "celery -A workers.app inspect ping" in worker_check


def test_app_services_share_one_image_and_one_kinderflow_environment(services: dict) -> None:
    envs = {
        name: {k: v for k, v in environment(services[name]).items() if k.startswith("KINDERFLOW_")}
        for name in APP_SERVICES
    }
    assert set(envs["api"]) >= REQUIRED_APP_ENV, REQUIRED_APP_ENV - set(envs["api"])
    for name in APP_SERVICES:
        assert envs[name] == envs["api"], f"{name} KINDERFLOW_* environment differs from api"
        assert services[name]["image"] == services["api"]["image"]
        assert Path(services[name]["build"]["context"]).resolve() == ROOT

    env = envs["api"]
    assert env["KINDERFLOW_BROKER_URL"] == "redis://redis:6379/0"
    assert env["KINDERFLOW_OBJECT_STORE"] == "s3://kinderflow"
    assert env["KINDERFLOW_S3_ENDPOINT"] == "minio:9000"
    assert env["KINDERFLOW_S3_SECURE"].lower() == "false"
    db = urlsplit(env["KINDERFLOW_DATABASE_URL"])
    assert db.scheme == "postgresql+psycopg2"
    assert (db.hostname, db.port, db.path) == ("postgres", 5432, "/kinderflow")


def test_app_commands(services: dict) -> None:
    api = as_text(services["api"]["command"])
    assert re.search(r"kinderflow migrate\s*&&.*kinderflow serve --host 0\.0\.0\.0 --port 8000", api), api
    assert as_text(services["worker"]["command"]) == "kinderflow worker"
    assert as_text(services["beat"]["command"]) == "kinderflow beat"


def test_the_signing_token_is_softhsm_in_a_volume_unless_an_hsm_is_named(services: dict, config: dict) -> None:
    env = environment(services["api"])
    assert env["KINDERFLOW_PKCS11_MODULE"] == "/usr/lib/softhsm/libsofthsm2.so"
    assert env["KINDERFLOW_PKCS11_PIN"] == DUMMY_SECRETS["KINDERFLOW_PKCS11_PIN"]
    assert "hsm-tokens" in (config.get("volumes") or {})
    for name in APP_SERVICES:
        targets = {m["target"] if isinstance(m, dict) else m.split(":")[1] for m in services[name].get("volumes") or []}
        assert "/var/lib/softhsm/tokens" in targets, name
    assert re.search(r"kinderflow token init\s*&&\s*kinderflow migrate", as_text(services["api"]["command"]))
    installs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    assert "softhsm2" in installs and "usermod -a -G softhsm kinderflow" in installs


def test_redis_is_a_safe_broker(services: dict) -> None:
    command = as_text(services["redis"]["command"])
    assert "--maxmemory-policy noeviction" in command
    assert "--appendonly yes" in command
    assert services["redis"]["image"].startswith("redis:7")
    assert services["postgres"]["image"].startswith("postgres:16")


def test_start_order(services: dict) -> None:
    assert services["minio-init"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert depends["minio-init"] == {"condition": "service_completed_successfully"}, name
    # Workers start only after the api has run the migrations and reported healthy.
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["api"] == {"condition": "service_healthy"}


def test_minio_init_creates_the_versioned_bucket(services: dict) -> None:
    init = services["minio-init"]
    assert init["image"].startswith("minio/mc")
    script = as_text(init.get("entrypoint", "")) + " " + as_text(init.get("command", ""))
    assert "mc mb --ignore-existing kf/kinderflow" in script
    assert "mc version enable kf/kinderflow" in script
    assert init.get("restart", "no") == "no"


def test_data_lives_in_named_volumes(config: dict, services: dict) -> None:
    volumes = set(config.get("volumes") or {})
    for name, target in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data"), ("minio", "/data")):
        mounts = services[name].get("volumes") or []
        sources = {
            (m["source"] if isinstance(m, dict) else m.split(":")[0])
            for m in mounts
            if (m["target"] if isinstance(m, dict) else m.split(":")[1]) == target
        }
        assert sources and sources <= volumes, f"{name}:{target} is not a named volume ({mounts})"


def test_only_the_api_publishes_a_port(services: dict) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"api"}


def test_secrets_come_only_from_the_environment(services: dict) -> None:
    api = environment(services["api"])
    assert api["KINDERFLOW_SECRET_KEY"] == DUMMY_SECRETS["KINDERFLOW_SECRET_KEY"]
    assert api["KINDERFLOW_S3_SECRET_KEY"] == DUMMY_SECRETS["MINIO_ROOT_PASSWORD"]
    assert urlsplit(api["KINDERFLOW_DATABASE_URL"]).password == DUMMY_SECRETS["POSTGRES_PASSWORD"]
    assert environment(services["postgres"])["POSTGRES_PASSWORD"] == DUMMY_SECRETS["POSTGRES_PASSWORD"]
    for name in ("minio", "minio-init"):
        assert environment(services[name])["MINIO_ROOT_PASSWORD"] == DUMMY_SECRETS["MINIO_ROOT_PASSWORD"]

    # Any secret-looking variable anywhere holds exactly one of the values passed in.
    dummies = set(DUMMY_SECRETS.values())
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert value in dummies, f"{name}.{key} is not taken from the environment: {value!r}"


@pytest.mark.parametrize("missing", sorted({**DUMMY_SECRETS, **REQUIRED_SETTINGS}))
def test_config_refuses_to_render_without_a_required_secret(tmp_path: Path, missing: str) -> None:
    result = run_compose_config(tmp_path, **{missing: None})
    assert result.returncode != 0, f"docker-compose config succeeded without {missing}"
    assert missing in result.stderr, result.stderr


def test_documents_link_to_the_configured_public_address_and_no_proxy_is_trusted(services: dict) -> None:
    api = environment(services["api"])
    assert api["KINDERFLOW_PUBLIC_URL"] == REQUIRED_SETTINGS["KINDERFLOW_PUBLIC_URL"]
    assert api["KINDERFLOW_TRUSTED_PROXIES"] == ""


def test_config_refuses_an_empty_secret_key(tmp_path: Path) -> None:
    result = run_compose_config(tmp_path, KINDERFLOW_SECRET_KEY="")
    assert result.returncode != 0
    assert "KINDERFLOW_SECRET_KEY" in result.stderr, result.stderr


# --- Dockerfile, .dockerignore ------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    assert not pending, "Dockerfile ends with a continuation line"
    return instructions


def test_dockerfile_base_image_and_system_packages() -> None:
    instructions = dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms[-1].split()[0] == "python:3.11-slim-bookworm"

    runs = [args for keyword, args in instructions if keyword == "RUN"]
    install = next((run for run in runs if "apt-get install" in run), None)
    assert install, "the Dockerfile installs no system packages"
    assert "--no-install-recommends" in install
    packages = set(install.split())
    assert {"libreoffice-writer-nogui", "fonts-noto-cjk"} <= packages
    assert "rm -rf /var/lib/apt/lists/*" in install, "apt lists are left in the image"
    assert any(re.search(r"\bpip install \.(\s|$)", run) for run in runs)


def test_dockerfile_runs_as_non_root() -> None:
    instructions = dockerfile_instructions()
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "the Dockerfile never switches away from root"
    final_user = users[-1].split(":")[0]
    assert final_user not in {"root", "0"}
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert re.search(rf"useradd\b.*\b{re.escape(final_user)}\b", runs), f"user {final_user} is never created"
    # USER comes after the last RUN: nothing at runtime happens as root.
    last_run = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "RUN")
    last_user = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "USER")
    assert last_user > last_run


def test_dockerfile_serves_on_port_8000() -> None:
    instructions = dict(dockerfile_instructions())
    assert "8000" in instructions["EXPOSE"].split()
    assert "kinderflow" in instructions["CMD"] and "serve" in instructions["CMD"]
    assert "0.0.0.0" in instructions["CMD"]


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git", ".env", "tests/e2e/screenshots", "__pycache__"} <= patterns
