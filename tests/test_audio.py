"""voicelab.dsp.audio: files of every rate, width and channel count, and the bad ones."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from voicelab import AudioError, ParameterError
from voicelab.dsp import audio


def tone(freq: float, sr: int, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(y: np.ndarray, sr: int) -> float:
    """Frequency of the largest FFT bin (1 Hz resolution for 1 s of audio)."""
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spec)])


# ------------------------------------------------------------------ load: formats


def test_load_returns_float32_mono_at_16k_by_default(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(440, 16000), 16000, subtype="PCM_16")
    y = audio.load(path)
    assert y.dtype == np.float32 and y.shape == (16000,)
    np.testing.assert_allclose(y, tone(440, 16000), atol=1 / 32768)


def test_8k_file_is_resampled_to_16k_keeping_length_and_pitch(tmp_path):
    path = tmp_path / "8k.wav"
    sf.write(path, tone(440, 8000), 8000, subtype="PCM_16")
    y = audio.load(path, sr=16000)
    assert y.shape == (16000,)                       # 1 s stays 1 s
    assert peak_hz(y, 16000) == pytest.approx(440, abs=1)
    assert np.max(np.abs(y[100:-100])) == pytest.approx(0.5, abs=0.01)


def test_sr_none_keeps_the_native_rate(tmp_path):
    path = tmp_path / "44k.wav"
    sf.write(path, tone(1000, 44100, 0.5), 44100)
    y, sr = audio.load_with_rate(path)
    assert sr == 44100 and y.shape == (22050,)
    assert audio.load(path, sr=None).shape == (22050,)


def test_stereo_is_mixed_down_to_the_channel_mean(tmp_path):
    left, right = tone(440, 16000), tone(660, 16000, amp=0.25)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    y = audio.load(path)
    assert y.shape == (16000,)
    np.testing.assert_allclose(y, (left + right) / 2, atol=1e-7)
    both = audio.load(path, mono=False)
    assert both.shape == (16000, 2)
    np.testing.assert_allclose(both[:, 1], right, atol=1e-7)


def test_stereo_is_resampled_per_channel(tmp_path):
    path = tmp_path / "stereo8k.wav"
    sf.write(path, np.stack([tone(440, 8000), tone(880, 8000)], axis=1), 8000)
    y = audio.load(path, sr=16000, mono=False)
    assert y.shape == (16000, 2)
    assert peak_hz(y[:, 1], 16000) == pytest.approx(880, abs=1)


@pytest.mark.parametrize(
    ("subtype", "atol"),
    [("PCM_U8", 1 / 128), ("PCM_16", 1 / 32768), ("PCM_24", 2**-23), ("PCM_32", 2**-31),
     ("FLOAT", 0), ("DOUBLE", 1e-7)],
)
def test_every_wav_bit_depth_reads_to_the_same_values(tmp_path, subtype, atol):
    y = tone(440, 16000, amp=0.9)
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, y, 16000, subtype=subtype)
    assert sf.info(path).subtype == subtype
    np.testing.assert_allclose(audio.load(path), y, atol=atol + 1e-7)


def test_24_bit_file_keeps_detail_below_16_bits(tmp_path):
    # A ramp in steps of 2**-20: a 16-bit reader would round it to a staircase.
    y = (np.arange(4096) * 2.0**-20).astype(np.float32)
    path = tmp_path / "ramp24.wav"
    sf.write(path, y, 16000, subtype="PCM_24")
    np.testing.assert_array_equal(audio.load(path), y)


@pytest.mark.parametrize(("ext", "atol"), [("flac", 1 / 32768), ("ogg", None)])
def test_flac_and_ogg_are_read(tmp_path, ext, atol):
    path = audio.save(tmp_path / f"a.{ext}", tone(440, 16000), sr=16000)
    y = audio.load(path)
    assert abs(len(y) - 16000) < 8
    if atol is None:                                   # lossy: check the pitch
        assert peak_hz(y, 16000) == pytest.approx(440, abs=1)
    else:
        np.testing.assert_allclose(y, tone(440, 16000), atol=atol)


def test_resample_changes_length_not_pitch():
    y = audio.resample(tone(440, 22050), orig_sr=22050, target_sr=16000)
    assert y.dtype == np.float32 and y.shape == (16000,)
    assert peak_hz(y, 16000) == pytest.approx(440, abs=1)


# -------------------------------------------------------------------------- save


def test_save_writes_16_bit_pcm_and_creates_folders(tmp_path):
    path = audio.save(tmp_path / "new" / "dir" / "out.wav", tone(440, 16000), sr=16000)
    assert path.exists()
    info = sf.info(path)
    assert (info.subtype, info.samplerate, info.frames) == ("PCM_16", 16000, 16000)
    np.testing.assert_allclose(audio.load(path), tone(440, 16000), atol=1 / 32768)


def test_save_clips_out_of_range_samples_and_says_so(tmp_path):
    y = np.array([0.0, 1.5, -2.0, 0.5], dtype=np.float32)
    with pytest.warns(UserWarning, match=r"2 sample\(s\) outside \[-1, 1\] \(peak 2.000\)"):
        path = audio.save(tmp_path / "loud.wav", y, sr=16000, subtype="FLOAT")
    np.testing.assert_array_equal(audio.load(path), [0.0, 1.0, -1.0, 0.5])


# --------------------------------------------------------------- silence and level


def test_trim_silence_removes_leading_and_trailing_silence(rng):
    sr = 16000
    speech = tone(300, sr, 0.5) + 0.01 * rng.standard_normal(sr // 2).astype(np.float32)
    y = np.concatenate([np.zeros(sr), speech, np.zeros(sr // 2)])
    trimmed = audio.trim_silence(y, sr=sr)
    assert len(speech) <= len(trimmed) <= len(speech) + 2 * 1024   # within a frame each side
    assert np.max(np.abs(trimmed)) == pytest.approx(np.max(np.abs(speech)))


def test_split_on_silence_finds_each_stretch_of_sound():
    sr = 16000
    y = np.concatenate([np.zeros(sr // 2), tone(300, sr, 0.5), np.zeros(sr), tone(500, sr, 0.25)])
    intervals = audio.split_on_silence(y, sr=sr)
    assert intervals.shape == (2, 2)
    np.testing.assert_allclose(intervals / sr, [[0.5, 1.0], [2.0, 2.25]], atol=1024 / sr)
    assert audio.split_on_silence(np.zeros(sr, np.float32), sr=sr).shape == (0, 2)


def test_loudness_matches_the_bs1770_reference_level():
    # A 1 kHz sine with RMS -23 dBFS reads -23 LUFS (0.1 dB for the 16 kHz filter design).
    assert audio.loudness(tone(1000, 16000, 2.0, amp=0.1), sr=16000) == pytest.approx(-23, abs=0.1)


def test_normalize_loudness_reaches_the_target_whatever_the_pauses():
    sr = 16000
    short_pause = np.concatenate([tone(440, sr, 1.0, amp=0.02), np.zeros(sr // 4)])
    long_pause = np.concatenate([tone(440, sr, 1.0, amp=0.3), np.zeros(2 * sr)])
    for y in (short_pause, long_pause):
        out = audio.normalize_loudness(y, sr=sr, target_lufs=-20.0)
        assert out.dtype == np.float32 and out.shape == y.shape
        assert audio.loudness(out, sr=sr) == pytest.approx(-20.0, abs=0.05)


def test_normalize_loudness_protects_peaks(rng):
    y = 0.001 * rng.standard_normal(16000).astype(np.float32)
    y[8000] = 0.5                                     # one click
    out = audio.normalize_loudness(y, sr=16000, target_lufs=-10.0, peak=0.9)
    assert np.max(np.abs(out)) == pytest.approx(0.9, rel=1e-5)
    assert audio.loudness(out, sr=16000) < -10.0      # lands below target, unclipped


# --------------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match=r"nope\.wav: no such file"):
        audio.load(tmp_path / "nope.wav")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(AudioError, match="not a regular file"):
        audio.load(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: empty file \(0 bytes\)"):
        audio.load(tmp_path / "empty.wav")


def test_text_file_named_wav(tmp_path):
    (tmp_path / "notes.wav").write_text("these are not samples\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav: cannot decode as audio"):
        audio.load(tmp_path / "notes.wav")


def test_corrupt_header(tmp_path):
    path = audio.save(tmp_path / "good.wav", tone(440, 16000), sr=16000)
    (tmp_path / "bad.wav").write_bytes(path.read_bytes()[:30])
    with pytest.raises(AudioError, match=r"bad\.wav: cannot decode as audio"):
        audio.load(tmp_path / "bad.wav")


def test_truncated_wav(tmp_path):
    data = audio.save(tmp_path / "good.wav", tone(440, 16000), sr=16000).read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=r"cut\.wav: truncated WAV file, header declares 32000 bytes"):
        audio.load(tmp_path / "cut.wav")


def test_zero_length_audio_file(tmp_path):
    sf.write(tmp_path / "none.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match=r"none\.wav: zero-length audio"):
        audio.load(tmp_path / "none.wav")


def test_nan_samples_in_a_float_wav(tmp_path):
    sf.write(tmp_path / "nan.wav", np.array([0.1, np.nan, 0.2], np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav: holds NaN or infinite samples"):
        audio.load(tmp_path / "nan.wav")


@pytest.mark.parametrize("sr", [16000.0, "16000", 0, -8000, True])
def test_bad_sample_rate(tmp_path, sr):
    with pytest.raises(ParameterError, match=rf"sr={sr!r} must be a positive integer"):
        audio.load(tmp_path / "any.wav", sr=sr)


def test_save_refuses_nan_and_unknown_extensions(tmp_path):
    with pytest.raises(AudioError, match=r"1 NaN or infinite sample\(s\) out of 3"):
        audio.save(tmp_path / "x.wav", np.array([0.0, np.inf, 0.0]), sr=16000)
    with pytest.raises(ParameterError, match=r"unknown audio extension '\.mp4'"):
        audio.save(tmp_path / "x.mp4", np.zeros(10), sr=16000)


def test_two_dimensional_array_where_mono_is_required():
    with pytest.raises(ParameterError, match=r"shape \(2, 100\) \(rank 2\); expected rank 1"):
        audio.trim_silence(np.zeros((2, 100), np.float32), sr=16000)


def test_integer_samples_are_refused_with_a_hint():
    with pytest.raises(ParameterError, match=r"dtype int16; audio must be floating point .*32768"):
        audio.check_audio(np.zeros(10, np.int16))


def test_zero_length_array():
    with pytest.raises(AudioError, match=r"shape \(0,\): zero-length audio"):
        audio.trim_silence(np.zeros(0, np.float32), sr=16000)


def test_silence_cannot_be_loudness_normalised_or_trimmed():
    silence = np.zeros(16000, np.float32)
    with pytest.raises(AudioError, match=r"silent \(all zeros\); its loudness is -inf"):
        audio.normalize_loudness(silence, sr=16000)
    with pytest.raises(AudioError, match="below the -70 LUFS gate"):
        audio.normalize_loudness(silence + 1e-6, sr=16000)
    with pytest.raises(AudioError, match=r"silent \(all zeros\)"):
        audio.trim_silence(silence, sr=16000)


def test_loudness_of_a_too_short_clip():
    with pytest.raises(AudioError, match=r"4000 samples \(0.250 s at sr=16000\).*400 ms"):
        audio.loudness(tone(440, 16000, 0.25), sr=16000)


def test_bad_loudness_arguments():
    with pytest.raises(ParameterError, match=r"target_lufs=3 must be a number in \(-100, 0\)"):
        audio.normalize_loudness(tone(440, 16000), sr=16000, target_lufs=3)
    with pytest.raises(ParameterError, match=r"peak=1.5 must be in \(0, 1\]"):
        audio.normalize_loudness(tone(440, 16000), sr=16000, peak=1.5)
    with pytest.raises(ParameterError, match="top_db=-40 must be a positive number"):
        audio.trim_silence(tone(440, 16000), sr=16000, top_db=-40)
