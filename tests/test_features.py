"""voicelab.dsp.features against librosa (shapes and values), f0 on a synthetic vowel, bad inputs."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal

from voicelab import AudioError, ParameterError
from voicelab.dsp import features as F
from voicelab.dsp.features import AudioConfig

CONFIGS = [
    AudioConfig(),                                                       # 16 kHz, 80 mels
    AudioConfig(sr=22050, n_fft=1024, hop_length=256, win_length=800, fmax=None),
    AudioConfig(n_fft=512, hop_length=160, win_length=400, n_mels=40, fmin=50.0, fmax=7600.0),
]
IDS = ["16k-default", "22k-win800", "16k-512-40mels"]


def lib_kwargs(cfg: AudioConfig) -> dict:
    return dict(n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length)


def mel_kwargs(cfg: AudioConfig) -> dict:
    return dict(sr=cfg.sr, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, pad_mode="constant",
                **lib_kwargs(cfg))


@pytest.fixture
def noise(rng) -> np.ndarray:
    """1.3 s of white noise with an odd length, so the last frame is partial."""
    return (0.1 * rng.standard_normal(20801)).astype(np.float32)


def vowel(f0_hz: float, sr: int = 16000, seconds: float = 1.0) -> np.ndarray:
    """A vowel-like buzz: ten harmonics of ``f0_hz`` falling 1/k, random-ish phases."""
    t = np.arange(int(sr * seconds)) / sr
    y = sum(0.6 / k * np.sin(2 * np.pi * f0_hz * k * t + k) for k in range(1, 11))
    return (0.5 * y).astype(np.float32)


# ------------------------------------------------------------------ vs librosa


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_stft_matches_librosa(noise, cfg):
    ours = F.stft(noise, config=cfg)
    ref = librosa.stft(noise, window="hann", center=True, pad_mode="constant", **lib_kwargs(cfg)).T
    assert ours.dtype == np.complex64
    assert ours.shape == ref.shape == (cfg.n_frames(len(noise)), cfg.n_freqs)
    assert np.max(np.abs(ours - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_stft_of_a_batch_is_the_stack_of_its_items(noise):
    batch = np.stack([noise, noise[::-1], 0.5 * noise])[None]          # [1, 3, samples]
    out = F.stft(batch)
    assert out.shape == (1, 3, 82, 513)
    np.testing.assert_allclose(out[0, 1], F.stft(noise[::-1]), atol=1e-6)


def test_hann_window_is_librosas_periodic_padded_window():
    cfg = AudioConfig(win_length=800)
    ref = librosa.util.pad_center(scipy.signal.get_window("hann", 800, fftbins=True), size=1024)
    np.testing.assert_allclose(F.hann_window(cfg), ref, atol=1e-12)


def test_magnitude_is_abs_stft_to_the_power(noise):
    mag = F.magnitude(noise)
    np.testing.assert_allclose(mag, np.abs(librosa.stft(noise, n_fft=1024, hop_length=256,
                                                        pad_mode="constant")).T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(F.magnitude(noise, power=2.0), mag**2, rtol=1e-5)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_mel_filterbank_is_librosas_slaney_filterbank(cfg):
    fb = F.mel_filterbank(cfg)
    ref = librosa.filters.mel(sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin,
                              fmax=cfg.fmax).T
    assert fb.shape == ref.shape == (cfg.n_freqs, cfg.n_mels)
    np.testing.assert_allclose(fb, ref, atol=1e-8)
    assert np.all(fb.max(axis=0) > 0)                               # no empty band


def test_mel_scale_is_librosas_slaney_scale():
    hz = np.array([0.0, 200.0, 999.0, 1000.0, 4000.0, 8000.0])
    np.testing.assert_allclose(F.hz_to_mel(hz), librosa.hz_to_mel(hz), rtol=1e-12)
    np.testing.assert_allclose(F.mel_to_hz(F.hz_to_mel(hz)), hz, rtol=1e-12)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_melspectrogram_matches_librosa(noise, cfg):
    ours = F.melspectrogram(noise, config=cfg)
    ref = librosa.feature.melspectrogram(y=noise, power=1.0, **mel_kwargs(cfg)).T
    assert ours.shape == ref.shape == (cfg.n_frames(len(noise)), cfg.n_mels)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_log_mel_is_the_floored_natural_log(noise):
    mel = F.melspectrogram(noise)
    np.testing.assert_allclose(F.log_mel(mel), np.log(np.maximum(mel, 1e-5)), rtol=1e-6)
    assert F.log_mel(np.zeros((3, 80))).min() == pytest.approx(np.log(1e-5))
    assert F.log_mel(mel, floor=1e-2).min() >= np.log(1e-2) - 1e-6


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_mfcc_matches_librosa(noise, cfg):
    y = noise * np.linspace(0, 1, len(noise), dtype=np.float32)         # exercise top_db
    ours = F.mfcc(y, config=cfg, n_mfcc=13)
    ref = librosa.feature.mfcc(y=y, n_mfcc=13, **mel_kwargs(cfg)).T
    assert ours.shape == ref.shape == (cfg.n_frames(len(y)), 13)
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_mfcc_is_the_dct_of_the_same_log_power_mel(noise):
    # The definition in the docstring: DCT-II (orthonormal) of the dB power mel.
    db = librosa.power_to_db(F.melspectrogram(noise, power=2.0).T)
    ref = librosa.feature.mfcc(S=db, n_mfcc=20).T
    np.testing.assert_allclose(F.mfcc(noise, n_mfcc=20), ref, atol=1e-3)
    np.testing.assert_allclose(F.power_to_db(F.melspectrogram(noise, power=2.0)), db.T, atol=1e-4)


def test_energy_is_frame_rms_aligned_with_the_mel(noise):
    e = F.energy(noise)
    ref = librosa.feature.rms(y=noise, frame_length=1024, hop_length=256).T[:, 0]
    assert e.shape == ref.shape == (F.melspectrogram(noise).shape[0],)
    np.testing.assert_allclose(e, ref, rtol=1e-5)
    sine = np.sin(2 * np.pi * 500 * np.arange(16000) / 16000)
    assert F.energy(sine)[10:-10] == pytest.approx(np.full(43, np.sqrt(0.5)), abs=1e-3)
    assert F.amplitude_to_db(F.energy(sine))[30] == pytest.approx(-3.01, abs=0.01)
    assert F.energy(np.stack([sine, 0.5 * sine])).shape == (2, 63)


def test_db_helpers_match_librosa():
    x = np.array([[1.0, 0.5, 1e-3, 0.0]])
    np.testing.assert_allclose(F.amplitude_to_db(x), librosa.amplitude_to_db(x, ref=1.0, top_db=None))
    np.testing.assert_allclose(F.power_to_db(x), librosa.power_to_db(x))


def test_frames_and_seconds_convert_like_librosa():
    frames = np.arange(10)
    np.testing.assert_allclose(F.frames_to_seconds(frames),
                               librosa.frames_to_time(frames, sr=16000, hop_length=256))
    np.testing.assert_array_equal(F.seconds_to_frames(F.frames_to_seconds(frames)), frames)


# -------------------------------------------------------------------------- f0


@pytest.mark.parametrize("method", ["dio", "harvest", "pyin"])
def test_f0_of_a_200_hz_vowel_is_200_hz(method):
    hz, voiced = F.f0(vowel(200.0), method=method)
    assert hz.shape == voiced.shape == (63,) and voiced.dtype == bool
    assert voiced[2:-2].all()
    np.testing.assert_allclose(hz[voiced], 200.0, rtol=0.02)
    assert np.all(hz[~voiced] == 0)


def test_f0_follows_a_rising_pitch():
    sr = 16000
    t = np.arange(sr) / sr
    glide = 120.0 + 120.0 * t                                           # 120 -> 240 Hz
    phase = 2 * np.pi * np.cumsum(glide) / sr
    y = sum(0.6 / k * np.sin(k * phase) for k in range(1, 8)).astype(np.float32)
    hz, voiced = F.f0(y)
    expected = 120.0 + 120.0 * F.frames_to_seconds(np.arange(len(hz)))
    np.testing.assert_allclose(hz[voiced][2:-2], expected[voiced][2:-2], rtol=0.02)


@pytest.mark.parametrize("n_samples", [16000, 16001, 22050 + 77])
def test_f0_has_one_value_per_mel_frame(n_samples):
    cfg = AudioConfig(sr=22050, hop_length=256, fmax=None)
    y = vowel(150.0, sr=22050, seconds=2.0)[:n_samples]
    assert F.f0(y, config=cfg)[0].shape == (F.melspectrogram(y, config=cfg).shape[0],)


def test_f0_of_silence_is_unvoiced():
    hz, voiced = F.f0(np.zeros(8000, np.float32))
    assert not voiced.any() and not hz.any()


# --------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("hop", [-256, 0])
def test_non_positive_hop(hop):
    with pytest.raises(ParameterError, match=rf"hop_length={hop} must be a positive integer"):
        AudioConfig(hop_length=hop)


def test_n_mels_too_large_for_n_fft():
    with pytest.raises(ParameterError, match=r"n_mels=80 is too large for n_fft=64: at most .* 33"):
        AudioConfig(n_fft=64, win_length=64)


def test_nan_audio():
    y = np.ones(1000, np.float32)
    y[10] = np.nan
    with pytest.raises(AudioError, match=r"1 NaN or infinite sample\(s\) out of 1000"):
        F.melspectrogram(y)


def test_empty_audio():
    with pytest.raises(AudioError, match=r"shape \(0,\): zero-length audio"):
        F.stft(np.zeros(0, np.float32))


def test_scalar_audio():
    with pytest.raises(ParameterError, match=r"scalar .*expected an array \[\.\.\., samples\]"):
        F.mfcc(np.float32(0.5))


def test_f0_needs_one_dimensional_audio():
    with pytest.raises(ParameterError, match=r"shape \(2, 1600\) \(rank 2\); expected rank 1"):
        F.f0(np.zeros((2, 1600), np.float32))


def test_integer_pcm_is_refused():
    with pytest.raises(ParameterError, match="dtype int16; audio must be floating point"):
        F.energy(np.zeros(1600, np.int16))


def test_config_must_be_an_audio_config():
    with pytest.raises(ParameterError, match=r"config=\{'sr': 16000\} must be a voicelab"):
        F.stft(np.zeros(1600, np.float32), config={"sr": 16000})


def test_bad_feature_arguments():
    y = np.zeros(1600, np.float32)
    with pytest.raises(ParameterError, match=r"n_mfcc=81 must be an integer in \[1, n_mels=80\]"):
        F.mfcc(y, n_mfcc=81)
    with pytest.raises(ParameterError, match="power=0 must be a positive number"):
        F.magnitude(y, power=0)
    with pytest.raises(ParameterError, match="floor=0 must be a positive number"):
        F.log_mel(np.ones((2, 80)), floor=0)
    with pytest.raises(ParameterError, match=r"mel has dtype float64 and shape \(80,\)"):
        F.log_mel(np.ones(80))


def test_bad_f0_arguments():
    y = vowel(200.0, seconds=0.1)
    with pytest.raises(ParameterError, match="fmin=500, fmax=60"):
        F.f0(y, fmin=500, fmax=60)
    with pytest.raises(ParameterError, match="method='crepe' is not one of dio, harvest, pyin"):
        F.f0(y, method="crepe")
