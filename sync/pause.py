"""A test seam for crash tests: BRANCHBOOK_PAUSE_AT=point:seconds makes the service wait at that
point, so a test can SIGKILL it there. Unset in normal use, it costs one environment lookup."""
from __future__ import annotations

import os
import time

VARIABLE = "BRANCHBOOK_PAUSE_AT"


def pause_point(name: str) -> None:
    wanted = os.environ.get(VARIABLE, "")
    point, _, seconds = wanted.partition(":")
    if point == name:
        print(f"paused at {name}", flush=True)
        time.sleep(float(seconds or 5))
