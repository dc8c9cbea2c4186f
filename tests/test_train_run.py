"""The one training stack: run folder, load vs train, phases, history, and resume after ``kill -9``.

The resume tests start a real training process (``tests/train_worker.py``) on the smoke
corpus with each notebook's smoke recipe, kill it with SIGKILL mid-run, start it again
and check that it continued from the checkpoint, not from scratch. Under both backends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

from voicelab.errors import ParameterError
from voicelab.train import (
    BlowUpGuard,
    InterruptAfter,
    Phase,
    ScaledSchedule,
    TrainingInterrupted,
    load_run,
    train_or_load,
)
from voicelab.train.history import curve

pytestmark = pytest.mark.backend
WORKER = Path(__file__).with_name("train_worker.py")


def build():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


@pytest.fixture
def data(rng):
    x = rng.standard_normal((64, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], "float32")


def test_trains_saves_the_layout_then_loads(data, tmp_path):
    run = train_or_load(tmp_path / "run", build=build, train=data, epochs=3, config={"lr": 0.05}, verbose=0)
    assert not run.loaded and run.info["epochs"] == 3 and run.info["steps"] == 3 * 2   # 64 / 32
    for name in ("model.keras", "run.json", "history.json", "checkpoint/state.json", "logs"):
        assert (tmp_path / "run" / name).exists(), name
    assert run.info["config"] == {"lr": 0.05} and run.info["resumed_at_step"] is None
    steps, loss = curve(run.history, "loss")
    assert steps.tolist() == [2, 4, 6] and loss[-1] < loss[0]
    again = train_or_load(tmp_path / "run", build=lambda: pytest.fail("must not build"), train=data, epochs=3)
    assert again.loaded and again.history == run.history and again.info["steps"] == 6
    np.testing.assert_allclose(again.model.predict(data[0], verbose=0), run.model.predict(data[0], verbose=0))
    fresh = train_or_load(tmp_path / "run", build=build, train=data, epochs=1, retrain=True, verbose=0)
    assert not fresh.loaded and fresh.info["steps"] == 2
    run.record(mcd=7.5)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["figures"] == {"mcd": 7.5}


def test_loading_a_run_for_another_configuration_warns_and_names_the_changes(data, tmp_path):
    config = {"recipe": {"epochs": 2, "width": 8}, "speakers": ["a", "b"]}
    train_or_load(tmp_path / "run", build=build, train=data, epochs=2, config=config, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # the same configuration, or one with a field added: silent
        train_or_load(tmp_path / "run", build=build, train=data, epochs=2, config=config)
        train_or_load(tmp_path / "run", build=build, train=data, epochs=2,
                      config={**config, "recipe": {**config["recipe"], "seed": 0}})
    edited = {"recipe": {"epochs": 5, "width": 8}, "speakers": ["a", "c"]}
    with pytest.warns(UserWarning, match=r"recipe\.epochs: 2 -> 5; speakers: \['a', 'b'\] -> \['a', 'c'\].*retrain=True"):
        run = train_or_load(tmp_path / "run", build=lambda: pytest.fail("must not build"), train=data, epochs=5,
                            config=edited)
    assert run.loaded and run.info["epochs"] == 2   # loaded as trained
    with pytest.warns(UserWarning, match="width: 8 -> 16"):
        load_run(tmp_path / "run", config={"recipe": {"width": 16}})


def test_interrupted_run_resumes_its_step_counter_and_history(data, tmp_path):
    with pytest.raises(TrainingInterrupted):
        train_or_load(tmp_path / "run", build=build, train=data, epochs=4, verbose=0,
                      callbacks=[InterruptAfter(5)])                # dies in epoch 2 (0-based)
    run = train_or_load(tmp_path / "run", build=build, train=data, epochs=4, verbose=0)
    assert run.info["resumed_at_step"] == 4 and run.info["steps"] == 8
    assert curve(run.history, "loss")[0].tolist() == [2, 4, 6, 8]   # each epoch once


def test_resuming_an_unfinished_run_of_another_configuration_warns_or_refuses(data, tmp_path):
    def interrupted(config, after):
        with pytest.raises(TrainingInterrupted):
            train_or_load(tmp_path / "run", build=build, train=data, epochs=4, config=config, verbose=0,
                          callbacks=[InterruptAfter(after)])

    interrupted({"width": 1, "lr": 0.05}, 5)                           # saved at step 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)                    # the same configuration: silent
        interrupted({"width": 1, "lr": 0.05}, 1)                       # resumed at 4, stopped before 6
    with pytest.warns(UserWarning, match=r"unfinished run.*lr: 0\.05 -> 0\.01.*retrain=True"):
        run = train_or_load(tmp_path / "run", build=build, train=data, epochs=4, config={"width": 1, "lr": 0.01},
                            verbose=0)
    assert run.info["resumed_at_step"] == 4 and run.info["config"] == {"width": 1, "lr": 0.01}

    def build_wide():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    with pytest.raises(TrainingInterrupted):
        train_or_load(tmp_path / "other", build=build, train=data, epochs=4, config={"width": 1}, verbose=0,
                      callbacks=[InterruptAfter(5)])
    with pytest.warns(UserWarning), pytest.raises(ParameterError, match=r"cannot resume.*width: 1 -> 2"):
        train_or_load(tmp_path / "other", build=build_wide, train=data, epochs=4, config={"width": 2}, verbose=0)
    run = train_or_load(tmp_path / "other", build=build_wide, train=data, epochs=4, config={"width": 2},
                        retrain=True, verbose=0)
    assert run.info["resumed_at_step"] is None and run.info["steps"] == 8


def test_phases_call_set_phase_and_a_resumed_run_skips_finished_ones(data, tmp_path):
    seen = []

    class Phased(keras.Sequential):
        def set_phase(self, name):
            seen.append(name)

    def build_phased():
        model = Phased([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    phases = [Phase("warmup", 2), Phase("main", 1)]
    with pytest.raises(TrainingInterrupted):
        train_or_load(tmp_path / "run", build=build_phased, train=data, phases=phases, verbose=0,
                      callbacks=[InterruptAfter(5)])               # in the "main" phase
    assert seen == ["warmup", "main"]
    seen.clear()
    run = train_or_load(tmp_path / "run", build=build_phased, train=data, phases=phases, verbose=0)
    assert seen == ["main"] and run.info["epochs"] == 3


def test_blow_up_is_recovered_and_logged(data, tmp_path):
    x, y = data
    y = y.copy()
    y[40] = np.inf                                                  # batch 1 of every epoch
    guard = BlowUpGuard(snapshot_every=1, max_recoveries=1)
    with pytest.warns(RuntimeWarning, match="BlowUpGuard"):
        run = train_or_load(tmp_path / "run", build=build, train=(x, y), epochs=2, guard=guard, verbose=0)
    assert run.history["events"] and "non-finite" in run.history["events"][0]["reason"]
    assert run.info["stopped_by_guard"]
    assert all(np.isfinite(w).all() for w in run.model.get_weights())


def test_the_guard_lowers_a_scaled_schedule_and_refuses_a_bare_one(data, tmp_path):
    x, y = data
    y = y.copy()
    y[40] = np.inf

    def build_scheduled(schedule):
        def build_():
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
            return model
        return build_

    scaled = ScaledSchedule(keras.optimizers.schedules.CosineDecay(0.05, 100))
    with pytest.warns(RuntimeWarning, match="BlowUpGuard"):
        run = train_or_load(tmp_path / "scaled", build=build_scheduled(scaled), train=(x, y), epochs=1,
                            guard=BlowUpGuard(snapshot_every=1, max_recoveries=1, lr_factor=0.5), verbose=0)
    assert run.history["events"] and float(keras.ops.convert_to_numpy(scaled.scale)) == pytest.approx(0.5)
    bare = keras.optimizers.schedules.CosineDecay(0.05, 100)
    with pytest.raises(ParameterError, match="wrap it in voicelab.train.ScaledSchedule"):
        train_or_load(tmp_path / "bare", build=build_scheduled(bare), train=(x, y), epochs=1,
                      guard=BlowUpGuard(snapshot_every=1), verbose=0)


def test_bad_arguments_and_missing_runs(data, tmp_path):
    with pytest.raises(ParameterError, match="exactly one of epochs"):
        train_or_load(tmp_path / "a", build=build, train=data, epochs=2, phases=[Phase("x", 1)])
    with pytest.raises(ParameterError, match="nothing to train"):
        train_or_load(tmp_path / "a", build=build, train=data, epochs=0)
    with pytest.raises(ParameterError, match="epochs=-1"):
        Phase("x", -1)
    with pytest.raises(ParameterError, match="no trained model in .*: run notebook 99"):
        load_run(tmp_path / "nothing", hint="run notebook 99")


def test_run_json_names_the_module_of_every_layer_however_deep():
    from voicelab.models.speechsplit import SpeechSplitConfig, build_speechsplit
    from voicelab.train.run import _modules

    # SpeechSplit's encoders sit in a dict, each holds vqvae.ResidualBlocks in a list; its
    # decoder, a plain layer, holds layers.BiLSTMs: loading needs all three modules imported
    model = build_speechsplit(SpeechSplitConfig(embedding_dim=4, encoder_channels=8, decoder_channels=8, voice_dim=4))
    assert _modules(model) == ["voicelab.models.layers", "voicelab.models.speechsplit", "voicelab.models.vqvae"]
    assert _modules(build()) == []   # Keras's own layers only


def _worker(kind: str, data_dir: Path, kill_at: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(WORKER), kind, str(data_dir), str(kill_at)],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.parametrize("kind, kill_at, resumed_at, total", [
    ("aligner", 4, 3, 6),      # 2 epochs of 3 batches (40 clips); the epoch-0 save is at step 3
    ("tts", 4, 3, 6),
    ("melgan", 3, 3, 5),       # 2 phases of one 2-step epoch; saves every step; a mid-epoch save restarts its epoch
    ("istft", 1, 1, 3),        # one epoch of 2 steps; the step-1 save is mid-epoch
    ("vqvae", 7, 5, 10),       # 2 epochs of 5 batches (40 neutral clips, batches of 8)
    ("speechsplit", 11, 8, 16),  # notebook 05: 2 epochs of 8 batches (128 clips, batches of 16)
    ("judge", 11, 8, 24),      # 3 epochs of 8 batches
    ("voicegan", 2, 1, 3),     # 3 epochs of one batch of 32 clip embeddings
    ("codegan", 6, 4, 8),      # 2 epochs of 4 batches of 32 clips' codes (after an unkilled SpeechSplit)
])
def test_every_model_resumes_after_kill_9(kind, kill_at, resumed_at, total, smoke_corpus, emotional_corpus, data_dir,
                                          tmp_path):
    work = tmp_path / "data"
    work.mkdir()
    (work / "corpus-smoke").symlink_to(data_dir / "corpus-smoke")
    (work / "corpus-smoke-emotional").symlink_to(data_dir / "corpus-smoke-emotional")
    killed = _worker(kind, work, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    folder = work / "models" / {"aligner": "aligner-smoke", "tts": "tts-speaker-smoke", "melgan": "melgan-smoke",
                                "istft": "istft-smoke", "vqvae": "vqvae-speaker-smoke", "speechsplit": "speechsplit-smoke",
                                "judge": "emotion-judge-smoke", "voicegan": "voicegan-smoke",
                                "codegan": "codegan-smoke"}[kind]
    assert (folder / "checkpoint" / "state.json").is_file() and not (folder / "model.keras").exists()
    resumed = _worker(kind, work, 0)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    out = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert not out["loaded"] and out["info"]["resumed_at_step"] == resumed_at
    assert out["info"]["steps"] == total
    loss = {"melgan": "g_loss", "voicegan": "g_loss", "codegan": "g_loss"}.get(kind, "loss")
    steps = out["epoch_steps"][loss]
    assert steps == sorted(set(steps)) and steps[-1] == total        # no epoch logged twice
    assert load_run(folder).info["steps"] == total
