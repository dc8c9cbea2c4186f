"""Errors raised by voicelab.

Every error names the bad value and, where a file is involved, its path (and, for
manifests, the line), so a student can fix the input without reading a traceback.

Example
-------
>>> from voicelab.errors import ParameterError
>>> try:
...     raise ParameterError("hop_length=-1 must be a positive integer")
... except ValueError as err:   # ParameterError is a ValueError
...     print(err)
hop_length=-1 must be a positive integer
"""

from __future__ import annotations


class VoicelabError(Exception):
    """Base class of every error voicelab raises on purpose."""


class ParameterError(VoicelabError, ValueError):
    """A function argument has a value voicelab cannot use."""


class AudioError(VoicelabError):
    """An audio file or array cannot be read or is not usable audio."""


class DatasetError(VoicelabError):
    """A corpus, manifest or dataset folder is malformed or incomplete."""
