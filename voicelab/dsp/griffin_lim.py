"""Griffin-Lim phase reconstruction and mel inversion, fast and batched.

Introduced in ``notebooks/01_audio_features.ipynb``.

A magnitude spectrogram has no phase. Griffin-Lim finds a signal whose STFT
magnitude is close to it by alternating two projections: put the magnitude on the
current phase and go to audio (inverse STFT), then come back (STFT) and keep only the
new phase. The *fast* variant (Perraudin, Balazs and Sondergaard, 2013) adds momentum:
it extrapolates the phase along its last step, ``rebuilt - alpha * previous`` with
``alpha = momentum / (1 + momentum)``, which converges much faster at ``momentum=0.99``.
This is ``librosa.griffinlim``'s algorithm, step for step (same window-sum
normalisation, same zero padding, same random initial phase for a given ``seed``).

Layout: time-major like the rest of voicelab, magnitude ``[frames, n_freqs]`` or a
padded batch ``[batch, frames, n_freqs]``; audio ``[samples]`` or ``[batch, samples]``.

How it is made fast (the lesson in engineering)
-----------------------------------------------
Each step was kept because it measured faster. CPU seconds per ~4 s utterance
(240 frames, ``n_fft=1024``, hop 256, 32 iterations, one thread), from
``python benchmarks/griffin_lim.py`` on a 2-core machine shared with other jobs:

=================================================  ============  ==========
version                                            CPU s / utt   vs librosa
=================================================  ============  ==========
``librosa.griffinlim`` (numpy.fft, complex64)          0.51         1.0x
plain numpy loop, complex64, strided framing,          0.27         1.8x
overlap-add by reshaping, window sum computed once
same loop with ``scipy.fft`` (its pocketfft does       0.21         2.4x
many frames at once: 1.5-3x faster than numpy.fft)
this module, one thread                                0.10         4.8x
=================================================  ============  ==========

Per iteration this module spends ~2 ms in the two FFTs and ~0.5 ms in its own
loops; what got it there, per utterance and iteration:

- the phase update ``S * unit(rebuilt - alpha * previous)`` as one numba loop
  (:func:`_accelerated_phase`) instead of five numpy passes: 3 ms -> 0.4 ms;
- overlap-add, window-sum normalisation and re-framing *streamed* hop by hop while
  the data are in cache (:func:`_overlap_add`): 0.75 ms as two passes -> 0.11 ms.
  Writing its inner loops over 1-D slices mattered as much: the same loop with 2-D
  indexing did not vectorise and took 0.6-0.9 ms;
- window sum and initial phase computed once per utterance, in one memory order
  (mixing C- and F-ordered arrays made the random initial phase 4x slower).

Across utterances, ``workers`` threads (default: every core) each take whole
utterances: no padding is transformed, each utterance's arrays stay in one core's
cache, and the threads never wait for each other. The alternative, numba
``parallel=True`` loops and ``scipy.fft(workers=2)`` on one padded batch, was 1.7x
*slower* than one thread while other jobs used the cores (0.30 vs 0.18 s per
utterance): each of the four steps of an iteration waits for both cores. Tried and
dropped: ``overwrite_x=True`` in the FFTs (no gain). The FFTs are now ~80% of the
time; the numbers of your machine are the benchmark's to tell.

Mel inversion: :func:`mel_to_linear` multiplies by the pseudo-inverse of the mel
filterbank and clips negatives to 0 (one matrix product). librosa's ``mel_to_stft``
solves a non-negative least-squares problem with L-BFGS-B instead; see
:func:`mel_to_linear` for how close the two are.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numba
import numpy as np
import scipy.fft

from voicelab.dsp import features
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.profiles import default_workers

__all__ = [
    "griffin_lim",
    "mel_to_audio",
    "mel_pseudo_inverse",
    "mel_to_linear",
    "spectral_convergence",
    "spectral_convergence_from_audio",
]

_TINY = np.float32(np.finfo(np.float32).tiny)   # librosa's eps in ``angles / (|angles| + eps)``

# ----------------------------------------------------------------------------- kernels
# Small numba loops, each one pass over memory. They run one utterance at a time and
# release the GIL, so several threads can run them side by side.


@numba.njit(nogil=True, fastmath=True, cache=True)
def _overlap_add(frames, window, inv_wsum, signal, hop, reframe):  # pragma: no cover - jitted
    """``signal = OLA(window * frames) * inv_wsum``; then, if ``reframe``, ``frames = window * frames of signal``.

    ``frames`` is ``[n_frames, n_fft]`` (the inverse FFT of each frame), ``signal`` is
    ``(n_frames - 1) * hop + n_fft`` samples long, *not* trimmed by ``n_fft // 2`` at the
    ends: frame ``f`` covers ``signal[f * hop : f * hop + n_fft]``. ``inv_wsum`` is
    1 / (sum of squared windows) where the output is wanted and 0 elsewhere, so the
    centre padding and anything past ``length`` are zero, as after librosa's istft.

    The signal is built one hop-sized block at a time; as soon as a block completes
    the last frame that ends in it, that frame is re-windowed from the signal into
    ``frames`` (its old content is no longer needed). Everything stays in cache.
    """
    n_frames, n_fft = frames.shape
    total = signal.shape[0]
    for t0 in range(0, total, hop):
        t1 = min(t0 + hop, total)
        block = signal[t0:t1]
        block[:] = 0.0
        first = 0 if t0 < n_fft else (t0 - n_fft) // hop + 1     # frames reaching past t0
        last = min(n_frames - 1, (t1 - 1) // hop)                # frames starting before t1
        for f in range(first, last + 1):
            start = f * hop
            a, b = max(t0, start), min(t1, start + n_fft)
            part, frame, win = signal[a:b], frames[f, a - start:b - start], window[a - start:b - start]
            for k in range(b - a):        # 1-D slices: numba vectorises these loops
                part[k] += win[k] * frame[k]
        scale = inv_wsum[t0:t1]
        for k in range(t1 - t0):
            block[k] *= scale[k]
        if reframe and t1 >= n_fft:
            # the frames whose last sample, f * hop + n_fft - 1, lies in [t0, t1)
            lo = 0 if t0 + 1 <= n_fft else (t0 + 1 - n_fft + hop - 1) // hop
            hi = min(n_frames - 1, (t1 - n_fft) // hop)
            for f in range(lo, hi + 1):
                source, frame = signal[f * hop:f * hop + n_fft], frames[f]
                for n in range(n_fft):
                    frame[n] = window[n] * source[n]


@numba.njit(nogil=True, fastmath=True, cache=True)
def _accelerated_phase(rebuilt, previous, magnitude, alpha, out):  # pragma: no cover - jitted
    """``out = magnitude * unit(rebuilt - alpha * previous)``, element-wise, in one pass.

    Complex arrays are passed as float32 views ``[frames, 2 * n_freqs]`` (re, im pairs);
    ``out`` may be ``previous`` (each element is read before it is written).
    """
    n_frames, n_freqs = magnitude.shape
    for f in range(n_frames):
        for k in range(n_freqs):
            re = rebuilt[f, 2 * k] - alpha * previous[f, 2 * k]
            im = rebuilt[f, 2 * k + 1] - alpha * previous[f, 2 * k + 1]
            scale = magnitude[f, k] / (np.sqrt(re * re + im * im) + _TINY)
            out[f, 2 * k] = re * scale
            out[f, 2 * k + 1] = im * scale


@numba.njit(nogil=True, fastmath=True, cache=True)
def _squared_error(magnitude, rebuilt):  # pragma: no cover - jitted
    """``sum((magnitude - |rebuilt|) ** 2)`` with ``rebuilt`` as a float32 view."""
    n_frames, n_freqs = magnitude.shape
    total = 0.0
    for f in range(n_frames):
        for k in range(n_freqs):
            re = rebuilt[f, 2 * k]
            im = rebuilt[f, 2 * k + 1]
            diff = magnitude[f, k] - np.sqrt(re * re + im * im)
            total += diff * diff
    return total


# ---------------------------------------------------------------------- the algorithm


def _initial_spectrum(magnitude: np.ndarray, init: str, seed: int) -> np.ndarray:
    """``magnitude * exp(i * phase0)``: the phase librosa draws for ``random_state=seed``."""
    if init == "zeros":
        return magnitude.astype(np.complex64)
    n_frames, n_freqs = magnitude.shape
    # librosa: np.random.RandomState(seed).random(S.shape), with S as [n_freqs, frames]
    unit = np.random.RandomState(seed).random((n_freqs, n_frames))
    phase = np.ascontiguousarray(unit.T, dtype=np.float32) * np.float32(2 * np.pi)
    spectrum = np.empty(magnitude.shape, np.complex64)
    spectrum.real = magnitude * np.cos(phase)     # same memory order everywhere: 4x faster
    spectrum.imag = magnitude * np.sin(phase)
    return spectrum


def _inverse_window_sum(window: np.ndarray, n_frames: int, hop: int, length: int) -> np.ndarray:
    """1 / (sum of the squared, shifted windows) over the output's samples, 0 elsewhere.

    Indexed like :func:`_overlap_add`'s untrimmed signal: output sample ``s`` is at
    ``s + n_fft // 2``. Computed once per utterance, not once per iteration.
    """
    n_fft = len(window)
    total = (n_frames - 1) * hop + n_fft
    reps = -(-n_fft // hop)                       # hops per frame, rounded up
    squared = np.zeros(reps * hop)
    squared[:n_fft] = window.astype(np.float64) ** 2
    wsum = np.zeros((n_frames + reps - 1, hop))   # the signal cut into hops
    for j in range(reps):                         # the j-th hop of every frame, all at once
        wsum[j:j + n_frames] += squared[j * hop:(j + 1) * hop]
    wsum = wsum.ravel()[:total]
    inv = np.zeros(total, np.float32)
    lo, hi = n_fft // 2, min(n_fft // 2 + length, total)
    good = wsum[lo:hi] > _TINY
    inv[lo:hi][good] = 1.0 / wsum[lo:hi][good]
    return inv


def _griffin_lim_one(magnitude, *, config, n_iter, alpha, init, seed, length, track, fft_workers):
    """Fast Griffin-Lim on one utterance ``[frames, n_freqs]``; returns (audio, convergence)."""
    n_fft, hop = config.n_fft, config.hop_length
    window = features.hann_window(config).astype(np.float32)
    inv_wsum = _inverse_window_sum(window, len(magnitude), hop, length)
    signal = np.empty(len(inv_wsum), np.float32)
    sum_sq = float(np.sum(np.square(magnitude, dtype=np.float64)))
    convergence = []

    def rebuild(spectrum):
        """STFT(ISTFT(spectrum)): the consistent spectrogram nearest to ``spectrum``."""
        frames = scipy.fft.irfft(spectrum, n=n_fft, axis=-1, workers=fft_workers)
        _overlap_add(frames, window, inv_wsum, signal, hop, True)
        return scipy.fft.rfft(frames, axis=-1, workers=fft_workers)

    def track_error(rebuilt):
        if track:
            err = _squared_error(magnitude, rebuilt.view(np.float32))
            convergence.append(np.sqrt(err / sum_sq) if sum_sq > 0 else 0.0)

    spectrum = _initial_spectrum(magnitude, init, seed)
    previous = None
    for i in range(n_iter):
        rebuilt = rebuild(spectrum)
        if i > 0:
            track_error(rebuilt)          # the audio after i iterations
        if previous is None:              # first step: no momentum yet
            spectrum = np.empty_like(rebuilt)
            _accelerated_phase(rebuilt.view(np.float32), rebuilt.view(np.float32), magnitude,
                               np.float32(0.0), spectrum.view(np.float32))
        else:                             # new spectrum written over the old ``previous``
            _accelerated_phase(rebuilt.view(np.float32), previous.view(np.float32), magnitude,
                               alpha, previous.view(np.float32))
            spectrum = previous
        previous = rebuilt

    frames = scipy.fft.irfft(spectrum, n=n_fft, axis=-1, workers=fft_workers)
    _overlap_add(frames, window, inv_wsum, signal, hop, track)
    if track:                             # the returned audio, after n_iter iterations
        track_error(scipy.fft.rfft(frames, axis=-1, workers=fft_workers))
    audio = np.zeros(length, np.float32)
    part = signal[n_fft // 2:n_fft // 2 + length]
    audio[:len(part)] = part
    return audio, np.asarray(convergence, np.float64)


def griffin_lim(
    magnitude: np.ndarray,
    *,
    config: AudioConfig = AudioConfig(),
    n_iter: int = 32,
    momentum: float = 0.99,
    init: str = "random",
    seed: int = 0,
    length: int | None = None,
    lengths: Sequence[int] | None = None,
    return_convergence: bool = False,
    workers: int | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Audio whose STFT magnitude approximates ``magnitude``: fast Griffin-Lim.

    Parameters
    ----------
    magnitude : np.ndarray
        Non-negative STFT magnitude ``[frames, n_freqs]``, or a batch
        ``[batch, frames, n_freqs]`` padded to the longest item.
    config : AudioConfig
        ``n_fft``, ``hop_length``, ``win_length`` (Hann window, centred frames).
    n_iter : int
        Iterations (each one inverse STFT and one STFT).
    momentum : float
        Momentum of the fast variant; 0 is the original Griffin-Lim, librosa's 0.99
        converges much faster. Values above 1 may diverge.
    init : {"random", "zeros"}
        Initial phase: uniform random (librosa's ``init="random"``) or zero
        (librosa's ``init=None``).
    seed : int
        Seed of the random phase: each utterance starts from the phase that
        ``librosa.griffinlim(S, random_state=seed)`` draws for it alone, so a batch
        gives the same audio as its items one by one.
    length : int, optional
        Output length in samples (zero-padded or trimmed), for every item. Default
        ``(frames - 1) * hop_length``, like ``librosa.istft``.
    lengths : sequence of int, optional
        For a padded batch: each item's length in samples. Item ``b`` uses its first
        ``1 + lengths[b] // hop_length`` frames; the output is ``[batch, max(lengths)]``
        with zeros after each item's end.
    return_convergence : bool
        Also return the spectral convergence after each iteration (see
        :func:`spectral_convergence`): ``[n_iter]``, or ``[batch, n_iter]``; the last
        value is that of the returned audio.
    workers : int, optional
        Threads (default :func:`voicelab.profiles.default_workers`: ``$VOICELAB_WORKERS``,
        else every core this process may use). Utterances are shared among them; a
        single utterance uses them inside its FFTs.

    Returns
    -------
    audio : np.ndarray of float32
        ``[samples]`` or ``[batch, samples]``.
    convergence : np.ndarray of float64, only if ``return_convergence``

    Example
    -------
    >>> import numpy as np
    >>> from voicelab.dsp import features
    >>> t = np.arange(16000) / 16000
    >>> y = (np.sin(2 * np.pi * 220 * t) * np.hanning(16000)).astype(np.float32)
    >>> S = features.magnitude(y)                       # [frames, n_freqs]
    >>> audio, sc = griffin_lim(S, n_iter=16, length=len(y), return_convergence=True)
    >>> audio.shape, sc.shape, bool(sc[-1] < sc[0])
    ((16000,), (16,), True)
    """
    config = features._check_config(config)
    mag = _check_spectrogram(magnitude, config.n_freqs, "magnitude", "n_freqs")
    n_iter = _check_positive_int(n_iter, "n_iter")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.floating)) \
            or not 0 <= momentum < np.inf:
        raise ParameterError(f"momentum={momentum!r} must be a number >= 0 (librosa uses 0.99)")
    if init not in ("random", "zeros"):
        raise ParameterError(f"init={init!r} must be 'random' or 'zeros'")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ParameterError(f"seed={seed!r} must be an integer in [0, 2**32)")
    single = mag.ndim == 2
    batch = mag[None] if single else mag
    out_lengths = _output_lengths(batch.shape, config, length, lengths, single)
    threads, fft_workers = _threads(workers, len(batch))

    def run(b):
        n_frames = min(batch.shape[1], config.n_frames(out_lengths[b]))
        return _griffin_lim_one(
            np.ascontiguousarray(batch[b, :n_frames]), config=config, n_iter=n_iter,
            alpha=np.float32(momentum / (1 + momentum)), init=init, seed=int(seed),
            length=out_lengths[b], track=return_convergence, fft_workers=fft_workers)

    order = sorted(range(len(batch)), key=lambda b: -out_lengths[b])   # longest first
    if threads == 1:
        results = dict(zip(order, map(run, order)))
    else:
        with ThreadPoolExecutor(threads) as pool:
            results = dict(zip(order, pool.map(run, order)))
    audio = np.zeros((len(batch), max(out_lengths)), np.float32)
    for b, (item, _) in results.items():
        audio[b, :len(item)] = item
    if single:
        audio = audio[0]
    if not return_convergence:
        return audio
    convergence = np.stack([results[b][1] for b in range(len(batch))])
    return audio, (convergence[0] if single else convergence)


# ------------------------------------------------------------------ mel inversion


def mel_pseudo_inverse(config: AudioConfig = AudioConfig()) -> np.ndarray:
    """``pinv(mel_filterbank)``, ``[n_mels, n_freqs]`` float32: ``mel @ it`` is :func:`mel_to_linear` before clipping.

    Example
    -------
    >>> mel_pseudo_inverse().shape
    (80, 513)
    """
    return _mel_pseudo_inverse(features._check_config(config)).copy()


@functools.lru_cache(maxsize=16)
def _mel_pseudo_inverse(config: AudioConfig) -> np.ndarray:
    """``pinv(mel_filterbank)``, ``[n_mels, n_freqs]`` float32, computed once per config."""
    return np.linalg.pinv(features.mel_filterbank(config).astype(np.float64)).astype(np.float32)


def mel_to_linear(mel: np.ndarray, *, config: AudioConfig = AudioConfig(),
                  power: float = 1.0) -> np.ndarray:
    """Linear-frequency magnitude ``[..., frames, n_freqs]`` from a mel spectrogram.

    The mel spectrogram is ``S ** power @ fb`` (``fb`` = :func:`voicelab.dsp.features.mel_filterbank`,
    Slaney). 80 bands for 513 bins is underdetermined; we take the minimum-norm
    least-squares answer, ``mel @ pinv(fb)``, clip negatives to 0 and take the
    ``power``-th root: one matrix product for the whole batch.

    ``librosa.feature.inverse.mel_to_stft`` starts from this same clipped
    pseudo-inverse, then runs L-BFGS-B on the non-negative least-squares problem. Its
    objective is divided by the array's size, so the solver's gradient test passes
    almost at once: on flite speech the two answers agree to ~1e-6 (relative) and
    are equally far from the true magnitude (spectral convergence 0.333 for both on
    the benchmark's 16 clips), while this is two orders of magnitude faster
    (``benchmarks/griffin_lim.py`` prints both). The distance itself is the mel's
    loss, not the solver's: 80 bands cannot hold the harmonics of a voice.
    Frequencies no band covers (0 Hz, or outside ``fmin``-``fmax``) come back as 0.

    Parameters
    ----------
    mel : np.ndarray
        Non-negative mel spectrogram ``[..., frames, n_mels]`` (time-major).
    config : AudioConfig
        ``sr``, ``n_fft``, ``n_mels``, ``fmin``, ``fmax`` of the filterbank.
    power : float
        1 if the mel was made from the magnitude (voicelab's default), 2 from power.

    Example
    -------
    >>> import numpy as np
    >>> from voicelab.dsp import features
    >>> mel = features.melspectrogram(np.random.default_rng(0).standard_normal(4000).astype(np.float32))
    >>> S = mel_to_linear(mel)
    >>> S.shape, bool(S.min() >= 0)
    ((16, 513), True)
    """
    config = features._check_config(config)
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power < np.inf:
        raise ParameterError(f"power={power!r} must be a positive number (1: magnitude, 2: power)")
    mel = _check_spectrogram(mel, config.n_mels, "mel", "n_mels", max_ndim=None)
    # one 2-D product (a stack of small ones is ~8x slower with OpenBLAS threads)
    flat = mel.reshape(-1, config.n_mels) @ _mel_pseudo_inverse(config)
    linear = flat.reshape(*mel.shape[:-1], config.n_freqs)
    np.maximum(linear, 0.0, out=linear)
    if power != 1:
        np.power(linear, 1.0 / power, out=linear)
    return linear


def mel_to_audio(mel: np.ndarray, *, config: AudioConfig = AudioConfig(), n_iter: int = 32,
                 power: float = 1.0, **kwargs) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Audio from a mel spectrogram: :func:`mel_to_linear`, then :func:`griffin_lim`.

    Parameters
    ----------
    mel : np.ndarray
        ``[frames, n_mels]`` or a padded batch ``[batch, frames, n_mels]``.
    config, n_iter, power
        As in :func:`mel_to_linear` and :func:`griffin_lim`.
    **kwargs
        Any other keyword of :func:`griffin_lim` (``momentum``, ``init``, ``seed``,
        ``length``, ``lengths``, ``return_convergence``, ``workers``).

    Example
    -------
    >>> import numpy as np
    >>> mel = np.ones((20, 80), np.float32)
    >>> mel_to_audio(mel, n_iter=2).shape
    (4864,)
    """
    config = features._check_config(config)
    if np.ndim(mel) not in (2, 3):
        raise ParameterError(
            f"mel must be [frames, n_mels] or [batch, frames, n_mels], got shape {np.shape(mel)}")
    linear = mel_to_linear(mel, config=config, power=power)
    return griffin_lim(linear, config=config, n_iter=n_iter, **kwargs)


# ------------------------------------------------------------- spectral convergence


def spectral_convergence(reference_magnitude: np.ndarray,
                         estimate_magnitude: np.ndarray) -> float | np.ndarray:
    """``||S - S_hat||_F / ||S||_F``: 0 is a perfect match, 1 is as far as silence.

    Parameters
    ----------
    reference_magnitude, estimate_magnitude : np.ndarray
        Same shape, ``[frames, n_freqs]`` (returns a float) or ``[batch, frames,
        n_freqs]`` (returns one value per item).

    Example
    -------
    >>> import numpy as np
    >>> S = np.ones((4, 3))
    >>> spectral_convergence(S, 0.5 * S)
    0.5
    """
    ref = np.asarray(reference_magnitude, dtype=np.float64)
    est = np.asarray(estimate_magnitude, dtype=np.float64)
    if ref.shape != est.shape or ref.ndim not in (2, 3):
        raise ParameterError(
            f"reference_magnitude {ref.shape} and estimate_magnitude {est.shape} must have "
            "the same shape, [frames, n_freqs] or [batch, frames, n_freqs]")
    norm = np.sqrt(np.sum(ref**2, axis=(-2, -1)))
    if np.any(norm == 0):
        raise ParameterError("reference_magnitude is all zeros: spectral convergence is undefined")
    sc = np.sqrt(np.sum((ref - est) ** 2, axis=(-2, -1))) / norm
    return float(sc) if ref.ndim == 2 else sc


def spectral_convergence_from_audio(audio: np.ndarray, reference_magnitude: np.ndarray, *,
                                    config: AudioConfig = AudioConfig(),
                                    lengths: Sequence[int] | None = None) -> float | np.ndarray:
    """Spectral convergence of ``audio``'s STFT magnitude against a target magnitude.

    What a phase reconstruction is judged by: re-analyse the audio it made and
    compare with the magnitude it was asked for.

    Parameters
    ----------
    audio : np.ndarray
        ``[samples]``, or ``[batch, samples]`` (with ``lengths`` if padded).
    reference_magnitude : np.ndarray
        ``[frames, n_freqs]`` or ``[batch, frames, n_freqs]``; item ``b`` is compared
        over the ``1 + lengths[b] // hop_length`` frames of its first ``lengths[b]``
        samples (all of them without ``lengths``).
    config : AudioConfig
        The STFT settings.

    Example
    -------
    >>> import numpy as np
    >>> from voicelab.dsp import features
    >>> y = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    >>> round(spectral_convergence_from_audio(y, features.magnitude(y)), 6)
    0.0
    """
    config = features._check_config(config)
    ref = np.asarray(reference_magnitude)
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim + 1 != ref.ndim or y.ndim not in (1, 2) or (y.ndim == 2 and len(y) != len(ref)):
        raise ParameterError(
            f"audio {y.shape} and reference_magnitude {ref.shape} must be [samples] and "
            "[frames, n_freqs], or [batch, samples] and [batch, frames, n_freqs]")
    single = y.ndim == 1
    ys, refs = (y[None], ref[None]) if single else (y, ref)
    if lengths is None:
        lengths = [ys.shape[1]] * len(ys)
    elif len(lengths) != len(ys):
        raise ParameterError(f"lengths has {len(lengths)} entries for a batch of {len(ys)}")
    scores = []
    for b, n in enumerate(lengths):
        est = features.magnitude(ys[b, :n], config=config)
        if len(est) > refs.shape[1]:
            raise ParameterError(
                f"audio item {b} has {n} samples, {len(est)} frames, but reference_magnitude "
                f"has only {refs.shape[1]} frames")
        scores.append(spectral_convergence(refs[b, :len(est)], est))
    return scores[0] if single else np.asarray(scores)


# --------------------------------------------------------------------------- checks


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return int(value)


def _check_spectrogram(x: object, n_bins: int, name: str, bins_name: str,
                       max_ndim: int | None = 3) -> np.ndarray:
    """A float32 C-contiguous copy-if-needed of a non-negative ``[..., frames, bins]`` array."""
    arr = np.asarray(x)
    if np.iscomplexobj(arr):
        raise ParameterError(f"{name} must be real and non-negative (pass np.abs of the STFT)")
    if arr.ndim < 2 or (max_ndim is not None and arr.ndim > max_ndim):
        shapes = f"[frames, {bins_name}]" + (f" or [batch, frames, {bins_name}]" if max_ndim == 3
                                             else f" or [..., frames, {bins_name}]")
        raise ParameterError(f"{name} must be {shapes}, got shape {arr.shape}")
    if arr.shape[-1] != n_bins:
        raise ParameterError(
            f"{name} has {arr.shape[-1]} bins in its last axis but the config gives "
            f"{bins_name}={n_bins}; voicelab is time-major [frames, {bins_name}] "
            f"(librosa's [{bins_name}, frames] needs .T)")
    if arr.shape[-2] < 1:
        raise ParameterError(f"{name} has no frames, shape {arr.shape}")
    try:
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be numeric, got dtype {np.asarray(x).dtype}") from err
    finite = np.isfinite(arr)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ParameterError(
            f"{name} has {int((~finite).sum())} NaN or infinite values, the first "
            f"{arr[where]} at index {where}")
    if arr.size and arr.min() < 0:
        raise ParameterError(f"{name} must be non-negative, its minimum is {arr.min():.4g}")
    return arr


def _output_lengths(shape, config, length, lengths, single) -> list[int]:
    """Each item's output length in samples."""
    if length is not None and lengths is not None:
        raise ParameterError("give length (every item) or lengths (one per item), not both")
    if lengths is not None:
        if single:
            raise ParameterError("lengths is for a batch [batch, frames, n_freqs]; use length")
        lengths = list(lengths)
        if len(lengths) != shape[0]:
            raise ParameterError(f"lengths has {len(lengths)} entries for a batch of {shape[0]}")
        return [_check_positive_int(n, f"lengths[{i}]") for i, n in enumerate(lengths)]
    if length is not None:
        return [_check_positive_int(length, "length")] * shape[0]
    return [max(1, (shape[1] - 1) * config.hop_length)] * shape[0]


def _threads(workers, n_items) -> tuple[int, int]:
    """(threads over utterances, FFT workers inside each) for ``workers`` cores."""
    if workers is None:
        workers = default_workers()
    workers = _check_positive_int(workers, "workers")
    threads = min(workers, n_items)
    return threads, max(1, workers // threads)
