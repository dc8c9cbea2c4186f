"""Notebook 03's recipe: profile sizes, the training plan, train-or-load, the kit's vocoder, the metric table."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from voicelab import ParameterError
from voicelab.data.manifest import Manifest
from voicelab.dsp import features, griffin_lim
from voicelab.dsp.features import AudioConfig
from voicelab.evaluation.tables import format_table
from voicelab.evaluation.vocoders import METRICS, evaluate_vocoders, evaluate_vocoders_on_audio, metric_table
from voicelab.models.melgan import MelGAN
from voicelab.recipes import vocoder as recipe_module
from voicelab.artifacts import load_vocoder
from voicelab.recipes.vocoder import RegressionPlan, TrainingPlan, recipe
from voicelab.vocoders import neural_vocoder


def test_profile_sizes_grow_and_keep_the_hop():
    sizes = [recipe(p).model.generator_channels for p in ("smoke", "quick", "full")]
    assert sizes == sorted(sizes) and sizes[-1] == 512
    assert np.prod(recipe("quick").model.factors) == AudioConfig().hop_length
    with pytest.raises(ParameterError, match="profile='huge'"):
        recipe("huge")


def harmonic_window(config: AudioConfig, frames: int, f0: float = 125.0) -> np.ndarray:
    """A voiced-like window: 19 harmonics of ``f0`` falling as 1/k, RMS about 0.03 (speech level)."""
    t = np.arange(frames * config.hop_length) / config.sr
    return sum(0.03 / k * np.sin(2 * np.pi * f0 * k * t + k) for k in range(1, 20)).astype("float32")


@pytest.mark.backend
def test_quick_melgan_overfits_one_harmonic_window():
    """The quick configuration can learn: its warm-up fits one voiced window in 150 steps.

    Measured (TensorFlow, seed 0): spectral convergence 0.14, 0.09, 0.14, 0.08, 0.09, 0.12
    after 25 ... 150 steps with the quick warm-up's Adam(5e-4, 0.9, 0.999). With the GAN's
    Adam(1e-4, 0.5, 0.9) it falls more slowly (0.41, 0.25, 0.20 after 25, 50, 75 steps) to
    0.14; at (2e-3, 0.5, 0.9) it swings between 0.4 and 0.9. The bound leaves room for the
    other backend's numerics.
    """
    config = recipe("quick").model
    frames = 16
    y = harmonic_window(config.audio, frames)
    mel = features.log_melspectrogram(y, config=config.audio)[:frames]
    keras.utils.set_random_seed(0)
    gan = MelGAN(config)
    gan.compile(jit_compile=False)
    gan.set_phase("warmup")
    gan.fit({"mel": np.repeat(mel[None], 150, 0), "audio": np.repeat(y[None], 150, 0)}, batch_size=1, epochs=1,
            verbose=0)
    out = np.asarray(gan.generator.predict_on_batch(mel[None]))[0, :, 0]
    sc = griffin_lim.spectral_convergence_from_audio(out, features.magnitude(y, config=config.audio),
                                                     config=config.audio)
    assert sc < 0.25
    assert 0.5 < out.std() / y.std() < 2.0            # at the recording's level, not near silence


def test_unseen_voices_are_scored_like_corpus_clips():
    config = AudioConfig()
    recordings = recipe_module.unseen_recordings(config, voices=("espeak_f3", "slt_vtl0.9"),
                                                 sentences=("A short unseen sentence.",))
    assert sorted(recordings) == ["espeak_f3_0", "slt_vtl0.9_0"]
    assert all(y.dtype == np.float32 and len(y) > config.sr // 2 for _, y in recordings.values())
    rng = np.random.default_rng(0)
    noise = {"noise": lambda mel: rng.normal(0, 0.01, len(mel) * config.hop_length).astype(np.float32)}
    rows = evaluate_vocoders_on_audio(recordings, {"ground truth": None, **noise}, config=config)
    table = {r["system"]: r for r in metric_table(rows)}
    assert table["ground truth"]["pesq_wb"] > 4.0 and table["ground truth"]["stoi"] > 0.99
    assert table["noise"]["stoi"] < 0.6 and table["noise"]["pesq_wb"] < 1.5 and table["noise"]["sc"] > 0.8
    with pytest.raises(ParameterError, match="recording 'x'"):
        evaluate_vocoders_on_audio({"x": ("v", np.zeros(100, np.float32))}, noise, config=config)


def test_metric_table_averages_per_group():
    rows = [{"system": s, "speaker": k, "pesq_wb": v, "stoi": v / 4, "mcd": 10 - v, "sc": v / 10}
            for s, k, v in [("a", "x", 2.0), ("a", "y", 4.0), ("b", "x", 1.0)]]
    table = metric_table(rows)
    assert [(r["system"], r["n"], r["pesq_wb"]) for r in table] == [("a", 2, 3.0), ("b", 1, 1.0)]
    assert len(metric_table(rows, by=("speaker", "system"))) == 3
    assert format_table(table).splitlines()[0].split() == ["system", "n", *METRICS]


def test_ground_truth_scores_perfectly_and_noise_does_not(smoke_corpus, rng):
    utts = Manifest(list(smoke_corpus.filter(split="test", emotion="neutral"))[:1], smoke_corpus.root)
    noise = lambda mel: 0.05 * rng.standard_normal(len(mel) * 256).astype(np.float32)  # noqa: E731
    rows = evaluate_vocoders(utts, {"ground truth": None, "noise": noise})
    truth, bad = rows
    assert truth["sc"] == pytest.approx(0.0, abs=1e-6) and truth["stoi"] > 0.99 and truth["pesq_wb"] > 4.0
    assert bad["sc"] > 0.5 and bad["pesq_wb"] < truth["pesq_wb"] and bad["mcd"] > truth["mcd"]


def test_training_plan_checks_its_steps_and_makes_phases():
    with pytest.raises(ParameterError, match="warmup_steps=5 must be in"):
        TrainingPlan(steps=5, batch_size=2, segment_frames=16, warmup_steps=5)
    with pytest.raises(ParameterError, match="must be >= 1"):
        TrainingPlan(steps=5, batch_size=0, segment_frames=16)
    plan = TrainingPlan(steps=1700, batch_size=4, segment_frames=32, warmup_steps=1400)
    assert [(p.name, p.epochs) for p in plan.phases(100)] == [("warmup", 14), ("gan", 3)]
    for profile in ("smoke", "quick", "full"):
        r = recipe(profile)
        ablation = r.ablation("paper")
        assert ablation.plan.warmup_steps == 0 and ablation.plan.steps == r.ablation_steps
        assert ablation.plan.batch_size == r.plan.batch_size and ablation.model.ablation == "paper"


def test_melgan_trains_in_two_phases_saves_then_loads(smoke_corpus, tmp_path):
    train = Manifest(list(smoke_corpus.filter(split="train", emotion="neutral"))[:4], smoke_corpus.root)
    r = dataclasses.replace(recipe("smoke"), plan=TrainingPlan(steps=4, batch_size=2, segment_frames=16,
                                                               warmup_steps=2, steps_per_epoch=2))
    mel = np.full((8, r.model.audio.n_mels), -5.0, np.float32)

    run = recipe_module.train_or_load_melgan(r, train, models_dir=tmp_path / "models", snapshot_mels=mel[None],
                                             verbose=0)
    folder = run.folder       # another plan than the profile's: a run folder of its own, never the kit's
    assert folder.parent == tmp_path / "models" and folder.name.startswith("melgan-smoke-h")
    assert (folder / "model.keras").is_file() and (folder / "checkpoint" / "state.json").is_file()
    history = run.history
    assert all(np.isfinite(v) for _, v in history["steps"]["g_loss"]) and history["events"] == []
    # one epoch of 2 warm-up steps (no discriminator loss), then one of 2 GAN steps
    d_loss = [v for _, v in history["epochs"]["d_loss"]]
    assert len(d_loss) == 2 and d_loss[0] == 0.0 and d_loss[-1] > 0.0
    assert run.info["steps"] == 4 and [p["name"] for p in run.info["phases"]] == ["warmup", "gan"]
    assert [s for s, _ in run.audio] == [2, 4] and run.audio[-1][1].shape == (1, 8 * 256)

    again = recipe_module.train_or_load_melgan(r, train, models_dir=tmp_path / "models")
    assert again.loaded and again.history == run.history and len(again.audio) == 2
    np.testing.assert_allclose(neural_vocoder(again.model)(mel), keras.ops.convert_to_numpy(run.model(mel[None]))[0, :, 0],
                               atol=1e-5)


@pytest.mark.backend
def test_the_vocoder_adapts_to_a_tts_models_teacher_forced_mels(smoke_corpus, data_dir, tmp_path, capsys):
    from voicelab.recipes import tts

    t = dataclasses.replace(tts.recipe("smoke"), align_epochs=1, tts_epochs=1)
    data = tts.prepare(t, data_dir=data_dir)
    keras.utils.set_random_seed(0)
    aligner = tts.train_or_load_aligner(t, data, models_dir=tmp_path / "models", verbose=0)
    durations = tts.durations(aligner.model, data)
    model = tts.train_or_load_tts(t, data, "speaker", durations=durations, models_dir=tmp_path / "models",
                                  verbose=0).model
    mels = tts.teacher_forced_mels(model, data, durations)
    features_of = data.batches["train"].features
    assert set(mels) == {u.id for u in data.train}
    for utt in data.train:   # the recording's frames, the model's values
        assert mels[utt.id].shape == features_of.mel(utt).shape
    assert not np.allclose(mels[data.train[0].id], features_of.mel(data.train[0]), atol=0.5)
    with pytest.raises(ParameterError, match="split='test'"):
        tts.teacher_forced_mels(model, data, durations, split="test")

    r = recipe("smoke")
    base = recipe_module.train_or_load_istft(r, data.train, models_dir=tmp_path / "models", verbose=0)
    mel = np.full((8, r.istft.audio.n_mels), -5.0, np.float32)
    before = keras.ops.convert_to_numpy(base.model(mel[None]))[0]
    load_vocoder("smoke", data_dir=tmp_path, adapted=True)
    out = capsys.readouterr().out
    assert "no iSTFT vocoder adapted to notebook 02's mels in" in out and "vocoder: iSTFT vocoder from" in out
    adapted = recipe_module.train_or_load_istft(r, data.train, mels=mels, start_from=base.model,
                                                models_dir=tmp_path / "models", verbose=0)
    assert adapted.folder.name == "istft-adapted-smoke" and adapted.info["steps"] == r.adapt_plan.steps
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(base.model(mel[None]))[0], before)   # base untouched
    y = load_vocoder("smoke", data_dir=tmp_path, adapted=True)(mel)
    assert "vocoder: iSTFT vocoder adapted to notebook 02's mels from" in capsys.readouterr().out
    np.testing.assert_allclose(y, keras.ops.convert_to_numpy(adapted.model(mel[None]))[0], atol=1e-5)
    assert np.abs(y - before).max() > 1e-6   # it trained
    with pytest.raises(ParameterError, match="no mel for"):
        recipe_module.train_or_load_istft(r, data.train, mels={}, start_from=base.model, models_dir=tmp_path / "other",
                                          verbose=0)


def test_the_istft_vocoder_trains_and_becomes_the_kits_vocoder(smoke_corpus, tmp_path, capsys):
    train = Manifest(list(smoke_corpus.filter(split="train", emotion="neutral"))[:4], smoke_corpus.root)
    other = dataclasses.replace(recipe("smoke"), istft_plan=RegressionPlan(steps=4, batch_size=2, segment_frames=16,
                                                                           steps_per_epoch=2))
    mel = np.full((8, other.istft.audio.n_mels), -5.0, np.float32)
    gl = load_vocoder("smoke", data_dir=tmp_path)
    said = capsys.readouterr().out
    assert "Griffin-Lim, 8 iterations. No trained neural vocoder" in said
    assert "python -m voicelab train vocoder --profile smoke" in said
    assert gl(mel).shape == (8 * 256,)
    # a recipe with another plan trains into a folder of its own: it is not the kit's vocoder
    changed = recipe_module.train_or_load_istft(other, train, models_dir=tmp_path / "models", verbose=0)
    assert changed.info["steps"] == 4 and changed.info["epochs"] == 2 and changed.folder.name != "istft-smoke"
    load_vocoder("smoke", data_dir=tmp_path)
    assert "Griffin-Lim" in capsys.readouterr().out
    r = recipe("smoke")
    run = recipe_module.train_or_load_istft(r, train, models_dir=tmp_path / "models", snapshot_mels=mel[None],
                                            verbose=0)
    assert run.info["steps"] == r.istft_plan.steps and len(run.audio) == run.info["epochs"]
    # the losses and the audio snapshots share one TensorBoard writer: one event file
    assert len(list((tmp_path / "models" / "istft-smoke" / "logs").glob("events.out.tfevents.*"))) == 1
    losses = [v for _, v in run.history["epochs"]["loss"]]
    assert np.isfinite(losses).all()
    vocode = load_vocoder("smoke", data_dir=tmp_path)
    assert "iSTFT vocoder from" in capsys.readouterr().out
    y = vocode(mel)
    assert y.shape == (8 * 256,) and np.isfinite(y).all()
    np.testing.assert_allclose(y, keras.ops.convert_to_numpy(run.model(mel[None]))[0], atol=1e-5)
