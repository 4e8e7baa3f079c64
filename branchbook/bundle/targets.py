"""What a bundle is built for: a platform and a Python version, as pip's download options and as the
environment that decides which requirements apply there (docs/windows-setup.md, "The bundle").

pip evaluates a requirement's marker (`pywin32; platform_system == "Windows"`) against the machine it
runs on, not the --platform it downloads for; the bundle therefore evaluates the markers itself
against the target's environment (closure.py).
"""
from __future__ import annotations

import platform
import sysconfig
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.tags import Tag

WINDOWS = "win_amd64"
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")  # the versions that have every dependency's wheel on PyPI
# What each platform installs: the Excel extra (xlwings, pywin32) only where Excel runs.
EXTRAS = {WINDOWS: ("excel",)}
_WINDOWS_ENVIRONMENT = {
    "os_name": "nt", "sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
    "platform_release": "10", "platform_version": "10.0", "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def this_platform() -> str:
    """This machine's platform tag (linux_x86_64 here; win_amd64 on a 64-bit Windows)."""
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def platforms() -> tuple[str, ...]:
    return tuple(dict.fromkeys((WINDOWS, this_platform())))


@dataclass(frozen=True)
class Target:
    platform: str  # win_amd64, or this machine's tag
    python: str  # "3.11"

    @property
    def extras(self) -> tuple[str, ...]:
        return EXTRAS.get(self.platform, ())

    @property
    def nodot(self) -> str:
        return self.python.replace(".", "")

    def platform_tags(self) -> list[str]:
        """Every platform tag a wheel may carry to install here: this machine's include each manylinux
        it supports, which pip does not work out from one --platform."""
        if self.platform == this_platform():
            from packaging import tags

            return list(tags.platform_tags())
        return [self.platform]

    def pip_options(self) -> list[str]:
        options = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python]
        for tag in self.platform_tags():
            options += ["--platform", tag]
        return options

    def wheel_tags(self) -> set[Tag]:
        """The tags of a wheel that installs on this target."""
        from packaging import tags

        version = tuple(int(part) for part in self.python.split("."))
        platforms = self.platform_tags()
        return set(tags.cpython_tags(version, platforms=platforms)) | set(
            tags.compatible_tags(version, interpreter=f"cp{self.nodot}", platforms=platforms))

    def environment(self) -> dict[str, str]:
        """The marker environment of a CPython of this version on this platform."""
        if self.platform == WINDOWS and platform.system() != "Windows":
            environment = dict(_WINDOWS_ENVIRONMENT)
        else:
            from packaging.markers import default_environment

            environment = dict(default_environment())
        full = self.python + ".0"
        environment.update(python_version=self.python, python_full_version=full, implementation_version=full)
        return environment
