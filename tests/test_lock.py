"""The lock files pin what pyproject.toml asks for: every requirement is there, at a version it allows.

`make run` installs requirements/run.txt and `make test` requirements/test.txt (both from
`make lock`); a dependency added to pyproject.toml without `make lock` fails here, in CI.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pinned(lock: Path) -> dict[str, str]:
    """name -> version of every ``name==version`` line in a pip-compile output."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#", "-")) and "==" in line:
            name, _, version = line.split(" ")[0].partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def declared(*, with_test: bool) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = list(project["dependencies"])
    if with_test:
        names += project["optional-dependencies"]["test"]
    return [Requirement(r) for r in names]


@pytest.mark.parametrize(("lock", "with_test"), [("run.txt", False), ("test.txt", True)])
def test_lock_pins_every_declared_requirement_within_its_range(lock: str, with_test: bool) -> None:
    pins = pinned(ROOT / "requirements" / lock)
    problems = []
    for requirement in declared(with_test=with_test):
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not in requirements/{lock}")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_the_run_lock_holds_no_test_tool() -> None:
    """`make run` on a machine that never tests installs only what the service needs."""
    run = pinned(ROOT / "requirements" / "run.txt")
    assert {"pytest", "playwright", "schemathesis", "moto", "ruff"} & run.keys() == set()
