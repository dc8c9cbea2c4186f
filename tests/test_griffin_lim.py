"""Griffin-Lim and mel inversion: shapes, convergence, batching, librosa parity, errors."""

from __future__ import annotations

import numpy as np
import pytest

from voicelab.dsp import features
from voicelab.dsp import griffin_lim as gl
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError

SR = 16000
HOP = AudioConfig().hop_length


def harmonic(seconds: float = 1.0, f0: float = 150.0) -> np.ndarray:
    """Ten harmonics of a rising pitch under a Hann envelope: a voiced-speech stand-in."""
    n = int(seconds * SR)
    pitch = f0 + 100 * np.arange(n) / n
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    y = sum(np.sin(h * phase) / h for h in range(1, 11)) * np.hanning(n)
    return (0.3 * y).astype(np.float32)


@pytest.fixture(scope="module")
def voiced():
    y = harmonic()
    return y, features.magnitude(y)


# ------------------------------------------------------------------------ shapes


def test_single_output_shape_and_length(voiced):
    y, S = voiced
    audio = gl.griffin_lim(S, n_iter=2)
    assert audio.dtype == np.float32 and audio.shape == ((len(S) - 1) * HOP,)
    assert gl.griffin_lim(S, n_iter=2, length=len(y)).shape == (len(y),)
    assert gl.griffin_lim(S, n_iter=2, length=1000).shape == (1000,)


def test_batched_output_shapes_and_zero_padding(voiced):
    _, S = voiced
    batch = np.stack([S, S, S])
    assert gl.griffin_lim(batch, n_iter=2).shape == (3, (len(S) - 1) * HOP)
    audio, sc = gl.griffin_lim(batch, n_iter=3, lengths=[8000, 16000, 4000], return_convergence=True)
    assert audio.shape == (3, 16000) and sc.shape == (3, 3)
    assert not audio[0, 8000:].any() and not audio[2, 4000:].any()
    assert np.abs(audio[2, :4000]).max() > 0


# ------------------------------------------------------------------- convergence


def test_reconstruction_converges_on_a_harmonic_signal(voiced):
    y, S = voiced
    short = gl.griffin_lim(S, n_iter=4, length=len(y))
    audio, curve = gl.griffin_lim(S, n_iter=32, length=len(y), return_convergence=True)
    sc_short = gl.spectral_convergence_from_audio(short, S)
    sc = gl.spectral_convergence_from_audio(audio, S)
    assert sc < 0.2
    assert sc < 0.5 * sc_short                           # more iterations, closer
    assert curve.shape == (32,) and curve[-1] < curve[0]
    assert curve[-1] == pytest.approx(sc, rel=1e-4)      # the last value is the output's


def test_batch_equals_items_one_by_one(rng):
    lengths = [16000, 9000, 12345]
    ys = [harmonic(n / SR, f0=f0) for n, f0 in zip(lengths, (120.0, 180.0, 240.0))]
    mags = [features.magnitude(y) for y in ys]
    batch = np.zeros((3, max(map(len, mags)), mags[0].shape[1]), np.float32)
    for b, S in enumerate(mags):
        batch[b, :len(S)] = S
    batch[1, len(mags[1]):] = rng.random(batch[1, len(mags[1]):].shape)   # padding is ignored
    together = gl.griffin_lim(batch, n_iter=8, lengths=lengths, workers=2)
    for b, (S, n) in enumerate(zip(mags, lengths)):
        alone = gl.griffin_lim(S, n_iter=8, length=n, workers=1)
        np.testing.assert_allclose(together[b, :n], alone, atol=1e-6)


def test_voicelab_workers_sets_the_default_workers(voiced, monkeypatch):
    monkeypatch.setenv("VOICELAB_WORKERS", "3")
    assert gl._threads(None, 8) == (3, 1)    # (threads over utterances, FFT workers inside each)
    assert gl._threads(None, 1) == (1, 3)
    assert gl._threads(2, 8) == (2, 1)       # workers= given: the variable is not read
    monkeypatch.setenv("VOICELAB_WORKERS", "two")
    with pytest.raises(ParameterError, match="VOICELAB_WORKERS='two'"):
        gl.griffin_lim(voiced[1], n_iter=1)


@pytest.mark.parametrize("config", [AudioConfig(), AudioConfig(hop_length=200, win_length=800)],
                         ids=["hop256", "hop200-win800"])
def test_matches_librosa_griffinlim(voiced, config):
    librosa = pytest.importorskip("librosa")
    y, _ = voiced
    S = features.magnitude(y, config=config)
    ours = gl.griffin_lim(S, config=config, n_iter=16, seed=3)
    theirs = librosa.griffinlim(S.T, n_iter=16, random_state=3, n_fft=config.n_fft,
                                hop_length=config.hop_length, win_length=config.win_length)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=2e-3 * np.abs(theirs).max())


# ----------------------------------------------------------------- mel inversion


def smooth_spectrum(n_frames: int = 20) -> np.ndarray:
    """A broad formant-like bump moving up in frequency, over a floor."""
    freqs = np.linspace(0, SR / 2, AudioConfig().n_freqs)
    centres = 1000 + 150 * np.arange(n_frames)
    return (0.1 + np.exp(-((freqs - centres[:, None]) / 1500.0) ** 2)).astype(np.float32)


def test_mel_to_linear_recovers_a_smooth_spectrum():
    S = smooth_spectrum()
    linear = gl.mel_to_linear(S @ features.mel_filterbank())
    assert linear.shape == S.shape and linear.min() >= 0
    assert gl.spectral_convergence(S, linear) < 0.05
    batched = gl.mel_to_linear(np.stack([S, S]) @ features.mel_filterbank())
    np.testing.assert_allclose(batched[1], linear, rtol=1e-5)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_mel_to_linear_matches_librosa_mel_to_stft(power):
    librosa = pytest.importorskip("librosa")
    S = smooth_spectrum(8)
    mel = S**power @ features.mel_filterbank()
    theirs = librosa.feature.inverse.mel_to_stft(mel.T, sr=SR, n_fft=1024, power=power, fmax=8000.0).T
    np.testing.assert_allclose(gl.mel_to_linear(mel, power=power), theirs, atol=1e-3)


def test_mel_to_audio_shape_and_quality(voiced):
    y, S = voiced
    mel = features.melspectrogram(y)
    audio = gl.mel_to_audio(mel, n_iter=16, length=len(y))
    assert audio.shape == (len(y),)
    assert gl.spectral_convergence_from_audio(audio, S) < 0.5
    assert gl.mel_to_audio(np.stack([mel, mel]), n_iter=2).shape == (2, (len(mel) - 1) * HOP)


def test_spectral_convergence_values():
    S = np.ones((4, 3))
    assert gl.spectral_convergence(S, S) == 0.0
    assert gl.spectral_convergence(S, np.zeros_like(S)) == 1.0
    np.testing.assert_allclose(gl.spectral_convergence(np.stack([S, S]), np.stack([S, 0.5 * S])), [0.0, 0.5])


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda S: gl.griffin_lim(S.T), r"has 63 bins .* n_freqs=513; voicelab is time-major"),
        (lambda S: gl.griffin_lim(S[0]), r"got shape \(513,\)"),
        (lambda S: gl.griffin_lim(S[None, None]), r"got shape \(1, 1, 63, 513\)"),
        (lambda S: gl.griffin_lim(-S), r"non-negative, its minimum is -"),
        (lambda S: gl.griffin_lim(np.where(S > S.max() / 2, np.nan, S)), r"NaN or infinite .* at index \("),
        (lambda S: gl.griffin_lim(S + 0j), r"must be real"),
        (lambda S: gl.griffin_lim(S, n_iter=0), r"n_iter=0 must be a positive integer"),
        (lambda S: gl.griffin_lim(S, momentum=-0.5), r"momentum=-0.5"),
        (lambda S: gl.griffin_lim(S, init="zero"), r"init='zero' must be"),
        (lambda S: gl.griffin_lim(S, lengths=[100]), r"lengths is for a batch"),
        (lambda S: gl.griffin_lim(np.stack([S, S]), lengths=[100]), r"lengths has 1 entries for a batch of 2"),
        (lambda S: gl.griffin_lim(np.stack([S, S]), lengths=[100, 0]), r"lengths\[1\]=0"),
        (lambda S: gl.griffin_lim(S, length=100, lengths=[100]), r"not both"),
        (lambda S: gl.griffin_lim(S, workers=0), r"workers=0"),
        (lambda S: gl.mel_to_linear(S), r"has 513 bins .* n_mels=80"),
        (lambda S: gl.mel_to_linear(S[:, :80], power=0), r"power=0"),
        (lambda S: gl.mel_to_audio(S[:, :80][None, None]), r"mel must be .* got shape"),
        (lambda S: gl.spectral_convergence(S, S[:-1]), r"same shape"),
        (lambda S: gl.spectral_convergence(0 * S, S), r"all zeros"),
    ],
)
def test_bad_inputs_raise_parameter_error(call, match):
    S = features.magnitude(harmonic())
    with pytest.raises(ParameterError, match=match):
        call(S)
