"""Emotional speaking styles made from neutral speech by WORLD analysis-synthesis.

The offline corpus has no actors, so its happy, sad and angry renditions are made from
each neutral utterance by changing what listeners use to hear an emotion: the pitch
level and range, the speaking rate, the loudness and the voice quality. The WORLD
vocoder (Morise et al., 2016; the ``pyworld`` package) splits speech into

- ``f0``: the fundamental frequency per frame, 0 where unvoiced;
- ``sp``: the smooth spectral envelope (the vocal tract's filter);
- ``ap``: the aperiodicity (how much of each band is noise, not harmonics),

which can be changed one at a time and synthesised back into speech.
:func:`analyze` runs the analysis once; :func:`apply_style` synthesises one style from
it, so the three emotions of an utterance share one analysis.

The built-in styles (:data:`STYLES`) follow the direction of the acoustic correlates
that reviews of vocal emotion agree on (Murray & Arnott, 1993, "Toward the simulation
of emotion in synthetic speech", JASA 93(2); Banse & Scherer, 1996, "Acoustic profiles
in vocal emotion expression", JPSP 70(3); Scherer, 2003, "Vocal communication of
emotion: a review of research paradigms", Speech Communication 40; for voice quality
Gobl & Ní Chasaide, 2003, "The role of voice quality in communicating emotion, mood
and attitude", Speech Communication 40):

========  ========  ========  =====  =========  =======  ===========
style     f0_scale  f0_range  rate   energy_db  tilt_db  breathiness
========  ========  ========  =====  =========  =======  ===========
neutral   1.00      1.00      1.00   0          0.0      0.00
happy     1.25      1.50      1.10   +2         +1.0     0.00
sad       0.85      0.60      0.85   -4         -2.0     0.15
angry     1.10      1.60      1.12   +5         +2.5     0.00
========  ========  ========  =====  =========  =======  ===========

- **happy** (joy): much higher and wider pitch, faster, a little louder and brighter
  (Murray & Arnott: pitch "much higher", range "much wider", intensity higher);
- **sad**: lower and narrower (flatter) pitch, slower, softer (Murray & Arnott:
  "slightly" lower, narrower and slower, intensity lower), and a lax voice: a steeper
  spectral tilt and some breathiness (Gobl & Ní Chasaide: lax and breathy qualities are
  heard as sad, bored or relaxed);
- **angry** (hot anger): the widest pitch range, faster, the loudest, and a tense voice,
  i.e. a flatter tilt with more energy in the highs (Gobl & Ní Chasaide: tense voice is
  heard as angry). The reviews also find anger's pitch "very much higher"; it is raised
  less than happy's here so the two differ in level, not only in loudness and tension.

The sizes are moderate on purpose: WORLD keeps speech natural for F0 changes of a few
semitones and rate changes of 10-20 %, and a learner should hear the emotion, not the
vocoder. They are a caricature of acted emotion, not a model of it: real emotional
speech also changes timing locally, articulation and phonation in ways a global
transform cannot make.

Introduced in ``notebooks/01_audio_features.ipynb`` (speakers and emotions compared).

Example
-------
>>> import numpy as np
>>> sr = 16000
>>> t = np.arange(sr) / sr
>>> y = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)   # a 150 Hz hum
>>> analysis = analyze(y, sr=sr)
>>> sad = apply_style(y, sr=sr, style=STYLES["sad"], analysis=analysis)
>>> round(len(sad) / len(y), 1)       # slower: about 1 / 0.85 as long
1.2
>>> sad.dtype
dtype('float32')
"""

from __future__ import annotations

import dataclasses

import numpy as np

from voicelab.dsp.audio import check_audio, check_sr
from voicelab.dsp.features import _pyworld
from voicelab.errors import AudioError, ParameterError

pyworld = _pyworld()

__all__ = ["EMOTIONS", "STYLES", "EmotionStyle", "WorldAnalysis", "analyze", "apply_style", "synthesize_world"]

FRAME_PERIOD = 10.0
"""WORLD frame period in milliseconds (see :func:`analyze`)."""
F0_FLOOR, F0_CEIL = 50.0, 600.0
"""F0 search range in Hz: low enough for the deepest flite voice (kal16, ~60 Hz)."""
SYNTHESIS_SECONDS = 0.025
"""Shortest FFT used for synthesis, in seconds: longer than a pitch period at 50 Hz."""


@dataclasses.dataclass(frozen=True)
class EmotionStyle:
    """How one speaking style changes a neutral utterance.

    Parameters
    ----------
    name : str
        The emotion label written in the manifest.
    f0_scale : float
        Multiplies the pitch level (the utterance's mean F0, on a log scale).
    f0_range : float
        Multiplies each voiced frame's deviation from the utterance's mean log-F0:
        ``> 1`` livelier intonation, ``< 1`` flatter.
    rate : float
        Speaking-rate factor: ``1.1`` is 10 % faster (the clip is ``1 / 1.1`` as long).
        WORLD frames are synthesised at ``frame_period / rate``, so pitch is untouched.
    energy_db : float
        Loudness change in dB relative to the input.
    tilt_db : float
        Spectral tilt in dB per octave above 500 Hz: ``> 0`` brighter, tenser voice,
        ``< 0`` duller, laxer voice. The level is restored after the tilt, so it
        changes timbre, not loudness.
    breathiness : float
        In ``[0, 1]``: the share of the periodic part above 1 kHz turned into noise.
    """

    name: str
    f0_scale: float = 1.0
    f0_range: float = 1.0
    rate: float = 1.0
    energy_db: float = 0.0
    tilt_db: float = 0.0
    breathiness: float = 0.0

    def __post_init__(self) -> None:
        for field in ("f0_scale", "f0_range", "rate"):
            value = getattr(self, field)
            if not 0 < value <= 4:
                raise ParameterError(f"{field}={value!r} must be in (0, 4]")
        if not 0 <= self.breathiness <= 1:
            raise ParameterError(f"breathiness={self.breathiness!r} must be in [0, 1]")
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ParameterError(f"name={self.name!r} must be letters, digits and '_' (it names files)")

    @property
    def is_identity(self) -> bool:
        """True for a style that changes nothing (``neutral``)."""
        return dataclasses.replace(self, name="neutral") == EmotionStyle("neutral")


STYLES: dict[str, EmotionStyle] = {
    style.name: style
    for style in (
        EmotionStyle("neutral"),
        EmotionStyle("happy", f0_scale=1.25, f0_range=1.5, rate=1.10, energy_db=2.0, tilt_db=1.0),
        EmotionStyle("sad", f0_scale=0.85, f0_range=0.6, rate=0.85, energy_db=-4.0, tilt_db=-2.0, breathiness=0.15),
        EmotionStyle("angry", f0_scale=1.10, f0_range=1.6, rate=1.12, energy_db=5.0, tilt_db=2.5),
    )
}
"""The built-in styles by name; see the module docstring for the values and why."""
EMOTIONS = tuple(STYLES)
"""Names of the built-in styles, neutral first."""


@dataclasses.dataclass(frozen=True, eq=False)
class WorldAnalysis:
    """WORLD parameters of one utterance, frames every ``frame_period`` ms.

    ``f0`` is ``[frames]`` in Hz (0 = unvoiced); ``sp`` (power spectral envelope) and
    ``ap`` (aperiodicity, 0 = periodic, 1 = noise) are ``[frames, fft_size // 2 + 1]``,
    float64 as pyworld wants them.
    """

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    sr: int
    frame_period: float = FRAME_PERIOD

    @property
    def fft_size(self) -> int:
        return 2 * (self.sp.shape[1] - 1)

    def replace(self, **changes) -> WorldAnalysis:
        """A copy with some fields changed (``f0=...``, ``sp=...``)."""
        return dataclasses.replace(self, **changes)


def analyze(y: np.ndarray, *, sr: int, f0_method: str = "dio") -> WorldAnalysis:
    """WORLD analysis of mono speech: F0, spectral envelope and aperiodicity.

    Parameters
    ----------
    y : np.ndarray
        Mono audio, ``[samples]``.
    sr : int
        Sample rate in Hz.
    f0_method : {"dio", "harvest"}
        ``"dio"`` (DIO refined by StoneMask) is fast; ``"harvest"`` is more robust on
        noisy or creaky speech and about 10 times slower.

    Frames are every :data:`FRAME_PERIOD` = 10 ms, not WORLD's default 5 ms: half the
    cost, and still finer than the 16 ms hop of the models' mel frames. The
    aperiodicity (D4C, otherwise the slowest step) is estimated every second frame and
    interpolated: it changes slowly, and only matters in voiced frames.

    Example
    -------
    >>> import numpy as np
    >>> t = np.arange(8000) / 8000
    >>> a = analyze(np.sin(2 * np.pi * 120 * t), sr=8000)
    >>> round(float(np.median(a.f0[a.f0 > 0])))
    120
    """
    x = np.ascontiguousarray(check_audio(y), dtype=np.float64)
    sr = check_sr(sr)
    if f0_method == "dio":
        f0, times = pyworld.dio(x, sr, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD)
        f0 = pyworld.stonemask(x, f0, times, sr)
    elif f0_method == "harvest":
        f0, times = pyworld.harvest(x, sr, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD)
    else:
        raise ParameterError(f"f0_method={f0_method!r} is not one of dio, harvest")
    sp = pyworld.cheaptrick(x, f0, times, sr, f0_floor=F0_FLOOR)
    coarse = pyworld.d4c(x, np.ascontiguousarray(f0[::2]), np.ascontiguousarray(times[::2]), sr,
                         fft_size=2 * (sp.shape[1] - 1))
    ap = lerp(coarse, np.arange(len(f0)) / 2, axis=0)
    return WorldAnalysis(f0=f0, sp=sp, ap=ap, sr=sr)


def lerp(table: np.ndarray, positions: np.ndarray, *, axis: int) -> np.ndarray:
    """Linear interpolation of ``table`` at fractional indices ``positions`` along ``axis``.

    Positions past the last index take the last row.

    >>> lerp(np.array([[0.0], [1.0]]), np.array([0.0, 0.5, 1.0, 3.0]), axis=0).ravel().tolist()
    [0.0, 0.5, 1.0, 1.0]
    """
    last = table.shape[axis] - 1
    positions = np.minimum(positions, last)
    lo = np.floor(positions).astype(int)
    hi = np.minimum(lo + 1, last)
    shape = [1] * table.ndim
    shape[axis] = -1
    w = (positions - lo).reshape(shape)
    return (1 - w) * np.take(table, lo, axis=axis) + w * np.take(table, hi, axis=axis)


def synthesize_world(analysis: WorldAnalysis, *, rate: float = 1.0) -> np.ndarray:
    """Speech from WORLD parameters, ``rate`` times faster; float32 ``[samples]``.

    The analysis needs an FFT long enough for three periods of the lowest F0 (1024 at
    16 kHz), but synthesis only one impulse response per pulse: the envelopes are
    sampled on every ``step``-th bin, an FFT of at least :data:`SYNTHESIS_SECONDS`
    (512 at 16 kHz). The envelope is smooth at that scale, and synthesis, the slowest
    step of a style, runs twice as fast.
    """
    a = analysis
    size = 2 ** int(np.ceil(np.log2(SYNTHESIS_SECONDS * a.sr)))
    step = max(a.fft_size // size, 1)
    y = pyworld.synthesize(
        np.ascontiguousarray(a.f0), np.ascontiguousarray(a.sp[:, ::step]),
        np.ascontiguousarray(a.ap[:, ::step]), a.sr, a.frame_period / rate,
    )
    if not np.all(np.isfinite(y)):
        raise AudioError("WORLD synthesis produced NaN or infinite samples")
    return y.astype(np.float32)


def _restyle_f0(f0: np.ndarray, style: EmotionStyle) -> np.ndarray:
    voiced = f0 > 0
    if not voiced.any():
        return f0.copy()
    log_f0 = np.log(f0[voiced])
    mean = log_f0.mean()
    out = np.zeros_like(f0)
    out[voiced] = np.exp(mean + np.log(style.f0_scale) + style.f0_range * (log_f0 - mean))
    return np.clip(out, 0.0, 2 * F0_CEIL) * voiced


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))


def apply_style(
    y: np.ndarray, *, sr: int, style: EmotionStyle, analysis: WorldAnalysis | None = None
) -> np.ndarray:
    """Speak ``y`` in ``style``: WORLD analysis, changed parameters, synthesis.

    Parameters
    ----------
    y : np.ndarray
        Neutral mono speech, ``[samples]``; its RMS level is the reference for
        ``style.energy_db``.
    sr : int
        Sample rate in Hz.
    style : EmotionStyle
        What to change (:data:`STYLES` has the built-in ones).
    analysis : WorldAnalysis, optional
        ``analyze(y, sr=sr)``, when several styles are made from one utterance.

    Returns
    -------
    np.ndarray
        float32 ``[samples]``, about ``len(y) / style.rate`` long, at ``style.energy_db``
        relative to ``y``. Peaks above 0.99 are softly limited (``tanh``), so a louder
        style stays louder without clipping.

    Raises
    ------
    AudioError
        Silent, non-finite or non-mono input, or a synthesis that gives NaN.

    Example
    -------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> y = (0.1 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    >>> angry = apply_style(y, sr=16000, style=STYLES["angry"])
    >>> bool(np.sqrt(np.mean(angry ** 2)) > np.sqrt(np.mean(y ** 2)))
    True
    """
    a = analyze(y, sr=sr) if analysis is None else analysis
    if a.sr != sr:
        raise ParameterError(f"analysis was made at sr={a.sr}, not sr={sr}")
    level = _rms(y)
    if level == 0:
        raise AudioError("apply_style got silent audio")
    sp, ap = a.sp, a.ap
    freqs = np.arange(sp.shape[1]) * sr / a.fft_size
    if style.tilt_db:
        octaves = np.log2(np.maximum(freqs, 500.0) / 500.0)
        sp = sp * 10.0 ** (style.tilt_db * octaves / 10.0)  # sp is power
    if style.breathiness:
        noisier = ap + style.breathiness * (1.0 - ap)
        ap = np.where(freqs >= 1000.0, noisier, ap)
    out = synthesize_world(a.replace(f0=_restyle_f0(a.f0, style), sp=sp, ap=ap), rate=style.rate)
    out_level = _rms(out)
    if out_level == 0:
        raise AudioError(f"WORLD synthesis of style {style.name!r} gave silence")
    out *= level / out_level * 10.0 ** (style.energy_db / 20.0)
    if np.abs(out).max() > 0.99:
        out = 0.99 * np.tanh(out / 0.99)
    return out.astype(np.float32)
