"""The test environment holds every optional extra, so CI type-checks and tests all a user can install."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
SELF = PYPROJECT["project"]["name"]


def distribution_name(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return name.group(0)


@pytest.mark.parametrize(
    "requirement", [requirement for extra in EXTRAS.values() for requirement in extra], ids=str
)
def test_every_extra_is_installed_in_the_test_environment(requirement: str) -> None:
    name = distribution_name(requirement)
    try:
        version(name)
    except PackageNotFoundError:
        pytest.fail(f"{name} (from pyproject's optional-dependencies) is not installed for the tests")


def test_the_test_extra_pulls_in_every_other_extra() -> None:
    pulled_in = {
        extra
        for requirement in EXTRAS["test"]
        if distribution_name(requirement) == SELF
        for extra in (part.strip() for part in re.findall(r"\[(.*)\]", requirement)[0].split(","))
    }
    assert pulled_in == set(EXTRAS) - {"test"}
