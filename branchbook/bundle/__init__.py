"""An offline install for the office PC: `branchbook bundle` (docs/windows-setup.md)."""
from __future__ import annotations

from .build import Bundle, BundleError, build_bundle, platform_label
from .closure import unmet
from .targets import SUPPORTED_PYTHONS, WINDOWS, Target, platforms, this_platform

__all__ = ["Bundle", "BundleError", "SUPPORTED_PYTHONS", "Target", "WINDOWS", "build_bundle",
           "platform_label", "platforms", "this_platform", "unmet"]
