"""Audio features: STFT, mel, MFCC, f0 and energy (inversion: ``voicelab.dsp.griffin_lim``).

Introduced in ``notebooks/01_audio_features.ipynb``.

Layout: every feature matrix voicelab returns is **time-major**,
``[..., frames, bins]`` (mel: ``[frames, n_mels]``), the layout Keras models consume.
librosa's layout is ``[bins, frames]``: transpose (``.T``) when comparing.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np
import scipy.fft

from voicelab.dsp.audio import check_audio
from voicelab.errors import AudioError, ParameterError

MEL_FLOOR = 1e-5
"""Floor of every log-mel in the kit: ``log(1e-5) = -11.5`` is the log of silence."""


@dataclasses.dataclass(frozen=True)
class AudioConfig:
    """Every signal-processing setting a feature, model or vocoder shares.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size in samples.
    hop_length : int
        Samples between successive frames (16 ms at the defaults).
    win_length : int
        Hann window length in samples, ``<= n_fft``.
    n_mels : int
        Number of mel bands.
    fmin, fmax : float
        Lowest and highest mel band edge in Hz; ``fmax=None`` means ``sr / 2``.

    Example
    -------
    >>> cfg = AudioConfig()
    >>> cfg.sr, cfg.hop_length, cfg.n_mels
    (16000, 256, 80)
    >>> AudioConfig(hop_length=-1)
    Traceback (most recent call last):
    ...
    voicelab.errors.ParameterError: hop_length=-1 must be a positive integer
    """

    sr: int = 16000
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = 8000.0

    def __post_init__(self) -> None:
        for name in ("sr", "n_fft", "hop_length", "win_length", "n_mels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if self.win_length > self.n_fft:
            raise ParameterError(
                f"win_length={self.win_length} must not exceed n_fft={self.n_fft}"
            )
        nyquist = self.sr / 2
        fmax = nyquist if self.fmax is None else self.fmax
        if not 0 <= self.fmin < fmax <= nyquist:
            raise ParameterError(
                f"need 0 <= fmin < fmax <= sr/2, got fmin={self.fmin}, fmax={self.fmax}, sr={self.sr}"
            )
        if self.n_mels > self.n_fft // 2 + 1:
            raise ParameterError(
                f"n_mels={self.n_mels} is too large for n_fft={self.n_fft}: "
                f"at most n_fft // 2 + 1 = {self.n_fft // 2 + 1} bands, and fewer leave empty filters"
            )

    @property
    def n_freqs(self) -> int:
        """Number of STFT frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def frame_seconds(self) -> float:
        """Seconds between frames, ``hop_length / sr``."""
        return self.hop_length / self.sr

    def n_frames(self, n_samples: int) -> int:
        """Frames a centred STFT gives for ``n_samples`` samples."""
        return 1 + n_samples // self.hop_length

    def n_samples(self, n_frames: int) -> int:
        """Samples a vocoder writes for ``n_frames`` mel frames: ``n_frames * hop_length``.

        Every vocoder of the kit (Griffin-Lim, MelGAN) and the TTS use this length, so
        their outputs line up sample for sample.
        """
        return n_frames * self.hop_length


# ------------------------------------------------------------------ spectrogram


def _check_config(config: object) -> AudioConfig:
    if not isinstance(config, AudioConfig):
        raise ParameterError(f"config={config!r} must be a voicelab.dsp.features.AudioConfig")
    return config


def hann_window(config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Periodic Hann window of ``win_length`` samples, zero-padded to ``n_fft`` (centred).

    The window ``librosa.stft(window="hann")`` uses: ``0.5 - 0.5 cos(2 pi n / N)``.

    Example
    -------
    >>> hann_window(AudioConfig(n_fft=8, win_length=4, n_mels=4)).round(2).tolist()
    [0.0, 0.0, 0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    config = _check_config(config)
    n = np.arange(config.win_length)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * n / config.win_length)
    left = (config.n_fft - config.win_length) // 2
    return np.pad(win, (left, config.n_fft - config.win_length - left))


def _frames(y: np.ndarray, config: AudioConfig) -> np.ndarray:
    """Centred frames ``[..., 1 + samples // hop_length, n_fft]`` (a view), zero-padded ends."""
    y = check_audio(y, ndim=None)
    pad = [(0, 0)] * (y.ndim - 1) + [(config.n_fft // 2, config.n_fft // 2)]
    padded = np.pad(y.astype(np.float32, copy=False), pad)
    frames = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft, axis=-1)
    return frames[..., :: config.hop_length, :]


def stft(y: np.ndarray, *, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Short-time Fourier transform, complex64 ``[..., frames, n_freqs]``.

    Frame ``t`` is centred on sample ``t * hop_length``: the signal is zero-padded by
    ``n_fft // 2`` on both sides, so there are ``1 + len(y) // hop_length`` frames.
    Equals ``librosa.stft(y, n_fft=..., hop_length=..., win_length=...,
    window="hann", center=True, pad_mode="constant").T``.

    Parameters
    ----------
    y : np.ndarray
        Audio ``[samples]``, or a batch ``[..., samples]``, at ``config.sr``.
    config : AudioConfig
        ``n_fft``, ``hop_length`` and ``win_length``.

    Example
    -------
    >>> stft(np.zeros(16000, np.float32)).shape
    (63, 513)
    """
    config = _check_config(config)
    frames = _frames(y, config)
    spec = scipy.fft.rfft(frames * hann_window(config).astype(np.float32), axis=-1)
    return spec.astype(np.complex64, copy=False)


def magnitude(y: np.ndarray, *, config: AudioConfig = AudioConfig(),
              power: float = 1.0) -> np.ndarray:
    """``|stft(y)| ** power``, float32 ``[..., frames, n_freqs]`` (power 2: energy).

    Example
    -------
    >>> magnitude(np.zeros(512, np.float32)).shape
    (3, 513)
    """
    if not isinstance(power, (int, float)) or not power > 0:
        raise ParameterError(f"power={power!r} must be a positive number (1: magnitude, 2: power)")
    mag = np.abs(stft(y, config=config))
    return mag if power == 1 else mag**power


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale: linear (3 mels / 200 Hz) below 1 kHz, logarithmic above.

    Example
    -------
    >>> hz_to_mel(np.array([0.0, 1000.0, 6400.0])).round(2).tolist()
    [0.0, 15.0, 42.0]
    """
    hz = np.asarray(hz, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    linear = hz * 3.0 / 200.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / logstep, linear)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`.

    Example
    -------
    >>> float(mel_to_hz(15.0))
    1000.0
    """
    mel = np.asarray(mel, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(logstep * (mel - 15.0)), mel * 200.0 / 3.0)


@functools.lru_cache(maxsize=16)
def _mel_filterbank(config: AudioConfig) -> np.ndarray:
    fmax = config.sr / 2 if config.fmax is None else config.fmax
    fft_hz = np.linspace(0, config.sr / 2, config.n_freqs)
    edges = mel_to_hz(np.linspace(hz_to_mel(config.fmin), hz_to_mel(fmax), config.n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (fft_hz - lower) / (centre - lower)
    falling = (upper - fft_hz) / (upper - centre)
    tri = np.maximum(0.0, np.minimum(rising, falling))      # [n_mels, n_freqs]
    tri *= 2.0 / (upper - lower)                            # Slaney: equal area per band
    return tri.T.astype(np.float32)


def mel_filterbank(config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Triangular mel filters ``[n_freqs, n_mels]``: ``magnitude(y) @ fb`` is the mel.

    Slaney's mel scale and area normalisation; equals
    ``librosa.filters.mel(sr=..., n_fft=..., n_mels=..., fmin=..., fmax=...).T``.

    Example
    -------
    >>> mel_filterbank().shape
    (513, 80)
    """
    return _mel_filterbank(_check_config(config)).copy()


def melspectrogram(y: np.ndarray, *, config: AudioConfig = AudioConfig(),
                   power: float = 1.0) -> np.ndarray:
    """Mel spectrogram ``[..., frames, n_mels]`` of ``|stft| ** power`` (1: magnitude).

    Equals ``librosa.feature.melspectrogram(y=y, sr=..., n_fft=..., hop_length=...,
    win_length=..., n_mels=..., fmin=..., fmax=..., power=power, pad_mode="constant").T``.

    Example
    -------
    >>> melspectrogram(np.zeros(16000, np.float32)).shape
    (63, 80)
    """
    return magnitude(y, config=config, power=power) @ _mel_filterbank(_check_config(config))


def log_mel(mel: np.ndarray, *, floor: float = MEL_FLOOR) -> np.ndarray:
    """Natural log of a mel spectrogram, ``log(max(mel, floor))``.

    The floor (-11.5 at the default) keeps silence finite; it is the usual TTS
    convention (Tacotron 2, HiFi-GAN) for magnitude mels.

    Example
    -------
    >>> log_mel(np.array([[0.0, 1.0]])).round(2).tolist()
    [[-11.51, 0.0]]
    """
    if not isinstance(floor, (int, float)) or not floor > 0:
        raise ParameterError(f"floor={floor!r} must be a positive number")
    mel = np.asarray(mel)
    if not np.issubdtype(mel.dtype, np.floating) or mel.ndim < 2:
        raise ParameterError(
            f"mel has dtype {mel.dtype} and shape {mel.shape}; expected float [..., frames, n_mels]")
    if not np.all(np.isfinite(mel)):
        raise AudioError("mel holds NaN or infinite values")
    return np.log(np.maximum(mel, floor))


def log_melspectrogram(y: np.ndarray, *, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """The log-mel every model of the kit reads and predicts: float32 ``[frames, n_mels]``.

    ``log_mel(melspectrogram(y, config=config))``, floored at :data:`MEL_FLOOR`.

    Example
    -------
    >>> log_melspectrogram(np.zeros(16000, np.float32)).shape
    (63, 80)
    """
    return log_mel(melspectrogram(y, config=config)).astype(np.float32)


def power_to_db(power: np.ndarray, *, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """``10 log10(max(power, amin))``, clamped to ``top_db`` below each item's maximum.

    The maximum is taken over the last two axes (``[frames, bins]``), so each item of
    a batch is clamped on its own; librosa takes it over the whole array.

    Example
    -------
    >>> power_to_db(np.array([[1.0, 1e-12]])).tolist()
    [[0.0, -80.0]]
    """
    db = 10.0 * np.log10(np.maximum(power, amin))
    if top_db is not None:
        db = np.maximum(db, db.max(axis=(-2, -1), keepdims=True) - top_db)
    return db


def amplitude_to_db(amplitude: np.ndarray, *, amin: float = 1e-5) -> np.ndarray:
    """``20 log10(max(amplitude, amin))``: dB relative to full scale for waveform units.

    Example
    -------
    >>> amplitude_to_db(np.array([1.0, 0.1, 0.0])).tolist()
    [0.0, -20.0, -100.0]
    """
    return 20.0 * np.log10(np.maximum(np.asarray(amplitude), amin))


def mfcc(y: np.ndarray, *, config: AudioConfig = AudioConfig(), n_mfcc: int = 13,
         top_db: float | None = 80.0) -> np.ndarray:
    """Mel-frequency cepstral coefficients ``[..., frames, n_mfcc]``.

    Definition (librosa's): the power mel spectrogram in dB,
    ``power_to_db(melspectrogram(y, power=2), amin=1e-10, top_db=top_db)``, then an
    orthonormal DCT-II along the mel axis, keeping the first ``n_mfcc`` coefficients
    (no liftering). Coefficient 0 is the frame's overall log level.
    Equals ``librosa.feature.mfcc(y=y, sr=..., n_mfcc=..., <mel settings>).T``.

    Example
    -------
    >>> mfcc(np.zeros(16000, np.float32)).shape
    (63, 13)
    """
    config = _check_config(config)
    if isinstance(n_mfcc, bool) or not isinstance(n_mfcc, int) or not 0 < n_mfcc <= config.n_mels:
        raise ParameterError(f"n_mfcc={n_mfcc!r} must be an integer in [1, n_mels={config.n_mels}]")
    db = power_to_db(melspectrogram(y, config=config, power=2.0), top_db=top_db)
    return scipy.fft.dct(db, type=2, norm="ortho", axis=-1)[..., :n_mfcc].astype(np.float32)


# ------------------------------------------------------------- prosody features


def energy(y: np.ndarray, *, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Frame RMS ``[..., frames]``, aligned with the STFT and mel frames.

    Each frame is ``n_fft`` raw (unwindowed) samples centred on ``t * hop_length``,
    zero-padded at the ends: ``sqrt(mean(frame ** 2))``. In waveform units, so a
    full-scale sine gives 0.707 (-3 dB with :func:`amplitude_to_db`). Equals
    ``librosa.feature.rms(y=y, frame_length=n_fft, hop_length=...).T[..., 0]``.

    Example
    -------
    >>> t = np.arange(16000) / 16000
    >>> round(float(energy(np.sin(2 * np.pi * 500 * t))[30]), 3)
    0.707
    """
    return np.sqrt(np.mean(_frames(y, _check_config(config)) ** 2, axis=-1))


F0_METHODS = ("dio", "harvest", "pyin")


def f0(y: np.ndarray, *, config: AudioConfig = AudioConfig(), fmin: float = 60.0,
       fmax: float = 500.0, method: str = "dio") -> tuple[np.ndarray, np.ndarray]:
    """Fundamental frequency per frame: ``(f0_hz [frames], voiced [frames] bool)``.

    Frame ``t`` is at sample ``t * hop_length`` (``1 + len(y) // hop_length`` frames),
    like the mel frames. ``f0_hz`` is 0 where ``voiced`` is False.

    Methods (6.7 s of flite speech, 16 kHz, 2-core CPU):

    - ``"dio"`` (default): WORLD's DIO + StoneMask refinement (pyworld), ~0.1 s.
      What FastSpeech 2 uses; conservative voicing.
    - ``"harvest"``: WORLD's Harvest, ~5.5 s; robust, marks more frames voiced.
    - ``"pyin"``: ``librosa.pyin`` (probabilistic YIN), ~1.5 s.

    Their f0 values agree within ~0.4 % (median) where all call a frame voiced.

    Example
    -------
    >>> t = np.arange(16000) / 16000
    >>> hz, voiced = f0(0.5 * np.sin(2 * np.pi * 200 * t))
    >>> round(float(np.median(hz[voiced])))
    200
    """
    config = _check_config(config)
    y = check_audio(y)
    sr = config.sr
    if not (isinstance(fmin, (int, float)) and isinstance(fmax, (int, float))
            and 0 < fmin < fmax <= sr / 2):
        raise ParameterError(f"need 0 < fmin < fmax <= sr/2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    if method not in F0_METHODS:
        raise ParameterError(f"method={method!r} is not one of {', '.join(F0_METHODS)}")
    n_frames = config.n_frames(y.shape[-1])
    if method == "pyin":
        import librosa

        # At least two periods of fmin per frame, as librosa advises.
        frame_length = max(config.n_fft, 2 ** int(np.ceil(np.log2(2 * np.ceil(sr / fmin) + 2))))
        hz, voiced, _ = librosa.pyin(y.astype(np.float32), fmin=fmin, fmax=fmax, sr=sr,
                                     frame_length=frame_length, hop_length=config.hop_length)
        hz = np.where(voiced, np.nan_to_num(hz), 0.0)
    else:
        pw = _pyworld()
        x = np.ascontiguousarray(y, dtype=np.float64)
        period_ms = 1000.0 * config.hop_length / sr
        if method == "dio":
            raw, times = pw.dio(x, sr, f0_floor=fmin, f0_ceil=fmax, frame_period=period_ms)
            hz = pw.stonemask(x, raw, times, sr)
        else:
            hz, _ = pw.harvest(x, sr, f0_floor=fmin, f0_ceil=fmax, frame_period=period_ms)
    hz = np.asarray(hz, dtype=np.float64)[:n_frames]
    hz = np.pad(hz, (0, n_frames - len(hz))).astype(np.float32)
    return hz, hz > 0


def _pyworld():
    """Import pyworld, silencing its own pkg_resources deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld
    return pyworld


def frames_to_seconds(frames: np.ndarray | int, *, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Time in seconds of frame index ``frames`` (its centre, ``t * hop_length / sr``).

    Example
    -------
    >>> float(frames_to_seconds(10))
    0.16
    """
    return np.asarray(frames) * _check_config(config).frame_seconds


def seconds_to_frames(seconds: np.ndarray | float, *, config: AudioConfig = AudioConfig()) -> np.ndarray:
    """Index of the frame whose centre is nearest to ``seconds``.

    Example
    -------
    >>> int(seconds_to_frames(0.16))
    10
    """
    return np.rint(np.asarray(seconds) / _check_config(config).frame_seconds).astype(np.int64)
