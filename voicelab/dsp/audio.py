"""Load, save, resample, trim and loudness-normalise audio.

Introduced in ``notebooks/01_audio_features.ipynb``.

Layout: a mono signal is a 1-D float32 array ``[samples]`` in ``[-1, 1]``; a
multichannel one (``mono=False``) is ``[samples, channels]``, soundfile's layout
(librosa's is ``[channels, samples]``).

Every file or array that comes in is checked here, at the boundary: a file that is
missing, empty, not audio, truncated, silent where that matters or holds NaNs raises
:class:`~voicelab.errors.AudioError` naming the path; a bad argument raises
:class:`~voicelab.errors.ParameterError` naming the value.

Example
-------
>>> import tempfile, pathlib, numpy as np
>>> tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)
>>> path = save(pathlib.Path(tempfile.mkdtemp()) / "tone.wav", tone, sr=8000)
>>> y = load(path, sr=16000)            # resampled 8 kHz -> 16 kHz
>>> y.dtype, y.shape
(dtype('float32'), (16000,))
"""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from voicelab.errors import AudioError, ParameterError

__all__ = [
    "check_audio",
    "check_sr",
    "load",
    "load_with_rate",
    "loudness",
    "normalize_loudness",
    "resample",
    "save",
    "split_on_silence",
    "trim_silence",
]

#: Subtype :func:`save` writes for each container (others: soundfile's default).
_SAVE_SUBTYPES = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS"}


# --------------------------------------------------------------------------- checks


def check_sr(sr: object, name: str = "sr") -> int:
    """Return ``sr`` as an ``int`` if it is a positive integer sample rate.

    Raises :class:`ParameterError` otherwise (floats such as ``16000.0``, bools and
    strings are refused: a rate is a count of samples per second).

    Example
    -------
    >>> check_sr(16000)
    16000
    """
    if isinstance(sr, (bool, np.bool_)) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"{name}={sr!r} must be a positive integer number of Hz")
    return int(sr)


def check_audio(y: object, *, name: str = "y", ndim: int | None = 1) -> np.ndarray:
    """Check that ``y`` is usable audio and return it as a float array.

    Parameters
    ----------
    y : array_like of float
        Samples in ``[-1, 1]``.
    name : str
        The argument's name, for the error message.
    ndim : int or None
        Required rank (``1`` for mono ``[samples]``); ``None`` accepts any rank >= 1
        (batched ``[..., samples]``).

    Raises
    ------
    ParameterError
        ``y`` is not a floating-point array of the required rank.
    AudioError
        ``y`` holds no samples, or NaN / infinite ones.

    Example
    -------
    >>> check_audio(np.zeros(4, dtype=np.float32)).shape
    (4,)
    """
    arr = np.asarray(y)
    if not np.issubdtype(arr.dtype, np.floating):
        hint = " (integer PCM: divide by its full scale, e.g. y / 32768)" if np.issubdtype(
            arr.dtype, np.integer) else ""
        raise ParameterError(f"{name} has dtype {arr.dtype}; audio must be floating point{hint}")
    if ndim is not None and arr.ndim != ndim:
        raise ParameterError(
            f"{name} has shape {arr.shape} (rank {arr.ndim}); expected rank {ndim}"
            + (" [samples]: mix channels down first, e.g. y.mean(axis=-1)" if ndim == 1 else ""))
    if arr.ndim == 0:
        raise ParameterError(f"{name} is a scalar ({arr!r}); expected an array [..., samples]")
    if arr.shape[-1] == 0 or arr.size == 0:
        raise AudioError(f"{name} has shape {arr.shape}: zero-length audio")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise AudioError(f"{name} holds {bad} NaN or infinite sample(s) out of {arr.size}")
    return arr


def _check_file(path: str | os.PathLike) -> Path:
    """Refuse a missing, non-regular or 0-byte file before soundfile sees it."""
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"path={path!r} must be a str or os.PathLike")
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if not p.is_file():
        raise AudioError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise AudioError(f"{p}: empty file (0 bytes)")
    return p


def _check_wav_length(p: Path) -> None:
    """Raise if a RIFF/WAVE file's ``data`` chunk is shorter than its header says.

    libsndfile silently returns the samples that are there; a truncated download
    or an interrupted write would then pass for a shorter recording.
    """
    size = p.stat().st_size
    with p.open("rb") as fh:
        if fh.read(4) != b"RIFF" or len(fh.read(4)) < 4 or fh.read(4) != b"WAVE":
            return
        while True:
            head = fh.read(8)
            if len(head) < 8:
                return
            chunk, length = head[:4], struct.unpack("<I", head[4:])[0]
            if chunk == b"data":
                left = size - fh.tell()
                # 0 and 0xFFFFFFFF mean "unknown length" (streamed writers, RF64).
                if length not in (0, 0xFFFFFFFF) and length > left:
                    raise AudioError(
                        f"{p}: truncated WAV file, header declares {length} bytes of "
                        f"audio but only {left} are present")
                return
            fh.seek(length + (length & 1), os.SEEK_CUR)


# ------------------------------------------------------------------------- file I/O


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``[samples]`` or ``[samples, channels]`` audio with soxr (high quality).

    This is librosa's default resampler (``res_type="soxr_hq"``). The output has
    ``ceil(len(y) * target_sr / orig_sr)`` samples.

    Example
    -------
    >>> resample(np.zeros(8000, np.float32), orig_sr=8000, target_sr=16000).shape
    (16000,)
    """
    import soxr

    orig_sr, target_sr = check_sr(orig_sr, "orig_sr"), check_sr(target_sr, "target_sr")
    y = check_audio(y, ndim=None)
    if y.ndim > 2:
        raise ParameterError(f"y has shape {y.shape}; expected [samples] or [samples, channels]")
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=False)
    return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def load_with_rate(path: str | os.PathLike, *, sr: int | None = None,
                   mono: bool = True) -> tuple[np.ndarray, int]:
    """Read an audio file; return ``(samples, sample_rate)``.

    Any format libsndfile reads (WAV in 8/16/24/32-bit integer or float, FLAC,
    OGG/Vorbis, ...), any rate, any channel count.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    sr : int or None
        Rate to resample to (soxr, high quality); ``None`` keeps the file's rate.
    mono : bool
        Average the channels into one ``[samples]`` array (default); otherwise
        return ``[samples, channels]``.

    Returns
    -------
    y : np.ndarray of float32
        Samples in ``[-1, 1]``.
    sr : int
        Their sample rate.

    Example
    -------
    >>> import tempfile, pathlib
    >>> path = save(pathlib.Path(tempfile.mkdtemp()) / "a.wav", np.zeros(800), sr=8000)
    >>> y, rate = load_with_rate(path)
    >>> y.shape, rate
    ((800,), 8000)
    """
    if sr is not None:
        sr = check_sr(sr)
    p = _check_file(path)
    _check_wav_length(p)
    try:
        y, file_sr = sf.read(p, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioError(f"{p}: cannot decode as audio ({err})") from err
    if y.shape[0] == 0:
        raise AudioError(f"{p}: zero-length audio (the file holds no samples)")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{p}: holds NaN or infinite samples")
    y = y.mean(axis=1) if mono else y
    if sr is not None and sr != file_sr:
        y = resample(y, orig_sr=file_sr, target_sr=sr)
        file_sr = sr
    return np.ascontiguousarray(y, dtype=np.float32), int(file_sr)


def load(path: str | os.PathLike, *, sr: int | None = 16000, mono: bool = True) -> np.ndarray:
    """Read an audio file as float32 samples at rate ``sr`` (``None``: the file's).

    Same as :func:`load_with_rate` without the rate, and resampling to 16 kHz by
    default (librosa's ``load`` defaults to 22.05 kHz; voicelab works at 16 kHz).

    Example
    -------
    >>> import tempfile, pathlib
    >>> path = save(pathlib.Path(tempfile.mkdtemp()) / "a.wav", np.zeros(800), sr=8000)
    >>> load(path).shape
    (1600,)
    """
    return load_with_rate(path, sr=sr, mono=mono)[0]


def save(path: str | os.PathLike, y: np.ndarray, *, sr: int, subtype: str | None = None) -> Path:
    """Write ``y`` to ``path``; the format follows the extension.

    WAV and FLAC are written as 16-bit PCM unless ``subtype`` says otherwise
    (see ``soundfile.available_subtypes()``). The parent folder is created.
    Samples outside ``[-1, 1]`` are clipped, with a ``UserWarning`` saying how many.

    Returns
    -------
    Path
        The path written.

    Example
    -------
    >>> import tempfile, pathlib
    >>> save(pathlib.Path(tempfile.mkdtemp()) / "sub" / "a.flac", np.zeros(80), sr=8000).suffix
    '.flac'
    """
    sr = check_sr(sr)
    y = check_audio(y, ndim=None)
    if y.ndim > 2:
        raise ParameterError(f"y has shape {y.shape}; expected [samples] or [samples, channels]")
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"path={path!r} must be a str or os.PathLike")
    p = Path(path)
    fmt = p.suffix[1:].upper()
    if fmt not in sf.available_formats():
        raise ParameterError(
            f"{p}: unknown audio extension {p.suffix!r}; use .wav, .flac, .ogg, ...")
    subtype = subtype or _SAVE_SUBTYPES.get(fmt)
    if subtype is not None and not sf.check_format(fmt, subtype):
        raise ParameterError(f"subtype={subtype!r} cannot be written to a {fmt} file ({p})")
    peak = float(np.max(np.abs(y)))
    if peak > 1.0:
        n = int(np.count_nonzero(np.abs(y) > 1.0))
        warnings.warn(f"{p}: {n} sample(s) outside [-1, 1] (peak {peak:.3f}) clipped",
                      UserWarning, stacklevel=2)
        y = np.clip(y, -1.0, 1.0)
    p.parent.mkdir(parents=True, exist_ok=True)
    sf.write(p, y, sr, subtype=subtype)
    return p


# ------------------------------------------------------------------ silence, level


def trim_silence(y: np.ndarray, *, sr: int, top_db: float = 40.0,
                 frame_length: int = 1024, hop_length: int = 256) -> np.ndarray:
    """Cut leading and trailing silence (frames ``top_db`` below the loudest one).

    ``librosa.effects.trim`` underneath; frames are ``frame_length`` samples every
    ``hop_length``, so the cut falls on a frame boundary and keeps up to a frame of
    silence each side. ``sr`` is checked and kept for a uniform signature.

    Raises
    ------
    AudioError
        ``y`` is all zeros: there is nothing to keep.

    Example
    -------
    >>> y = np.concatenate([np.zeros(8000), 0.5 * np.ones(8000), np.zeros(8000)])
    >>> len(y) / 16000, len(trim_silence(y, sr=16000)) / 16000     # seconds
    (1.5, 0.56)
    """
    import librosa

    check_sr(sr)
    y = check_audio(y)
    _check_silence_args(top_db, frame_length, hop_length)
    if not np.any(y):
        raise AudioError("y is silent (all zeros); there is nothing to keep when trimming")
    trimmed, _ = librosa.effects.trim(y, top_db=top_db, frame_length=frame_length,
                                      hop_length=hop_length)
    return trimmed


def split_on_silence(y: np.ndarray, *, sr: int, top_db: float = 40.0,
                     frame_length: int = 1024, hop_length: int = 256) -> np.ndarray:
    """Non-silent stretches of ``y`` as sample intervals ``[n_intervals, 2]`` (start, end).

    ``librosa.effects.split`` underneath; ``y[start:end]`` is each stretch. All-zero
    audio gives no intervals.

    Example
    -------
    >>> y = np.concatenate([np.ones(8000), np.zeros(8000), np.ones(8000)]) * 0.5
    >>> split_on_silence(y, sr=16000).shape
    (2, 2)
    """
    import librosa

    check_sr(sr)
    y = check_audio(y)
    _check_silence_args(top_db, frame_length, hop_length)
    if not np.any(y):
        return np.zeros((0, 2), dtype=np.int64)
    return librosa.effects.split(y, top_db=top_db, frame_length=frame_length,
                                 hop_length=hop_length).astype(np.int64)


def _check_silence_args(top_db: float, frame_length: int, hop_length: int) -> None:
    if not isinstance(top_db, (int, float)) or not top_db > 0:
        raise ParameterError(f"top_db={top_db!r} must be a positive number of dB")
    for name, value in (("frame_length", frame_length), ("hop_length", hop_length)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ParameterError(f"{name}={value!r} must be a positive integer")


def loudness(y: np.ndarray, *, sr: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, K-weighted, gated; pyloudnorm).

    ``-inf`` for silence (every 400 ms block below the -70 LUFS gate).

    Raises
    ------
    AudioError
        ``y`` is shorter than one 400 ms gating block.

    Example
    -------
    >>> t = np.arange(16000) / 16000
    >>> round(loudness(0.1 * np.sin(2 * np.pi * 1000 * t), sr=16000))   # RMS -23 dBFS
    -23
    """
    import pyloudnorm

    sr = check_sr(sr)
    y = check_audio(y, ndim=None)
    if y.ndim > 2:
        raise ParameterError(f"y has shape {y.shape}; expected [samples] or [samples, channels]")
    block = 0.4
    if y.shape[0] <= block * sr:
        raise AudioError(
            f"y has {y.shape[0]} samples ({y.shape[0] / sr:.3f} s at sr={sr}); loudness "
            f"needs more than one {block * 1000:.0f} ms gating block")
    with np.errstate(divide="ignore"):
        return float(pyloudnorm.Meter(sr, block_size=block).integrated_loudness(
            y.astype(np.float64)))


def normalize_loudness(y: np.ndarray, *, sr: int, target_lufs: float = -23.0,
                       peak: float | None = 0.99) -> np.ndarray:
    """Scale ``y`` to ``target_lufs`` integrated loudness (EBU R 128's -23 by default).

    Loudness is measured with :func:`loudness` (ITU-R BS.1770-4): a perceptual level
    that K-weights the spectrum and ignores pauses, so utterances with different
    amounts of silence come out equally loud, which RMS or peak scaling does not do.

    Parameters
    ----------
    y : np.ndarray
        ``[samples]`` or ``[samples, channels]``, longer than 0.4 s.
    sr : int
        Sample rate.
    target_lufs : float
        Target in LUFS (dB); must be below 0.
    peak : float or None
        Peak protection: if the gain would push ``max |y|`` above ``peak`` the whole
        signal is scaled down to that peak instead (so it lands *below* the target).
        ``None`` leaves the peaks as they fall.

    Raises
    ------
    AudioError
        ``y`` is silent (all zeros, or quieter than the -70 LUFS gate) or too short.

    Example
    -------
    >>> t = np.arange(32000) / 16000
    >>> y = normalize_loudness(0.01 * np.sin(2 * np.pi * 440 * t), sr=16000)
    >>> round(loudness(y, sr=16000), 1)
    -23.0
    """
    if not isinstance(target_lufs, (int, float)) or not -100 < target_lufs < 0:
        raise ParameterError(f"target_lufs={target_lufs!r} must be a number in (-100, 0) LUFS")
    if peak is not None and (not isinstance(peak, (int, float)) or not 0 < peak <= 1):
        raise ParameterError(f"peak={peak!r} must be in (0, 1] or None")
    y = check_audio(y, ndim=None)
    if not np.any(y):
        raise AudioError("y is silent (all zeros); its loudness is -inf and no gain can "
                         "bring it to the target")
    measured = loudness(y, sr=sr)
    if not np.isfinite(measured):
        raise AudioError(f"y is below the -70 LUFS gate (peak {np.max(np.abs(y)):.2e}); "
                         "treat it as silence rather than amplify noise")
    gain = 10.0 ** ((target_lufs - measured) / 20.0)
    if peak is not None:
        gain = min(gain, peak / float(np.max(np.abs(y))))
    return (y * gain).astype(np.float32)
