"""Emotional styles: the values are valid, and the audio changes the way each style claims."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from voicelab.data.emotion import (
    EMOTIONS,
    STYLES,
    EmotionStyle,
    analyze,
    apply_style,
    synthesize_world,
)
from voicelab.dsp.features import f0
from voicelab.errors import AudioError, ParameterError

SR = 16000


def _mean_f0(y: np.ndarray) -> float:
    hz, voiced = f0(y, fmin=50.0)
    return float(np.exp(np.mean(np.log(hz[voiced]))))


def _rms_db(y: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(y, dtype=np.float64))))


@pytest.fixture(scope="module")
def hum() -> np.ndarray:
    """One second of a 150 Hz harmonic tone with a gentle vibrato: voiced everywhere."""
    t = np.arange(SR) / SR
    phase = 2 * np.pi * np.cumsum(150 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / SR
    return (0.1 * sum(np.sin(k * phase) / k for k in range(1, 8))).astype(np.float32)


def test_builtin_styles_and_their_directions():
    assert EMOTIONS == ("neutral", "happy", "sad", "angry")
    neutral, happy, sad, angry = (STYLES[e] for e in EMOTIONS)
    assert neutral.is_identity and not happy.is_identity
    assert happy.f0_scale > 1 > sad.f0_scale and happy.f0_range > 1 > sad.f0_range
    assert happy.rate > 1 > sad.rate and angry.rate > 1
    assert angry.energy_db > happy.energy_db > 0 > sad.energy_db
    assert angry.f0_range >= happy.f0_range and angry.tilt_db > 0 > sad.tilt_db


@pytest.mark.parametrize(
    "kwargs, match",
    [({"rate": 0.0}, "rate=0.0"), ({"f0_scale": -1.0}, "f0_scale=-1.0"), ({"breathiness": 1.5}, "breathiness=1.5"),
     ({"name": "very sad"}, "name='very sad'")],
)
def test_bad_style_values_are_refused(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        EmotionStyle(**{"name": "x", **kwargs})


def test_apply_style_rate_level_and_pitch(hum):
    style = EmotionStyle("test", f0_scale=1.5, rate=0.8, energy_db=-6.0)
    out = apply_style(hum, sr=SR, style=style)
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    assert len(out) / len(hum) == pytest.approx(1 / 0.8, rel=0.03)
    assert _rms_db(out) - _rms_db(hum) == pytest.approx(-6.0, abs=0.5)
    assert _mean_f0(out) / _mean_f0(hum) == pytest.approx(1.5, rel=0.05)


def test_f0_range_scales_the_deviation_from_the_mean(hum):
    def log_f0_sd(y):
        f0 = analyze(y, sr=SR).f0
        return float(np.std(np.log(f0[f0 > 0])))

    wide = apply_style(hum, sr=SR, style=EmotionStyle("wide", f0_range=2.0))
    flat = apply_style(hum, sr=SR, style=EmotionStyle("flat", f0_range=0.5))
    assert log_f0_sd(wide) > 1.5 * log_f0_sd(hum) > 1.5 * log_f0_sd(flat)


def test_one_analysis_serves_every_style(hum):
    analysis = analyze(hum, sr=SR)
    for name in EMOTIONS:
        shared = apply_style(hum, sr=SR, style=STYLES[name], analysis=analysis)
        np.testing.assert_array_equal(shared, apply_style(hum, sr=SR, style=STYLES[name]))


def test_loud_styles_are_limited_not_clipped(hum):
    out = apply_style(4 * hum, sr=SR, style=EmotionStyle("loud", energy_db=12.0))
    assert np.max(np.abs(out)) <= 0.99


def test_bad_audio_is_refused(hum):
    with pytest.raises(AudioError, match="silent"):
        apply_style(np.zeros(SR, np.float32), sr=SR, style=STYLES["happy"])
    with pytest.raises(AudioError, match="NaN"):
        analyze(np.full(SR, np.nan, np.float32), sr=SR)
    with pytest.raises(ParameterError, match="f0_method='yin'"):
        analyze(hum, sr=SR, f0_method="yin")
    with pytest.raises(ParameterError, match="sr=8000"):
        apply_style(hum, sr=8000, style=STYLES["sad"], analysis=analyze(hum, sr=SR))


def test_world_resynthesis_keeps_length(hum):
    out = synthesize_world(analyze(hum, sr=SR))
    assert abs(len(out) - len(hum)) <= 0.011 * SR  # one 10 ms frame


# ------------------------------------------------------------------ on the smoke corpus


def _by_emotion(manifest, speaker):
    """{emotion: {sentence_id: utterance}} for one speaker."""
    table: dict[str, dict] = {}
    for utt in manifest.filter(speaker=speaker):
        table.setdefault(utt.emotion, {})[utt.sentence_id] = utt
    return table


def _read(manifest, utt) -> np.ndarray:
    y, sr = sf.read(manifest.audio_path(utt), dtype="float32")
    assert sr == SR
    return y


def test_corpus_emotions_do_what_they_claim(smoke_corpus):
    """Measured on the files: happy F0 > neutral > sad; sad slower; angry louder."""
    for speaker in smoke_corpus.speakers:
        table = _by_emotion(smoke_corpus, speaker)
        ids = sorted(set.intersection(*(set(t) for t in table.values())))[:6]
        assert len(ids) >= 4, f"{speaker}: too few complete sentences"
        f0 = {e: np.mean([_mean_f0(_read(smoke_corpus, table[e][i])) for i in ids]) for e in EMOTIONS}
        assert f0["happy"] > 1.1 * f0["neutral"] > 1.1 * f0["sad"], f"{speaker}: {f0}"
        for i in ids:
            neutral, sad, happy = table["neutral"][i], table["sad"][i], table["happy"][i]
            assert sad.duration > 1.1 * neutral.duration > 1.1 * happy.duration
            loud = {e: _rms_db(_read(smoke_corpus, table[e][i])) for e in ("neutral", "angry", "sad")}
            assert loud["angry"] > loud["neutral"] + 3 > loud["sad"] + 3 + 2, f"{speaker} {i}: {loud}"
