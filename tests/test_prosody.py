"""SpeechSplit's signal manipulations: random resampling, f0 normalisation and quantisation."""

from __future__ import annotations

import numpy as np
import pytest

from voicelab.dsp.prosody import (
    N_PITCH_BINS,
    log_f0_stats,
    normalize_log_f0,
    quantize_f0,
    random_resample,
    stretch_to,
)
from voicelab.errors import ParameterError


def test_resampling_at_factor_one_is_the_identity(rng):
    mel = rng.standard_normal((100, 80)).astype("float32")
    f0 = rng.uniform(80, 300, 100)
    out_mel, out_f0 = random_resample(mel, f0, rng=rng, min_factor=1.0, max_factor=1.0)
    np.testing.assert_allclose(out_mel, mel, atol=1e-6)
    np.testing.assert_allclose(out_f0, f0)
    assert out_mel.dtype == np.float32


@pytest.mark.parametrize("factor, expected", [(0.5, 50), (1.5, 150)])
def test_resampling_scales_the_length_by_the_factor(rng, factor, expected):
    x = np.arange(100, dtype=float)
    (y,) = random_resample(x, rng=rng, min_segment=20, max_segment=20, min_factor=factor, max_factor=factor)
    assert len(y) == expected
    assert np.all(np.diff(y) >= 0) and y[0] == 0 and y[-1] == 99      # a ramp stays a ramp, ends kept


def test_resampling_keeps_arrays_aligned_and_varies_the_timing(rng):
    x = np.arange(300, dtype=float)
    a, b = random_resample(x, 2 * x, rng=rng)
    np.testing.assert_allclose(b, 2 * a)                                  # same segments, same factors
    lengths = {len(random_resample(x, rng=rng)[0]) for _ in range(10)}
    assert len(lengths) > 1 and all(150 <= n <= 450 for n in lengths)
    with pytest.raises(ParameterError):
        random_resample(x, x[:10], rng=rng)
    with pytest.raises(ParameterError):
        random_resample(x, rng=rng, min_factor=0.0)


def test_normalised_log_f0_removes_the_speakers_level_and_range():
    contour = np.array([0, 100, 120, 150, 0, 130, 110], float)
    low, high = normalize_log_f0(contour), normalize_log_f0(2.0 * contour)    # an octave up
    np.testing.assert_allclose(low, high, equal_nan=True)
    voiced = ~np.isnan(low)
    assert voiced.tolist() == (contour > 0).tolist()
    assert abs(low[voiced].mean()) < 1e-9 and abs(low[voiced].std() - 1) < 1e-9
    assert np.isnan(normalize_log_f0(np.zeros(5))).all()
    assert normalize_log_f0(np.array([0.0, 120.0])).tolist()[1] == 0.0        # one voiced frame
    with pytest.raises(ParameterError):
        normalize_log_f0(np.array([-1.0, 100.0]))


def test_quantised_f0_has_an_unvoiced_class_and_257_classes_in_range(rng):
    z = np.concatenate([[np.nan] * 5, rng.normal(0, 1.5, 1000)])
    classes = quantize_f0(z)
    assert classes[:5].tolist() == [0] * 5 and classes[5:].min() >= 1 and classes.max() <= N_PITCH_BINS
    assert quantize_f0(np.array([-100.0, 100.0])).tolist() == [1, N_PITCH_BINS]
    assert np.all(np.diff(quantize_f0(np.linspace(-2, 2, 50))) >= 0)      # monotonic
    assert len(np.unique(quantize_f0(np.linspace(-2, 1.999, 10_000)))) == N_PITCH_BINS


def test_speaker_normalisation_keeps_an_utterances_level_relative_to_its_speaker():
    neutral = np.array([0.0, 100.0, 120.0, 110.0, 0.0])
    mean, std = log_f0_stats(neutral)
    higher = normalize_log_f0(1.5 * neutral, mean=mean, std=std)
    own = normalize_log_f0(1.5 * neutral)
    assert np.nanmean(higher) > 1.0        # an emotion's higher pitch is kept ...
    assert abs(np.nanmean(own)) < 1e-9     # ... per-utterance normalisation removes it
    with pytest.raises(ParameterError):
        normalize_log_f0(neutral, mean=mean)
    with pytest.raises(ParameterError):
        log_f0_stats(np.zeros(4))


def test_stretch_to_keeps_the_ends_and_the_classes():
    x = np.linspace(0.0, 1.0, 7)
    assert stretch_to(x, 7).tolist() == x.tolist()
    long = stretch_to(x, 13)
    assert long[0] == 0.0 and long[-1] == 1.0 and np.all(np.diff(long) > 0)
    classes = stretch_to(np.array([0, 5, 5, 9]), 10)
    assert classes.dtype.kind == "i" and set(classes.tolist()) == {0, 5, 9}
    f0 = stretch_to(np.array([np.nan, 1.0, 2.0]), 5)
    assert np.isnan(f0[:2]).all() and f0[-1] == 2.0       # an unvoiced neighbour stays unvoiced
    with pytest.raises(ParameterError):
        stretch_to(x, 0)
