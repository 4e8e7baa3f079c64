"""An offline install for the office PC: `branchbook bundle` (docs/windows-setup.md).

The builder (pip, mail parsing for metadata, packaging) is imported when first used: every command's parser
names the targets, and `branchbook merge` must not pay for the builder at start-up."""
from __future__ import annotations

from importlib import import_module

from .targets import SUPPORTED_PYTHONS, WINDOWS, Target, platforms, this_platform

_LAZY = {"Bundle": ".build", "BundleError": ".build", "build_bundle": ".build", "platform_label": ".build",
         "unmet": ".closure"}

__all__ = ["Bundle", "BundleError", "SUPPORTED_PYTHONS", "Target", "WINDOWS", "build_bundle",
           "platform_label", "platforms", "this_platform", "unmet"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
