"""voicelab.vocoding: profile sizes, train-or-load, the vocoder metric table."""

from __future__ import annotations

import numpy as np
import pytest

from voicelab import ParameterError, vocoding
from voicelab.data.manifest import Manifest
from voicelab.features import AudioConfig
from voicelab.models import melgan


def test_profile_sizes_grow_and_keep_the_hop():
    sizes = [vocoding.melgan_config(p).generator_channels for p in ("smoke", "quick", "full")]
    assert sizes == sorted(sizes) and sizes[-1] == 512
    assert np.prod(vocoding.melgan_config("quick").factors) == AudioConfig().hop_length
    with pytest.raises(ParameterError, match="profile='huge'"):
        vocoding.melgan_config("huge")


def test_metric_table_averages_per_group():
    rows = [{"system": s, "speaker": k, "pesq_wb": v, "stoi": v / 4, "mcd": 10 - v, "sc": v / 10}
            for s, k, v in [("a", "x", 2.0), ("a", "y", 4.0), ("b", "x", 1.0)]]
    table = vocoding.metric_table(rows)
    assert [(r["system"], r["n"], r["pesq_wb"]) for r in table] == [("a", 2, 3.0), ("b", 1, 1.0)]
    assert len(vocoding.metric_table(rows, by=("speaker", "system"))) == 3
    assert vocoding.format_table(table).splitlines()[0].split() == ["system", "n", *vocoding.METRICS]


def test_ground_truth_scores_perfectly_and_noise_does_not(smoke_corpus, rng):
    utts = Manifest(list(smoke_corpus.filter(split="test", emotion="neutral"))[:1], smoke_corpus.root)
    noise = lambda mel: 0.05 * rng.standard_normal(len(mel) * 256).astype(np.float32)  # noqa: E731
    rows = vocoding.evaluate_vocoders(utts, {"ground truth": None, "noise": noise})
    truth, bad = rows
    assert truth["sc"] == pytest.approx(0.0, abs=1e-6) and truth["stoi"] > 0.99 and truth["pesq_wb"] > 4.0
    assert bad["sc"] > 0.5 and bad["pesq_wb"] < truth["pesq_wb"] and bad["mcd"] > truth["mcd"]


def test_training_plan_checks_its_steps():
    with pytest.raises(ParameterError, match="warmup_steps=5 must be in"):
        vocoding.TrainingPlan(steps=5, batch_size=2, segment_frames=16, warmup_steps=5)
    with pytest.raises(ParameterError, match="must be >= 1"):
        vocoding.TrainingPlan(steps=5, batch_size=0, segment_frames=16)
    for profile in ("smoke", "quick", "full"):
        assert vocoding.ablation_plan(profile).warmup_steps == 0
        assert vocoding.ablation_plan(profile).batch_size == vocoding.training_plan(profile).batch_size


def test_train_or_load_trains_saves_then_loads(smoke_corpus, tmp_path):
    train = Manifest(list(smoke_corpus.filter(split="train", emotion="neutral"))[:4], smoke_corpus.root)
    config = vocoding.melgan_config("smoke")
    plan = vocoding.TrainingPlan(steps=4, batch_size=2, segment_frames=16, warmup_steps=2, steps_per_epoch=2)
    generator, history = vocoding.train_or_load(train, name="m", models_dir=tmp_path, config=config,
                                                plan=plan, run_eagerly=True, jit_compile=False, verbose=0)
    assert (tmp_path / "m.keras").is_file() and (tmp_path / "m-ckpt" / "state.json").is_file()
    assert all(np.isfinite(v) for _, v in history["g_loss"]) and history["blow_ups"] == []
    # two epochs of warm-up (no discriminator loss), then two of GAN training
    d_loss = [v for _, v in history["d_loss"]]
    assert d_loss[0] == 0.0 and d_loss[-1] > 0.0
    mel = np.full((8, config.audio.n_mels), -5.0, np.float32)
    reloaded, again = vocoding.train_or_load(train, name="m", models_dir=tmp_path, config=config, plan=plan)
    np.testing.assert_allclose(melgan.vocode(reloaded, mel), melgan.vocode(generator, mel), atol=1e-5)
    assert again["g_loss"] == [list(p) for p in history["g_loss"]]
