"""Rhythm and pitch as SpeechSplit (Qian et al., 2020) feeds them to its encoders.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``. SpeechSplit
squeezes speech through three narrow codes, rhythm, content and pitch; two signal
manipulations keep each code to its own job:

- :func:`random_resample`: cut a sequence of frames into segments of random length and
  stretch or squeeze each by a random factor (linear interpolation in time). Timing no
  longer passes through the content and pitch encoders, so only the rhythm code can
  carry it. The same segments and factors are applied to every array passed together
  (the mel and its f0), so they stay aligned with each other.
- :func:`normalize_log_f0` and :func:`quantize_f0`: the f0 contour as the pitch encoder
  reads it: log-f0 normalised (mean 0, standard deviation 1 over voiced frames) per
  utterance, or per speaker with :func:`log_f0_stats` (notebook 05 does so: an
  emotion's higher or livelier pitch is then kept, the speaker's own level is not);
  then one of 257 classes per frame: 0 for unvoiced, 1 ... 256 for the normalised value
  between -2 and +2 standard deviations.
- :func:`stretch_to`: a uniform stretch to a given length (a swap of codes between two
  renditions of one sentence of different lengths).

Layout: time-major arrays ``[frames, ...]``; f0 in Hz with 0 for unvoiced frames, as
:func:`voicelab.dsp.features.f0` returns it.

Example
-------
>>> f0 = np.array([0.0, 100.0, 200.0, 0.0])
>>> quantize_f0(normalize_log_f0(f0)).tolist()
[0, 65, 193, 0]
"""

from __future__ import annotations

import numpy as np

from voicelab.errors import ParameterError

N_PITCH_BINS = 256
"""Voiced pitch classes; with the unvoiced class 0, :func:`quantize_f0` gives 257 classes."""

PITCH_RANGE = 2.0
"""Normalised log-f0 beyond +-this many standard deviations falls in the first or last bin."""


def random_resample(
    *arrays: np.ndarray,
    rng: np.random.Generator,
    min_segment: int = 19,
    max_segment: int = 32,
    min_factor: float = 0.5,
    max_factor: float = 1.5,
) -> tuple[np.ndarray, ...]:
    """Stretch random segments of ``arrays`` (the same frames count each) by random factors.

    The frames are cut into consecutive segments of ``min_segment ... max_segment``
    frames; a segment of ``n`` frames becomes ``round(n * factor)`` frames (at least 1)
    for a factor drawn uniformly from ``[min_factor, max_factor]``, by linear
    interpolation in time (a frame of all zeros, e.g. an unvoiced f0, stays between
    its neighbours' values: pass f0 through :func:`normalize_log_f0` first if that
    matters). Every array gets the same segments and factors. SpeechSplit's segments
    are 19 to 32 frames and its factors 0.5 to 1.5.

    Returns the resampled arrays (their lengths change: the sum of the new segment lengths).

    Example
    -------
    >>> x = np.arange(40, dtype=float)
    >>> y, = random_resample(x, rng=np.random.default_rng(0), min_factor=1.0, max_factor=1.0)
    >>> bool(np.array_equal(y, x))
    True
    """
    if not arrays:
        raise ParameterError("random_resample needs at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays) or n == 0:
        raise ParameterError(f"arrays must be non-empty and of one length, got {[len(a) for a in arrays]}")
    if not 1 <= min_segment <= max_segment:
        raise ParameterError(f"need 1 <= min_segment <= max_segment, got {min_segment}, {max_segment}")
    if not 0 < min_factor <= max_factor:
        raise ParameterError(f"need 0 < min_factor <= max_factor, got {min_factor}, {max_factor}")
    positions = []
    start = 0
    while start < n:
        length = min(int(rng.integers(min_segment, max_segment + 1)), n - start)
        factor = rng.uniform(min_factor, max_factor)
        new_length = max(1, int(round(length * factor)))
        # new frame j samples old time start + j * (length - 1) / (new_length - 1): the ends are kept
        step = (length - 1) / (new_length - 1) if new_length > 1 else 0.0
        positions.append(start + np.arange(new_length) * step)
        start += length
    t = np.concatenate(positions)
    left = np.floor(t).astype(int)
    right = np.minimum(left + 1, n - 1)
    weight = t - left
    out = []
    for a in arrays:
        a = np.asarray(a)
        w = weight.reshape(-1, *([1] * (a.ndim - 1)))
        mixed = a[left] * (1 - w) + a[right] * w
        out.append(mixed.astype(a.dtype) if a.dtype.kind == "f" else mixed)
    return tuple(out)


def log_f0_stats(*contours: np.ndarray) -> tuple[float, float]:
    """``(mean, std)`` of log-f0 over the voiced frames of ``contours`` (e.g. one speaker's neutral clips).

    >>> [round(v, 3) for v in log_f0_stats(np.array([0.0, 100.0]), np.array([400.0]))]
    [5.298, 0.693]
    """
    voiced = [np.log(np.asarray(f0, np.float64)[np.asarray(f0) > 0]) for f0 in contours]
    values = np.concatenate(voiced) if voiced else np.zeros(0)
    if len(values) < 2:
        raise ParameterError("log_f0_stats needs at least two voiced frames")
    return float(values.mean()), float(values.std())


def normalize_log_f0(f0: np.ndarray, *, mean: float | None = None, std: float | None = None) -> np.ndarray:
    """Normalised log-f0 ``(log f0 - mean) / std`` over voiced frames; NaN where unvoiced.

    Without ``mean`` and ``std``, the utterance's own (per-utterance normalisation: only the
    shape of the intonation is left; a contour with one voiced frame, or a flat one,
    normalises to 0). With a speaker's statistics (:func:`log_f0_stats` of its neutral
    clips), as SpeechSplit normalises, the utterance's level and range *relative to its
    speaker* are kept: what makes an emotional rendition higher or livelier.

    Example
    -------
    >>> normalize_log_f0(np.array([0.0, 100.0, 400.0])).round(3).tolist()
    [nan, -1.0, 1.0]
    >>> normalize_log_f0(np.array([0.0, 200.0]), mean=float(np.log(100.0)), std=1.0).round(3).tolist()
    [nan, 0.693]
    """
    f0 = np.asarray(f0, dtype=np.float64)
    if f0.ndim != 1 or not np.isfinite(f0).all() or (f0 < 0).any():
        raise ParameterError("f0 must be a 1-D array of finite Hz values >= 0 (0 for unvoiced frames)")
    if (mean is None) != (std is None) or (std is not None and not std > 0):
        raise ParameterError(f"pass both mean and std (std > 0) or neither, got mean={mean}, std={std}")
    out = np.full(f0.shape, np.nan)
    voiced = f0 > 0
    if voiced.any():
        log_f0 = np.log(f0[voiced])
        if mean is None:
            mean, std = log_f0.mean(), log_f0.std()
        out[voiced] = (log_f0 - mean) / std if std > 0 else 0.0
    return out


def stretch_to(x: np.ndarray, n: int) -> np.ndarray:
    """``x [frames, ...]`` stretched uniformly to ``n`` frames; the ends are kept.

    Float arrays are interpolated linearly (a NaN neighbour gives NaN: an unvoiced
    normalised f0 stays unvoiced); integer arrays (classes) take the nearest frame.

    Example
    -------
    >>> stretch_to(np.array([0.0, 1.0, 2.0]), 5).tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    >>> stretch_to(np.array([3, 7]), 3).tolist()
    [3, 7, 7]
    """
    x = np.asarray(x)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or len(x) < 1:
        raise ParameterError(f"stretch_to needs a non-empty array and n >= 1, got {len(x)} frames and n={n!r}")
    if len(x) == n:
        return x.copy()
    t = np.linspace(0.0, len(x) - 1, n) if n > 1 else np.zeros(1)
    if x.dtype.kind in "iub":
        return x[np.minimum(np.floor(t + 0.5).astype(int), len(x) - 1)]
    left = np.floor(t).astype(int)
    right = np.minimum(left + 1, len(x) - 1)
    w = (t - left).reshape(-1, *([1] * (x.ndim - 1)))
    return (x[left] * (1 - w) + x[right] * w).astype(x.dtype)


def quantize_f0(normalized: np.ndarray, *, n_bins: int = N_PITCH_BINS, value_range: float = PITCH_RANGE) -> np.ndarray:
    """Classes of a normalised log-f0 (NaN = unvoiced): 0 unvoiced, ``1 ... n_bins`` voiced.

    ``[-value_range, +value_range]`` is cut into ``n_bins`` equal bins; values outside
    fall in the first or last bin.

    Example
    -------
    >>> quantize_f0(np.array([np.nan, -9.0, 0.0, 9.0])).tolist()
    [0, 1, 129, 256]
    """
    x = np.asarray(normalized, dtype=np.float64)
    if n_bins < 1 or value_range <= 0:
        raise ParameterError(f"n_bins={n_bins} must be >= 1 and value_range={value_range} > 0")
    scaled = np.clip((np.nan_to_num(x, nan=0.0) + value_range) / (2 * value_range), 0.0, 1.0)
    classes = 1 + np.minimum((scaled * n_bins).astype(np.int64), n_bins - 1)
    return np.where(np.isnan(x), 0, classes)
