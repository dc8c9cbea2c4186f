"""Run profiles shared by every notebook and command.

``smoke`` runs in seconds (CI), ``quick`` gives audible results on a CPU laptop in
minutes, ``full`` is the real run on a GPU. Each notebook's ``parameters`` cell sets
``PROFILE``; sizes derive from it with :func:`pick`. :func:`default_workers` is how
many processes the kit's parallel work (features, the recognizer) uses on this machine.

Example
-------
>>> pick("quick", smoke=2, quick=200, full=5000)
200
"""

from __future__ import annotations

import os
from typing import TypeVar

from voicelab.errors import ParameterError

PROFILES = ("smoke", "quick", "full")

T = TypeVar("T")


def check_profile(profile: str) -> str:
    """Return ``profile`` if it names a profile, else raise :class:`ParameterError`."""
    if profile not in PROFILES:
        raise ParameterError(f"profile={profile!r} is not one of {', '.join(PROFILES)}")
    return profile


def pick(profile: str, *, smoke: T, quick: T, full: T) -> T:
    """Choose the value that belongs to ``profile``."""
    return {"smoke": smoke, "quick": quick, "full": full}[check_profile(profile)]


def default_workers() -> int:
    """Processes the kit's parallel work uses: ``$VOICELAB_WORKERS``, else the cores this process may use.

    >>> default_workers() >= 1
    True
    """
    value = os.environ.get("VOICELAB_WORKERS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ParameterError(f"VOICELAB_WORKERS={value!r} must be a whole number of processes, at least 1")
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
