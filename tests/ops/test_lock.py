"""requirements.lock is not stale: every dependency pyproject.toml declares (runtime and the dev extra) is pinned there
at a version its specifier allows. `make install` and the Dockerfile install with the lock as constraints, so an
unpinned dependency would install at whatever version is newest that day. Fix a failure with `make lock`.

Offline (reads the two files, asks no index): `make lint` runs this module (`make lock-check`), so CI and pre-commit
refuse a pyproject.toml change that was not re-locked."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", re.M)
# One pin and its "# via" comment lines, as `uv pip compile` writes them.
PIN_BLOCK = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==[^\n]*\n((?:    #[^\n]*\n)*)", re.M)


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


def test_the_lock_pins_as_direct_dependencies_exactly_what_pyproject_declares():
    """A dependency removed from pyproject.toml (or added by hand to the lock) leaves a stale "via scfm" pin."""
    text = (ROOT / "requirements.lock").read_text()
    direct = {canonicalize_name(name) for name, via in PIN_BLOCK.findall(text) if "scfm (pyproject.toml)" in via}
    declared = {canonicalize_name(requirement.name) for requirement in declared_requirements()}
    assert direct == declared, f"requirements.lock is stale, run `make lock`: {sorted(direct ^ declared)}"


def test_make_lint_checks_the_lock_offline():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lint: .*\block-check\b", makefile, re.M)
    assert re.search(r"^lock-check:.*\n\t.*-m pytest .*tests/ops/test_lock\.py", makefile, re.M)


def test_make_install_and_the_dockerfile_install_with_the_lock_as_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK := requirements\.lock$", makefile, re.M)
    assert re.search(r"pip install .*-c \$\(LOCK\) -e \"\.\[dev\]\"", makefile)
    assert re.search(r"^RUN pip install \. -c requirements\.lock", (ROOT / "Dockerfile").read_text(), re.M)
