"""Run profiles shared by every notebook and command.

``smoke`` runs in seconds (CI), ``quick`` gives audible results on a CPU laptop in
minutes, ``full`` is the real run on a GPU. Each notebook's ``parameters`` cell sets
``PROFILE``; sizes derive from it with :func:`pick`.

Example
-------
>>> pick("quick", smoke=2, quick=200, full=5000)
200
"""

from __future__ import annotations

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
