"""Augmentation (voicelab.data.augment): seeded, recorded, reproducible, as declared."""

from __future__ import annotations

import json
import random

import numpy as np
import pyroomacoustics as pra
import pytest

from voicelab.data.augment import (
    PEAK, AugmentationSpec, BabbleBank, apply_augmentation, room_impulse_response, sample_augmentation,
)
from voicelab.errors import AudioError, ParameterError

SR = 16000
EVERYTHING = AugmentationSpec(p_noise=1.0, p_room=1.0, p_gain=1.0, p_band=1.0)
NOISE_ONLY = dict(p_noise=1.0, p_room=0.0, p_gain=0.0, p_band=0.0)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Two seconds of flite speech (a sine when flite is missing), peak 0.5."""
    try:
        from voicelab.data.speakers import speak

        y = speak("slt", "call anna and then set a timer for twenty minutes")
    except AudioError:
        t = np.arange(2 * SR) / SR
        y = np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    y = np.resize(y, 2 * SR)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


@pytest.fixture(scope="module")
def bank(speech) -> BabbleBank:
    return BabbleBank([(f"b{i:02d}", np.roll(speech, 1234 * i)) for i in range(12)])


def test_same_seed_and_id_give_same_params_and_bit_identical_audio(speech, bank):
    for kind in ("white", "pink", "babble"):
        spec = AugmentationSpec(p_noise=1.0, p_room=1.0, p_gain=1.0, p_band=1.0, noise_kinds={kind: 1.0})
        a = sample_augmentation("c000123", seed=3, spec=spec, bank=bank, length=speech.size)
        b = json.loads(json.dumps(sample_augmentation("c000123", seed=3, spec=spec, bank=bank, length=speech.size)))
        assert a == b and a["noise"] == kind and a["room"] and a["gain_db"] is not None
        out_a = apply_augmentation(speech, a, sr=SR, babble=bank)
        out_b = apply_augmentation(speech, b, sr=SR, babble=bank)
        assert out_a.dtype == np.float32 and out_a.shape == speech.shape
        assert out_a.tobytes() == out_b.tobytes()
        assert not np.allclose(out_a, speech)
    other = sample_augmentation("c000124", seed=3, spec=EVERYTHING)
    again = sample_augmentation("c000123", seed=4, spec=EVERYTHING)
    first = sample_augmentation("c000123", seed=3, spec=EVERYTHING)
    for p in (other, again):
        assert p["noise_seed"] != first["noise_seed"] and p["rt60"] != first["rt60"]
        assert p["noise_segment"] != first["noise_segment"]


def test_apply_leaves_the_global_random_state_untouched(speech):
    params = sample_augmentation("c1", seed=0, spec=AugmentationSpec(noise_kinds={"pink": 1.0}, **NOISE_ONLY))
    random.seed(99)
    np.random.seed(99)
    expected = [random.random() for _ in range(3)], np.random.random(3)
    random.seed(99)
    np.random.seed(99)
    for kind in ("white", "pink"):
        apply_augmentation(speech, dict(params, noise=kind), sr=SR)
    assert [random.random() for _ in range(3)] == expected[0]
    assert np.array_equal(np.random.random(3), expected[1])


@pytest.mark.parametrize("kind", ["white", "pink", "babble", "brown"])
def test_measured_snr_matches_the_declared_one(speech, bank, kind):
    spec = AugmentationSpec(noise_kinds={kind: 1.0}, **NOISE_ONLY)
    for clip in ("c1", "c2", "c3"):
        params = sample_augmentation(clip, seed=0, spec=spec, bank=bank, length=speech.size)
        out, info = apply_augmentation(speech, params, sr=SR, babble=bank, return_info=True)
        assert info["peak_scale"] == 1.0
        noise = out.astype(np.float64) - speech
        measured = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise**2))
        assert measured == pytest.approx(params["snr_db"], abs=1.0), (kind, params["snr_db"], measured)


def test_room_decays_by_its_declared_rt60():
    spec = AugmentationSpec(p_room=1.0)
    for clip in ("c1", "c2"):
        for s in (spec, spec.held_out()):
            params = sample_augmentation(clip, seed=0, spec=s)
            rir = room_impulse_response(params, sr=SR)
            assert pra.experimental.measure_rt60(rir, fs=SR) == pytest.approx(params["rt60"], rel=0.2)


def test_output_is_peak_safe_and_the_scaling_recorded(speech):
    params = dict(sample_augmentation("c1", seed=0, spec=AugmentationSpec(**NOISE_ONLY)), gain_db=18.0)
    out, info = apply_augmentation(speech, params, sr=SR, return_info=True)
    assert np.max(np.abs(out)) <= PEAK + 1e-6
    assert 0 < info["peak_scale"] < 1


def test_held_out_spec_shares_no_noise_kind_or_rt60_with_training():
    train = AugmentationSpec()
    test = train.held_out()
    assert test.name == "test_noise"
    assert not set(train.shares()) & set(test.shares())
    assert test.rt60[0] > train.rt60[1]
    assert test.room_length[0] > train.room_length[1] and test.room_width[0] > train.room_width[1]
    drawn = [sample_augmentation(f"c{i}", seed=0, spec=test) for i in range(200)]
    assert {p["noise"] for p in drawn} == {"brown", "blue"}
    assert min(p["rt60"] for p in drawn) > train.rt60[1]


def test_babble_segments_come_from_other_distinct_clips(bank, speech):
    spec = AugmentationSpec(noise_kinds={"babble": 1.0}, babble_talkers=(4, 4), **NOISE_ONLY)
    params = sample_augmentation("b03", seed=0, spec=spec, bank=bank, length=speech.size)
    clips = [c for c, _ in params["babble"]]
    assert len(set(clips)) == 4 and "b03" not in clips
    with pytest.raises(ParameterError, match="babble"):
        apply_augmentation(speech, params, sr=SR)


def test_skewed_spec_ties_noise_to_intent():
    skewed = AugmentationSpec(p_noise=1.0).skewed()
    kinds = {sample_augmentation(f"c{i}", seed=0, spec=skewed, labels={"intent": "weather"})["noise"]
             for i in range(30)}
    assert len(kinds) == 1
    with pytest.raises(ParameterError, match="intent"):
        sample_augmentation("c1", seed=0, spec=skewed)


@pytest.mark.parametrize("change, match", [
    (dict(snr_db=(20, 0)), r"snr_db=\(20, 0\) is reversed"),
    (dict(noise_kinds={"white": 0.0, "pink": 0.0}), "not all zero"),
    (dict(noise_kinds={"purple": 1.0}), "purple"),
    (dict(p_noise=1.5), "p_noise=1.5"),
    (dict(p_room=-0.1), "p_room=-0.1"),
    (dict(rt60=(0.0, 0.5)), "rt60"),
    (dict(band_low=(100, 5000)), "band_low"),
    (dict(skew="voice"), "skew='voice'"),
])
def test_bad_spec_values_raise_parameter_error(change, match):
    with pytest.raises(ParameterError, match=match):
        AugmentationSpec(**change)


def test_bad_audio_raises_parameter_error():
    params = sample_augmentation("c1", seed=0, spec=AugmentationSpec())
    with pytest.raises(ParameterError, match="shape"):
        apply_augmentation(np.zeros((2, 100), np.float32), params, sr=SR)
