"""benchmarks/full_profile_timing.py: the step timer and the projection to the full corpus."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "full_profile_timing.py"
spec = importlib.util.spec_from_file_location("full_profile_timing", PATH)
timing = importlib.util.module_from_spec(spec)
spec.loader.exec_module(timing)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run_stage(timer, clock, epochs: list[list[float]], *, before: float, after: float, validation: float = 0.0) -> None:
    """Drive ``timer`` as ``fit`` would: each epoch's steps take the given seconds, with
    ``before`` seconds before the first step, then ``validation`` seconds of validation
    and ``after`` more after the last."""
    timer.on_train_begin()
    for epoch, steps in enumerate(epochs):
        timer.on_epoch_begin(epoch)
        clock.now += before
        for batch, seconds in enumerate(steps):
            timer.on_train_batch_begin(batch)
            clock.now += seconds
            timer.on_train_batch_end(batch)
        timer.on_test_begin()
        clock.now += validation
        timer.on_test_end()
        clock.now += after
        timer.on_epoch_end(epoch)


def test_the_step_timer_leaves_out_each_stage_first_epoch_and_the_time_between_epochs(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timing.time, "perf_counter", clock)
    timer = timing.StepTimer()
    # stage 0: a slow first epoch (tracing), then 0.1 s steps; 0.7 s validation and 0.5 s more every epoch
    run_stage(timer, clock, [[5.0, 2.0], [0.1, 0.1], [0.1, 0.1]], before=0.2, after=0.3, validation=0.7)
    # stage 1 (a second fit, e.g. MelGAN's GAN phase): one epoch, its first step slow
    run_stage(timer, clock, [[3.0, 0.4, 0.4, 0.4]], before=0.0, after=1.0)
    stages = timer.per_stage()
    assert stages[0]["step"] == pytest.approx(0.1) and stages[0]["timed"] == 4
    assert stages[0]["validation"] == pytest.approx(0.7) and stages[0]["rest"] == pytest.approx(0.5)
    assert stages[1]["step"] == pytest.approx(0.4) and stages[1]["timed"] == 3
    assert stages[1]["validation"] == 0.0 and stages[1]["rest"] == pytest.approx(1.0)


def test_a_stage_without_warm_steps_is_an_error(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timing.time, "perf_counter", clock)
    timer = timing.StepTimer()
    run_stage(timer, clock, [[1.0]], before=0.0, after=0.0)
    with pytest.raises(RuntimeError, match="no warm steps"):
        timer.per_stage()


def test_projection_adds_steps_scaled_validation_and_the_rest_and_totals_count_trainings_only():
    stage = {"step": 0.05, "validation": 0.4, "rest": 0.25, "timed": 10}
    row = timing._row("02", "TTS", None, stage, batch=64, full_steps=1200, full_epochs=20, valid_scale=3.0)
    assert row["projected_min"] == pytest.approx((1200 * 0.05 + 20 * (0.4 * 3.0 + 0.25)) / 60, abs=0.01)
    extra = timing._row("02", "embeddings", None, stage, batch=1, full_steps=6000, training=False)
    summary = timing.totals([row, extra, timing._row("03", "vocoder", None, stage, batch=64, full_steps=19200)])
    assert summary[0] == {"notebook": "02", "projected_min": round(row["projected_min"], 1), "budget_min": 8.0,
                          "scale_to_fit": 1.0}
    assert summary[1]["projected_min"] == 16.0 and summary[1]["scale_to_fit"] == 0.5


def test_the_full_corpus_sizes_are_the_kits():
    from voicelab.data.corpus import _sizes, _splits
    from voicelab.recipes import speechsplit

    speakers, sentences = _sizes("full")
    splits = _splits(sentences, 0)
    assert timing.FULL_CORPUS == {"speakers": len(speakers), "train": splits.count("train"),
                                  "valid": splits.count("valid")}
    r = speechsplit.recipe("full")
    splits = _splits(r.n_sentences, 0)
    assert timing.FULL_EMOTIONAL == {"speakers": len(speakers) + r.derived_speakers, "train": splits.count("train"),
                                     "valid": splits.count("valid")}
