"""requirements.lock is not stale: every dependency pyproject.toml declares (runtime and the dev extra) is pinned there
at a version its specifier allows. `make install` and the Dockerfile install with the lock as constraints, so an
unpinned dependency would install at whatever version is newest that day. Fix a failure with `make lock`."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", re.M)


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project.get("optional-dependencies", {}).get("dev", [])
    return [Requirement(line) for line in declared]


def pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def test_every_declared_dependency_is_pinned_in_the_lock_at_an_allowed_version():
    locked = pins()
    problems = []
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{requirement.name}=={locked[name]} does not satisfy {requirement}")
    assert problems == [], "requirements.lock is stale, run `make lock`: " + "; ".join(problems)


def test_make_install_and_the_dockerfile_install_with_the_lock_as_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK := requirements\.lock$", makefile, re.M)
    assert re.search(r"pip install .*-c \$\(LOCK\) -e \"\.\[dev\]\"", makefile)
    assert re.search(r"^RUN pip install \. -c requirements\.lock", (ROOT / "Dockerfile").read_text(), re.M)
