"""Which requirements a folder of wheels leaves unmet on a target: the bundle is complete when, from the
branchbook wheel down, every requirement that applies there has a wheel that installs there."""
from __future__ import annotations

import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename

from .targets import Target


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        return Parser().parsestr(archive.read(name).decode("utf-8"), headersonly=True)


def requirements_of(wheel: Path) -> list[Requirement]:
    return [Requirement(line) for line in _metadata(wheel).get_all("Requires-Dist") or []]


def _supports(wheel: Path, python: str) -> bool:
    """Whether the wheel's Requires-Python admits python (a pure wheel's tags do not say)."""
    requires = _metadata(wheel).get("Requires-Python")
    return not requires or SpecifierSet(requires).contains(python + ".0", prereleases=True)


def _installable(folder: Path, target: Target) -> dict[str, list[tuple[Path, object]]]:
    """name -> (wheel, version) of the wheels in folder that install on target."""
    accepted = target.wheel_tags()
    found: dict[str, list[tuple[Path, object]]] = {}
    for wheel in sorted(folder.glob("*.whl")):
        name, version, _, wheel_tags = parse_wheel_filename(wheel.name)
        if wheel_tags & accepted and _supports(wheel, target.python):
            found.setdefault(name, []).append((wheel, version))
    return found


def unmet(folder: Path, root: Path, target: Target) -> list[str]:
    """The requirements (without markers) under root (a wheel, with target's extras) that no wheel in folder meets on target."""
    wheels = _installable(folder, target)
    environment = target.environment()
    missing: set[str] = set()
    seen: set[tuple[Path, str]] = set()
    queue = [(root, extra) for extra in ("", *target.extras)]
    while queue:
        wheel, extra = queue.pop()
        if (wheel, extra) in seen:
            continue
        seen.add((wheel, extra))
        for requirement in requirements_of(wheel):
            if requirement.marker and not requirement.marker.evaluate({**environment, "extra": extra}):
                continue
            if not requirement.marker and extra:
                continue  # met already through the wheel's base requirements
            candidates = [(version, w) for w, version in wheels.get(canonicalize_name(requirement.name), [])
                          if requirement.specifier.contains(version, prereleases=True)]
            if not candidates:
                missing.add(without_marker(requirement))
                continue
            newest = max(candidates)[1]
            queue += [(newest, sub) for sub in ("", *requirement.extras)]
    return sorted(missing)


def without_marker(requirement: Requirement) -> str:
    """The requirement as pip should fetch it for the target: its marker was judged here, on the target's
    environment; left in, pip would judge it again on this machine's."""
    extras = "[" + ",".join(sorted(requirement.extras)) + "]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"
