"""The augmentation audit (voicelab.evaluation.audit) and its figures (voicelab.ui.audit_plots)."""

from __future__ import annotations

import copy

import matplotlib
import numpy as np
import pytest

from voicelab.data.augment import AugmentationSpec, BabbleBank, sample_augmentation
from voicelab.errors import ParameterError
from voicelab.evaluation.audit import audit, cramers_v

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SPEC = AugmentationSpec()
N = 1500
SR_LEN = 16000
INTENTS = ["call", "set_timer", "weather", "play_music", "lights_on", "lights_off"]
SLOTS = ["none", "anna", "bob", "five minutes", "ten minutes", "paris", "london", "tomorrow", "jazz", "kitchen"]
VOICES = {"slt": "flite", "awb": "flite", "rms": "flite", "en-us+f3": "espeak", "slt_vtl0.9": "derived"}


def synthetic_records(spec: AugmentationSpec, *, seed: int = 2, n: int = N) -> list[dict]:
    """Clips whose labels are drawn independently of everything, augmented by ``spec`` (no audio)."""
    rng = np.random.default_rng(seed)
    bank = BabbleBank([(f"b{i:03d}", np.zeros(SR_LEN * (2 + i % 3), np.float32)) for i in range(400)])
    records = []
    for i in range(n):
        voice = str(rng.choice(list(VOICES)))
        labels = {"intent": str(rng.choice(INTENTS)), "slot_value": str(rng.choice(SLOTS)), "voice": voice,
                  "engine": VOICES[voice], "emotion": str(rng.choice(["neutral", "happy", "sad"]))}
        params = sample_augmentation(f"c{i:05d}", seed=seed, spec=spec, labels=labels, bank=bank, length=SR_LEN)
        records.append({**labels, **params})
    return records


@pytest.fixture(scope="module")
def fair():
    return synthetic_records(SPEC)


@pytest.fixture(scope="module")
def fair_report(fair):
    return audit(fair, SPEC)


def test_independent_labels_pass_the_audit(fair_report):
    report = fair_report
    assert report.passed, report.summary()
    assert report.failures == []
    assert set(report.ks) == {"snr_db", "rt60"} and all(ks["p"] > 0.001 for ks in report.ks.values())
    v, rows, cols = report.v_matrix()
    assert v.shape == (len(rows), len(cols)) and "noise" in rows and cols[0] == "intent"
    assert report.classifier["intent"]["accuracy"] < report.classifier["intent"]["majority"] + 0.01
    assert "PASSED" in report.summary()


def test_noise_tied_to_intent_fails_and_the_failures_say_so():
    skewed = SPEC.skewed()
    report = audit(synthetic_records(skewed), skewed, classify=("intent",))
    assert not report.passed
    assert any("noise" in f and "intent" in f for f in report.failures), report.failures
    assert any(f.startswith("augmentation predicts intent") for f in report.failures), report.failures
    assert report.cramers_v["noise"]["intent"] > 0.5
    assert "FAIL" in report.summary()


def test_a_reused_noise_segment_is_caught(fair):
    records = copy.deepcopy(fair[:300])
    noisy = [r for r in records if r["noise"] not in ("none", "babble")]
    noisy[1]["noise_segment"] = noisy[0]["noise_segment"]
    report = audit(records, SPEC, labels=("intent",), classify=(), bound=0.2)
    assert not report.passed
    assert report.reuse == {noisy[0]["noise_segment"]: 2}
    assert any("used by several clips" in f for f in report.failures)
    assert audit(records, SPEC, labels=("intent",), classify=(), bound=0.2, allow_reuse=True).passed
    babbly = [r for r in records if r["noise"] == "babble"]
    babbly[1]["babble"] = babbly[1]["babble"] + [babbly[0]["babble"][0]]
    noisy[1]["noise_segment"] = "color:unique"
    pair = babbly[0]["babble"][0]
    report = audit(records, SPEC, labels=("intent",), classify=(), bound=0.2)
    assert report.passed and report.reuse == {} and report.babble_reuse == {f"{pair[0]}@{pair[1]}": 2}
    babbly[1]["noise_segment"] = babbly[0]["noise_segment"]  # the same babble mixture twice
    assert not audit(records, SPEC, labels=("intent",), classify=(), bound=0.2).passed


def test_draws_outside_the_declaration_fail(fair):
    records = [dict(r, snr_db=r["snr_db"] / 2) if r["snr_db"] is not None else r for r in fair]
    report = audit(records, SPEC, labels=("intent",), classify=())
    assert any(f.startswith("KS snr_db") for f in report.failures), report.failures
    report = audit(fair, SPEC.held_out(), labels=("intent",), classify=())
    assert any("not declared" in f for f in report.failures), report.failures


def test_cramers_v_is_zero_for_independent_and_one_for_identical_samples():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 3000), rng.integers(0, 5, 3000)
    assert cramers_v(a, b) < 0.03
    assert cramers_v(a, a) == pytest.approx(1.0)


def test_bad_audit_arguments_raise_parameter_error(fair):
    with pytest.raises(ParameterError, match="at least one record"):
        audit([], SPEC)
    with pytest.raises(ParameterError, match="'speaker'"):
        audit(fair[:50], SPEC, labels=("speaker",))


def test_figures_show_declared_vs_drawn_and_the_association(fair, fair_report):
    from voicelab.ui.audit_plots import plot_association, plot_declared_vs_drawn

    fig = plot_declared_vs_drawn(fair, SPEC)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["snr_db", "rt60"]
    assert "KS p =" in fig.axes[0].get_title()
    plt.close(fig)
    fig = plot_association(fair_report)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == fair_report.v_matrix()[0].shape
    assert "passed" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ParameterError, match="params"):
        plot_declared_vs_drawn(fair, SPEC, params=("volume",))
