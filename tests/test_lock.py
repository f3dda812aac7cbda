"""requirements.lock (what `make install` and CI install) keeps up with pyproject.toml (what library users get):
every dependency of the project and of the extras CI installs is pinned there, at a version its floor admits."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("ingest", "dev", "spark")  # the ones `make install` asks for


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(Requirement(name).name)] = version.split(";")[0].strip()
    return pins


def test_every_declared_dependency_is_pinned_within_its_floor() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for extra in EXTRAS for r in project["optional-dependencies"][extra]]
    pins = locked()
    assert "torch" not in pins  # installed on its own, from the CPU build (see the Makefile)
    problems = []
    for req in declared:
        version = pins.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name}: not in requirements.lock (run `make lock`)")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}: locked at {version}, outside {req.specifier}")
    assert not problems, problems


def test_the_pins_are_exact_versions() -> None:
    pins = locked()
    assert len(pins) > 50
    bad = {name: v for name, v in pins.items() if not v or any(c in v for c in "<>=!~*, ")}
    assert not bad, bad
