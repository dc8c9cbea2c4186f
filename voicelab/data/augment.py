"""Seeded, recorded augmentation of spoken commands: room, noise, gain, band limit.

Every clip's augmentation is drawn once by :func:`sample_augmentation` from its own
generator, seeded from a hash of ``(seed, clip_id)``, and written into the manifest as
plain JSON; :func:`apply_augmentation` turns those parameters into audio, the same
audio every time. The *declared* distributions live in one frozen
:class:`AugmentationSpec`, so an audit (:func:`voicelab.evaluation.audit.audit`) can
check that what was drawn matches what was declared and tells nothing about the labels.

The chain: a shoebox room (pyroomacoustics' image method for the early reflections,
an exponentially decaying noise tail for the rest of ``rt60``), then noise at the drawn
SNR (audiomentations' coloured noise, or babble from other clips of the dataset, see
:class:`BabbleBank`), then a band limit (a cheap microphone or a telephone line), then
a gain. Nothing is downloaded.

Introduced in ``notebooks/06_spoken_commands.ipynb``.

Example
-------
>>> import numpy as np
>>> spec = AugmentationSpec(p_room=0.0, p_gain=0.0, p_band=0.0, noise_kinds={"pink": 1.0})
>>> params = sample_augmentation("c000123", seed=0, spec=spec)
>>> params["noise"] in ("none", "pink")
True
>>> y = 0.1 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype("float32")
>>> out = apply_augmentation(y, params, sr=16000)
>>> out.dtype, np.array_equal(out, apply_augmentation(y, params, sr=16000))
(dtype('float32'), True)
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import random
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyroomacoustics as pra
import scipy.signal
from audiomentations import AddColorNoise, AddGaussianSNR, Gain, HighPassFilter, LowPassFilter

from voicelab.errors import ParameterError

__all__ = [
    "NOISE_DECAYS", "AugmentationSpec", "BabbleBank", "apply_augmentation", "global_rng_seeded",
    "room_impulse_response", "sample_augmentation",
]

NOISE_DECAYS = {"white": 0.0, "pink": -3.01, "brown": -6.02, "blue": 3.01, "violet": 6.02}
"""Coloured noises: spectral slope in dB per octave (audiomentations' ``f_decay``)."""
NOISE_KINDS = (*NOISE_DECAYS, "babble")
PEAK = 0.99
"""Largest absolute sample :func:`apply_augmentation` returns (scaled down if above)."""
_STREAMS = ("noise", "room", "gain", "band")
_GLOBAL_RNG_LOCK = threading.Lock()

Range = tuple[float, float]


def _check_range(name: str, value: Any, *, low: float = -np.inf, integer: bool = False) -> tuple:
    try:
        lo, hi = (int(v) if integer else float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} must be a (low, high) pair of numbers") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ParameterError(f"{name}={value!r} must be finite")
    if lo > hi:
        raise ParameterError(f"{name}={value!r} is reversed: (low, high) with low <= high")
    if lo < low:
        raise ParameterError(f"{name}={value!r} must not go below {low}")
    return lo, hi


@dataclasses.dataclass(frozen=True)
class AugmentationSpec:
    """The declared distribution of every augmentation parameter (ranges are uniform).

    Parameters
    ----------
    p_noise, p_room, p_gain, p_band : float
        Probability that a clip gets noise, a room, a gain change, a band limit.
    snr_db, rt60, room_length, room_width, room_height : (float, float)
        SNR in dB (relative to the reverberant speech's RMS over the whole clip),
        reverberation time in seconds, shoebox dimensions in metres.
    noise_kinds : mapping of str to float
        Kind -> share (normalised to sum 1): a colour of :data:`NOISE_DECAYS` or
        ``"babble"`` (other clips of the dataset, see :class:`BabbleBank`).
    babble_talkers : (int, int)
        Number of talkers in babble, inclusive.
    max_order : int
        Image-method order of the early reflections (the rest of the decay is a
        noise tail); small keeps a room at a few milliseconds.
    gain_db, band_low, band_high : (float, float)
        Gain in dB; high-pass and low-pass cut-offs in Hz of the band limit.
    skew : {None, "intent"}
        ``"intent"`` ties the noise kind to the clip's intent: a deliberately broken
        dataset for the audit to catch (:meth:`skewed`). Never use it for real data.
    name : str
        The split the spec draws for (``"train"``, ``"test_noise"``).

    Raises
    ------
    ParameterError
        A probability outside [0, 1], a reversed or non-finite range, an unknown noise
        kind, shares that are negative or all zero, an unknown ``skew``.

    Example
    -------
    >>> spec = AugmentationSpec()
    >>> sorted(spec.shares()), sorted(spec.held_out().shares())
    (['babble', 'pink', 'white'], ['blue', 'brown'])
    >>> AugmentationSpec(snr_db=(20, 0))
    Traceback (most recent call last):
    ...
    voicelab.errors.ParameterError: snr_db=(20, 0) is reversed: (low, high) with low <= high
    """

    p_noise: float = 0.8
    snr_db: Range = (0.0, 20.0)
    noise_kinds: Any = dataclasses.field(default_factory=lambda: {"white": 1.0, "pink": 1.0, "babble": 1.0})
    babble_talkers: tuple[int, int] = (3, 6)
    p_room: float = 0.5
    room_length: Range = (3.0, 7.0)
    room_width: Range = (2.5, 5.0)
    room_height: Range = (2.4, 3.2)
    rt60: Range = (0.2, 0.6)
    max_order: int = 3
    p_gain: float = 0.5
    gain_db: Range = (-6.0, 6.0)
    p_band: float = 0.3
    band_low: Range = (100.0, 300.0)
    band_high: Range = (3400.0, 7000.0)
    skew: str | None = None
    name: str = "train"

    def __post_init__(self) -> None:
        for p in ("p_noise", "p_room", "p_gain", "p_band"):
            value = getattr(self, p)
            try:
                ok = not isinstance(value, (str, bytes)) and 0.0 <= float(value) <= 1.0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ParameterError(f"{p}={value!r} must be a probability in [0, 1]")
        ranges = {"snr_db": -np.inf, "room_length": 1.5, "room_width": 1.5, "room_height": 2.0, "rt60": 0.05,
                  "gain_db": -np.inf, "band_low": 1.0, "band_high": 1.0}
        for name, low in ranges.items():
            object.__setattr__(self, name, _check_range(name, getattr(self, name), low=low))
        object.__setattr__(self, "babble_talkers", _check_range("babble_talkers", self.babble_talkers, low=1,
                                                                integer=True))
        if self.band_low[1] >= self.band_high[0]:
            raise ParameterError(f"band_low={self.band_low} must lie below band_high={self.band_high}")
        if not isinstance(self.max_order, int) or self.max_order < 0:
            raise ParameterError(f"max_order={self.max_order!r} must be a non-negative integer")
        kinds = dict(self.noise_kinds)
        unknown = sorted(set(kinds) - set(NOISE_KINDS))
        if unknown:
            raise ParameterError(f"noise_kinds has unknown kinds {unknown}; known: {list(NOISE_KINDS)}")
        shares = np.array([float(v) for v in kinds.values()])
        if not kinds or (shares < 0).any() or not np.isfinite(shares).all() or shares.sum() <= 0:
            raise ParameterError(f"noise_kinds={kinds!r}: shares must be non-negative and not all zero")
        object.__setattr__(self, "noise_kinds", tuple((k, float(v) / shares.sum()) for k, v in kinds.items()))
        if self.skew not in (None, "intent"):
            raise ParameterError(f"skew={self.skew!r} must be None or 'intent'")

    def shares(self) -> dict[str, float]:
        """Noise kind -> share among noisy clips (sums to 1)."""
        return dict(self.noise_kinds)

    def held_out(self) -> AugmentationSpec:
        """The ``test_noise`` split's spec: noise kinds and rooms never drawn in training.

        Brown and blue noise (training has none), every clip noisy and in a room that
        is bigger and more reverberant than any training room; gain and band limit
        as in training, so the split differs in noise and room only.
        """
        top = self.rt60[1]
        return dataclasses.replace(
            self, name="test_noise", noise_kinds={"brown": 0.5, "blue": 0.5}, p_noise=1.0, p_room=1.0,
            rt60=(top + 0.1, top + 0.6), room_length=(self.room_length[1] + 1.0, self.room_length[1] + 5.0),
            room_width=(self.room_width[1] + 1.0, self.room_width[1] + 4.0),
            room_height=(self.room_height[1], self.room_height[1] + 1.0), skew=None)

    def skewed(self) -> AugmentationSpec:
        """This spec with the noise kind tied to the clip's intent (for the audit's test)."""
        return dataclasses.replace(self, skew="intent", name=f"{self.name}_skewed")


def _stable_int(*parts: object, bits: int = 64) -> int:
    """An integer from a SHA-256 of ``parts`` (stable across runs, unlike ``hash()``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


class BabbleBank:
    """Clean clips of the dataset to make babble from (nothing downloaded).

    Build it from the *training* clips only, so no test voice or sentence leaks into
    the training noise. Clips are ordered by id, so the bank does not depend on the
    order they were given in.

    Parameters
    ----------
    clips : sequence of (str, ndarray)
        ``(clip_id, clean float32 audio [samples])`` pairs.

    Example
    -------
    >>> import numpy as np
    >>> bank = BabbleBank([(f"c{i}", np.ones(800, "float32")) for i in range(5)])
    >>> segs = bank.segments(np.random.default_rng(0), 3, 400)
    >>> len(segs), bank.mix(segs, 400).shape
    (3, (400,))
    """

    def __init__(self, clips: Sequence[tuple[str, np.ndarray]]):
        self._audio = {str(cid): np.asarray(y, dtype=np.float32) for cid, y in sorted(clips, key=lambda c: c[0])}
        if not self._audio or any(y.ndim != 1 or y.size == 0 for y in self._audio.values()):
            raise ParameterError("BabbleBank needs at least one (clip_id, non-empty mono audio) pair")
        self.ids = list(self._audio)

    def segments(self, rng: np.random.Generator, n_talkers: int, length: int | None = None, *,
                 exclude: str | None = None) -> list[list]:
        """``n_talkers`` ``[clip_id, offset]`` pairs from distinct clips (not ``exclude``).

        The offset is uniform over the positions where ``length`` samples fit when the
        clip is at least twice ``length``; otherwise (or when ``length`` is ``None``) over
        the whole clip, which :meth:`mix` wraps around: a short clip still offers as many
        distinct segments as it has samples.
        """
        ids = [c for c in self.ids if c != exclude]
        if n_talkers > len(ids):
            raise ParameterError(f"n_talkers={n_talkers} but the babble bank has only {len(ids)} other clips")
        picks = rng.choice(len(ids), size=n_talkers, replace=False)
        out = []
        for i in sorted(int(i) for i in picks):
            n = self._audio[ids[i]].size
            room = n - length + 1 if length is not None and n >= 2 * length else n
            out.append([ids[i], int(rng.integers(room))])
        return out

    def mix(self, segments: Sequence[Sequence], length: int) -> np.ndarray:
        """Sum of the talkers' segments, each at unit RMS: float32 ``[length]``."""
        out = np.zeros(length, dtype=np.float64)
        for cid, offset in segments:
            if cid not in self._audio:
                raise ParameterError(f"babble segment {cid!r} is not in the babble bank")
            y = self._audio[cid]
            seg = np.take(y, np.arange(int(offset), int(offset) + length), mode="wrap").astype(np.float64)
            out += seg / max(float(np.sqrt(np.mean(seg**2))), 1e-8)
        return out.astype(np.float32)


def _uniform(rng: np.random.Generator, bounds: Range, digits: int = 4) -> float:
    return round(float(rng.uniform(*bounds)), digits)


def sample_augmentation(clip_id: str, *, seed: int, spec: AugmentationSpec, labels: Mapping | None = None,
                        bank: BabbleBank | None = None, length: int | None = None) -> dict[str, Any]:
    """Draw every augmentation parameter of one clip (JSON values).

    The generator is ``np.random.default_rng`` seeded from a SHA-256 of ``(seed,
    clip_id)``, never from global state; noise, room, gain and band have their own
    streams, so changing ``p_gain`` does not change any clip's room. All draws are made
    whether or not the factor is applied.

    ``labels`` (the clip's ``intent``, ...) is read only by a skewed spec. ``bank`` is
    where babble segments come from (without one a babble clip has none: enough for an
    audit, not for :func:`apply_augmentation`); ``length`` (the clip's samples) lets
    them fit inside their source clips.

    Returns
    -------
    dict
        ``noise`` (kind or ``"none"``), ``snr_db``, ``f_decay``, ``babble_talkers``,
        ``babble`` (``[clip_id, offset]`` list), ``noise_seed``, ``noise_segment`` (an id:
        the same id, the same noise samples or babble segments); ``room`` (bool),
        ``rt60``, ``room_dims``, ``source_pos``, ``mic_pos``, ``absorption``,
        ``max_order``; ``gain_db``; ``band_low``, ``band_high``. A factor not applied
        has ``None`` values (``room`` is ``False``).

    Example
    -------
    >>> p = sample_augmentation("c1", seed=0, spec=AugmentationSpec())
    >>> p == sample_augmentation("c1", seed=0, spec=AugmentationSpec())
    True
    """
    if not isinstance(spec, AugmentationSpec):
        raise ParameterError(f"spec={spec!r} must be an AugmentationSpec")
    root = np.random.SeedSequence(_stable_int("voicelab.augment", int(seed), str(clip_id)))
    noise_rng, room_rng, gain_rng, band_rng = (np.random.default_rng(s) for s in root.spawn(len(_STREAMS)))
    p: dict[str, Any] = {}
    # noise
    kinds, shares = zip(*spec.noise_kinds)
    noisy, kind = noise_rng.random() < spec.p_noise, kinds[int(noise_rng.choice(len(kinds), p=shares))]
    if spec.skew == "intent":
        if not labels or "intent" not in labels:
            raise ParameterError(f"a skewed spec needs labels with an intent, got labels={labels!r}")
        kind = kinds[_stable_int("skew", labels["intent"], bits=32) % len(kinds)]
    snr, talkers = _uniform(noise_rng, spec.snr_db), int(noise_rng.integers(spec.babble_talkers[0],
                                                                             spec.babble_talkers[1] + 1))
    noise_seed = int(noise_rng.integers(2**53))
    p["noise"] = kind if noisy else "none"
    p["snr_db"] = snr if noisy else None
    p["f_decay"] = NOISE_DECAYS[kind] if noisy and kind != "babble" else None
    p["babble_talkers"] = talkers if noisy and kind == "babble" else None
    p["babble"] = (bank.segments(noise_rng, talkers, length, exclude=str(clip_id))
                   if noisy and kind == "babble" and bank is not None else [])
    p["noise_seed"] = noise_seed
    segment = f"color:{noise_seed:014x}"
    if kind == "babble":  # the mixture's identity is its segments (when drawn from a bank)
        segment = f"babble:{_stable_int(*p['babble'], bits=56) if p['babble'] else noise_seed:014x}"
    p["noise_segment"] = segment if noisy else None
    # room
    in_room = bool(room_rng.random() < spec.p_room)
    dims = [_uniform(room_rng, r, 3) for r in (spec.room_length, spec.room_width, spec.room_height)]
    rt60 = _uniform(room_rng, spec.rt60, 3)
    src = [_uniform(room_rng, (0.5, d - 0.5), 3) for d in dims[:2]] + [_uniform(room_rng, (1.0, dims[2] - 0.5), 3)]
    mic = [_uniform(room_rng, (0.5, d - 0.5), 3) for d in dims[:2]] + [_uniform(room_rng, (0.5, dims[2] - 0.5), 3)]
    p["room"] = in_room
    if in_room:
        try:
            absorption, _ = pra.inverse_sabine(rt60, dims)
        except ValueError as err:
            raise ParameterError(f"rt60={rt60} is impossible in a room of {dims} m: {err}") from None
        p.update(rt60=rt60, room_dims=dims, source_pos=src, mic_pos=mic, absorption=round(float(absorption), 6),
                 max_order=spec.max_order)
    else:
        p.update(rt60=None, room_dims=None, source_pos=None, mic_pos=None, absorption=None, max_order=None)
    # gain and band
    gained, gain = gain_rng.random() < spec.p_gain, _uniform(gain_rng, spec.gain_db, 3)
    p["gain_db"] = gain if gained else None
    banded, low, high = band_rng.random() < spec.p_band, _uniform(band_rng, spec.band_low, 1), _uniform(
        band_rng, spec.band_high, 1)
    p["band_low"], p["band_high"] = (low, high) if banded else (None, None)
    return p


@contextlib.contextmanager
def global_rng_seeded(seed: int) -> Iterator[None]:
    """Seed Python's ``random`` and NumPy's global generator for a block, then restore both.

    **Pitfall**: audiomentations draws its parameters from the *global* ``random``
    module and its noise from the *global* ``np.random``; it has no ``rng`` argument. So
    its output depends on whatever ran before it, and seeding it globally would silently
    reset the caller's random streams. This context manager, under a lock, saves both
    global states, seeds them from ``seed`` (all 53 bits: NumPy's Mersenne Twister gets
    a full key from a ``SeedSequence``), and restores them afterwards. The lock only
    orders voicelab's own uses; another thread drawing from the global generators at
    the same time would still interleave.

    Example
    -------
    >>> import random
    >>> state = random.getstate()
    >>> with global_rng_seeded(7):
    ...     a = random.random()
    >>> with global_rng_seeded(7):
    ...     b = random.random()
    >>> a == b, random.getstate() == state
    (True, True)
    """
    with _GLOBAL_RNG_LOCK:
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            random.seed(int(seed))
            key = np.random.SeedSequence(int(seed)).generate_state(624)
            np.random.set_state(("MT19937", key, 624, 0, 0.0))
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))


def room_impulse_response(params: Mapping[str, Any], *, sr: int) -> np.ndarray:
    """The room's impulse response (float64, direct path first, to -60 dB).

    Early reflections by pyroomacoustics' image method up to ``max_order``; after them
    a Gaussian noise tail decaying 60 dB in ``rt60`` (seeded from ``noise_seed``), its
    level fitted to the image-method reflections' energy: the full image method would
    take 20 to 500 ms a clip at these ``rt60`` s.
    """
    room = pra.ShoeBox(params["room_dims"], fs=sr, materials=pra.Material(params["absorption"]),
                       max_order=int(params["max_order"]))
    room.add_source(params["source_pos"])
    room.add_microphone(params["mic_pos"])
    room.compute_rir()
    early = np.asarray(room.rir[0][0], dtype=np.float64)
    start = int(np.argmax(np.abs(early)))
    early = early[start:]
    rt60, n = float(params["rt60"]), max(int(params["rt60"] * sr), early.size)
    envelope = 10.0 ** (-3.0 * np.arange(n) / (rt60 * sr))
    fit = slice(int(0.001 * sr), early.size)
    level = np.sqrt(np.sum(early[fit] ** 2) / max(np.sum(envelope[fit] ** 2), 1e-12))
    rir = level * envelope * np.random.default_rng([int(params["noise_seed"]), 1]).standard_normal(n)
    rir[: early.size] = early
    return rir


def apply_augmentation(y: np.ndarray, params: Mapping[str, Any], *, sr: int, babble: BabbleBank | None = None,
                       return_info: bool = False) -> np.ndarray | tuple[np.ndarray, dict]:
    """Augment ``y`` with the parameters :func:`sample_augmentation` drew.

    Room (kept at the input's RMS and length, the direct path at sample 0), noise at
    ``snr_db`` relative to the reverberant speech's RMS, band limit (12 dB/octave
    Butterworth high- and low-pass), gain. If the result would exceed :data:`PEAK` it is
    scaled down to it; ``return_info=True`` also returns ``{"peak_scale": s}`` (1.0 when
    nothing was scaled) to record in the manifest. Same parameters, same audio, bit for
    bit: audiomentations' global random state is seeded from ``noise_seed`` and restored
    (:func:`global_rng_seeded`).

    ``y`` is clean mono audio ``[samples]``, ``params`` one clip's parameters (e.g.
    read back from the manifest's JSON), ``babble`` the bank, needed for babble noise.
    Returns float32 ``[samples]``, as long as ``y`` (and the info dict if asked).
    """
    x = np.asarray(y, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ParameterError(f"y must be non-empty mono audio [samples], got shape {x.shape}")
    if not isinstance(sr, int) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer")
    if params.get("room"):
        rms = _rms(x)
        wet = scipy.signal.fftconvolve(x, room_impulse_response(params, sr=sr).astype(np.float32))[: x.size]
        x = (wet * np.float32(rms / max(_rms(wet), 1e-12))).astype(np.float32)
    kind, seed = params.get("noise", "none"), int(params.get("noise_seed", 0))
    if kind not in ("none", None):
        snr = float(params["snr_db"])
        if kind == "babble":
            if babble is None or not params.get("babble"):
                raise ParameterError("babble noise needs babble=BabbleBank(...) and params sampled with bank=")
            noise = babble.mix(params["babble"], x.size)
            x = x + noise * np.float32(_rms(x) / 10 ** (snr / 20) / max(_rms(noise), 1e-12))
        elif kind == "white":
            with global_rng_seeded(seed):
                x = AddGaussianSNR(min_snr_db=snr, max_snr_db=snr, p=1.0)(x, sr)
        elif kind in NOISE_DECAYS:
            decay = float(params.get("f_decay", NOISE_DECAYS[kind]))
            with global_rng_seeded(seed):
                x = AddColorNoise(min_snr_db=snr, max_snr_db=snr, min_f_decay=decay, max_f_decay=decay, p=1.0)(x, sr)
        else:
            raise ParameterError(f"noise={kind!r} is not one of {list(NOISE_KINDS)}")
    if params.get("band_low") is not None:
        low, high = float(params["band_low"]), float(params["band_high"])
        if not 0 < low < high < sr / 2:
            raise ParameterError(f"band ({low}, {high}) Hz must satisfy 0 < low < high < sr/2 = {sr / 2}")
        with global_rng_seeded(seed + 1):
            x = HighPassFilter(min_cutoff_freq=low, max_cutoff_freq=low, min_rolloff=12, max_rolloff=12, p=1.0)(x, sr)
            x = LowPassFilter(min_cutoff_freq=high, max_cutoff_freq=high, min_rolloff=12, max_rolloff=12, p=1.0)(x, sr)
    if params.get("gain_db") is not None:
        g = float(params["gain_db"])
        with global_rng_seeded(seed + 2):
            x = Gain(min_gain_db=g, max_gain_db=g, p=1.0)(x, sr)
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.max(np.abs(x)))
    scale = PEAK / peak if peak > PEAK else 1.0
    if scale != 1.0:
        x = (x * np.float32(scale)).astype(np.float32)
    return (x, {"peak_scale": round(scale, 6)}) if return_info else x
