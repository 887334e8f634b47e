"""All configuration, read once from ``KINDERFLOW_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "please-change", "kinderflow", "dev"}


class Settings(BaseSettings):
    """Kinderflow settings. Embedded mode is the default: SQLite, a local folder, tasks in-process."""

    model_config = SettingsConfigDict(env_prefix="KINDERFLOW_", env_file=None, extra="ignore")

    # Where local state lives in embedded mode (SQLite file, objects, generated demo secret).
    var_dir: Path = Path("var")
    database_url: str = ""
    # A folder path, or s3://bucket for S3/MinIO.
    object_store: str = ""
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = True
    s3_region: str = "us-east-1"
    # Empty: tasks run in-process after commit. Otherwise a Celery broker, e.g. redis://redis:6379/0.
    broker_url: str = ""
    secret_key: SecretStr = SecretStr("")
    # Demo installs may run without a configured secret (one is generated under var_dir).
    demo: bool = False
    token_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    token_issuer: str = "kinderflow"
    token_audience: str = "kinderflow-api"
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    max_media_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_parallelism: int = Field(default=4, ge=1)
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_failure_window_minutes: int = 15
    # The address people reach the service at: every QR code and link printed in a document points
    # here. A real install must set it; unset, documents point at DEFAULT_PUBLIC_URL and the service
    # warns at start (``public_url_warning``).
    public_url: str = ""
    # Addresses (IPs or networks, comma-separated) of reverse proxies whose X-Forwarded-For is believed;
    # empty: the peer of the connection is the client (api/client_address.py).
    trusted_proxies: str = ""
    # At-least-once delivery (workers/app.py explains how these fit together).
    task_visibility_timeout_seconds: int = Field(default=30, ge=3)
    task_redrive_after_seconds: int = Field(default=900, ge=1)
    # Objects nothing references are deleted once older than this (`kinderflow sweep-orphans`).
    orphan_grace_hours: float = Field(default=24.0, ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The PKCS#11 token that holds the signers' and the CA's private keys. No module: a SoftHSM2 token
    # of the installation's own under var_dir (demo and embedded mode only; full mode must name one).
    pkcs11_module: str = ""
    pkcs11_token_label: str = "kinderflow"
    # A slot number picks the token by slot instead of by label.
    pkcs11_slot: int | None = Field(default=None, ge=0)
    pkcs11_pin: SecretStr = SecretStr("")
    # Only for `kinderflow token init` creating a SoftHSM2 token in full mode (its security officer's PIN).
    pkcs11_so_pin: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _defaults_and_secret(self) -> Settings:
        public = self.public_url.strip()
        if public and not public.startswith(("http://", "https://")):
            raise ValueError(
                "KINDERFLOW_PUBLIC_URL must be an http:// or https:// address, e.g. https://kinderflow.example.cn"
            )
        for item in self.trusted_proxies.replace(";", ",").split(","):
            try:
                ipaddress.ip_network(item.strip(), strict=False) if item.strip() else None
            except ValueError:
                raise ValueError(
                    f"KINDERFLOW_TRUSTED_PROXIES: {item.strip()!r} is not an IP address or network"
                ) from None
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / 'kinderflow.db').as_posix()}"
        if not self.object_store:
            self.object_store = (self.var_dir / "objects").as_posix()
        secret = self.secret_key.get_secret_value()
        if secret.strip().lower() in PLACEHOLDER_SECRETS:
            if not self.demo:
                raise ValueError(
                    "KINDERFLOW_SECRET_KEY is required and must not be a placeholder "
                    "(set KINDERFLOW_DEMO=true only for a demo install)"
                )
            self.secret_key = SecretStr(_demo_secret(self.var_dir))
        elif len(secret) < 32 and not self.demo:
            raise ValueError("KINDERFLOW_SECRET_KEY must be at least 32 characters")
        if not self.demo and not self.embedded and not (self.pkcs11_module and self.pkcs11_pin.get_secret_value()):
            raise ValueError(
                "KINDERFLOW_PKCS11_MODULE and KINDERFLOW_PKCS11_PIN are required in full mode "
                "(the PKCS#11 token that holds the signing keys; KINDERFLOW_PKCS11_TOKEN_LABEL or _SLOT picks it)"
            )
        return self

    @property
    def base_url(self) -> str:
        """The public address documents and messages link to, without a trailing slash."""
        return (self.public_url.strip() or DEFAULT_PUBLIC_URL).rstrip("/")

    def public_url_warning(self) -> str | None:
        """What to tell the operator when no public address is configured (None when one is)."""
        if self.public_url.strip():
            return None
        return (
            "KINDERFLOW_PUBLIC_URL is not set: QR codes and links in documents point at "
            f"{DEFAULT_PUBLIC_URL}, which nobody else can open; set it to the address people reach this service at"
        )

    @property
    def embedded(self) -> bool:
        """True when tasks run in-process (no broker configured)."""
        return not self.broker_url

    @property
    def mode(self) -> str:
        return "embedded" if self.embedded else "full"


def _demo_secret(var_dir: Path) -> str:
    """A random secret kept under var/ so demo tokens survive a restart; never committed."""
    path = var_dir / "demo-secret-key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Created 0600 from the start: a chmod after writing would leave a moment when others could read it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(value)
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
