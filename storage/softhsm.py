"""A SoftHSM2 token of the installation's own, for demo and embedded mode; production names its HSM.

Everything lives under one folder (``var/softhsm2``): a SoftHSM2 configuration that keeps the token's
files in ``tokens/``, and the token's user and security-officer PINs, generated on first start and
kept 0600. SoftHSM2 reads its configuration from ``SOFTHSM2_CONF`` when the module is loaded, so
``provision`` points the process there before anything loads it. The test suite makes its token the
same way, once per session, in a temporary folder.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "softhsm2"
# Where Debian's softhsm2 package puts the module (the first), and other distributions' places.
MODULE_PATHS = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


@dataclass(frozen=True)
class TokenConfig:
    """Which PKCS#11 token holds the keys: the module, the token (by slot or label) and its user PIN."""

    module: str
    label: str
    pin: str
    slot: int | None = None


class SoftHsmMissing(Exception):
    """SoftHSM2 is not installed (its module or ``softhsm2-util`` cannot be found)."""


def module_path() -> str | None:
    """The SoftHSM2 PKCS#11 module on this machine, if the package is installed."""
    return next((path for path in MODULE_PATHS if Path(path).is_file()), None)


def _secret_file(path: Path) -> str:
    """The value kept in ``path`` (0600), generated on first need."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(24)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(value)
    return value


def provision(folder: Path, *, label: str) -> TokenConfig:
    """The token under ``folder``: its configuration, PINs and the token itself are created once."""
    module = module_path()
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        raise SoftHsmMissing(PACKAGE)
    folder = folder.resolve()
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    conf = folder / "softhsm2.conf"
    wanted = (
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
    )
    if not conf.exists() or conf.read_text() != wanted:
        conf.write_text(wanted)
    os.environ["SOFTHSM2_CONF"] = str(conf)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting at once initialise one token
        pin = _secret_file(folder / "user-pin")
        so_pin = _secret_file(folder / "so-pin")
        if not any(tokens.iterdir()):
            subprocess.run(
                [util, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
                check=True,
                capture_output=True,
                env={**os.environ, "SOFTHSM2_CONF": str(conf)},
                timeout=60,
            )
    return TokenConfig(module=module, label=label, pin=pin)


def is_softhsm(module: str) -> bool:
    return Path(module).name == "libsofthsm2.so"


def token_labels() -> set[str]:
    """The labels of the initialised tokens SoftHSM2 has (in the directory ``SOFTHSM2_CONF`` names)."""
    util = shutil.which("softhsm2-util")
    if util is None:
        raise SoftHsmMissing(PACKAGE)
    shown = subprocess.run([util, "--show-slots"], check=True, capture_output=True, text=True, timeout=60).stdout
    return {line.split(":", 1)[1].strip() for line in shown.splitlines() if line.strip().startswith("Label:")}


def init_token(*, label: str, pin: str, so_pin: str) -> bool:
    """Create the SoftHSM2 token ``label`` if there is none (full mode's ``kinderflow token init``)."""
    if label in token_labels():
        return False
    util = shutil.which("softhsm2-util")
    if util is None:
        raise RuntimeError("expected util is not None")
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return True
