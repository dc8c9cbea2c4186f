"""Training callbacks: MelGAN's fit step, the blow-up guard, checkpoint/resume, history and TensorBoard.

Exercised on a tiny MelGAN (two networks, two optimizers) under whichever backend
``KERAS_BACKEND`` names; CI runs the file under ``tensorflow`` and ``torch``.
TensorFlow traces ``train_step`` once per model, which takes tens of seconds on a busy
CPU, so the tests share one model and reset its weights and optimizers between tests.
"""

from __future__ import annotations

import glob
import warnings

import keras
import numpy as np
import pytest
from keras import ops
from test_melgan import numpy, tiny_batches, tiny_config

from voicelab.errors import ParameterError
from voicelab.models.melgan import MelGAN
from voicelab.train.callbacks import BlowUpGuard, Checkpoint, global_norm, global_step
from voicelab.train.history import AudioSnapshots, HistoryLogger, new_history

pytestmark = pytest.mark.backend   # run under TensorFlow and PyTorch (see Makefile)


@pytest.fixture(scope="module")
def shared_gan():
    keras.utils.set_random_seed(0)
    gan = MelGAN(tiny_config())
    gan.compile()
    return gan, gan.get_weights()


@pytest.fixture
def gan(shared_gan) -> MelGAN:
    """The shared tiny MelGAN as if new: initial weights, fresh optimizers and metrics."""
    model, weights = shared_gan
    model.set_weights(weights)
    for opt in model.optimizers:
        for variable in opt.variables:
            variable.assign(ops.zeros(variable.shape, variable.dtype))
        opt.learning_rate = model.config.learning_rate
    for metric in model.metrics:
        metric.reset_state()
    return model


def learning_rates(gan) -> list[float]:
    return [float(numpy(opt.learning_rate)) for opt in gan.optimizers]


def all_finite(gan) -> bool:
    states = [numpy(v) for opt in gan.optimizers for v in opt.variables]
    return all(np.all(np.isfinite(w)) for w in gan.get_weights() + states)


class Callback(keras.callbacks.Callback):
    """Run ``fn(model, step, logs)`` after every training step."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.fn(self.model, global_step(self.model), logs)


def test_global_norm_is_the_norm_of_all_gradients_together():
    grads = [np.array([3.0, 4.0], "float32"), None, np.array([[12.0]], "float32")]
    assert float(numpy(global_norm(grads))) == pytest.approx(13.0)


def test_one_fit_step_updates_both_networks(gan, rng):
    g_before, d_before = gan.generator.get_weights(), gan.discriminator.get_weights()
    data = tiny_batches(rng, 1)
    history = gan.fit(data, batch_size=2, epochs=1, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    assert set(logs) == {"d_loss", "g_loss", "adv_loss", "fm_loss", "stft_loss",
                         "g_grad_norm", "d_grad_norm"}
    assert all(np.isfinite(v) for v in logs.values())
    assert int(numpy(gan.g_optimizer.iterations)) == int(numpy(gan.d_optimizer.iterations)) == 1
    assert all(np.any(a != b) for a, b in zip(gan.generator.get_weights(), g_before))
    assert any(np.any(a != b) for a, b in zip(gan.discriminator.get_weights(), d_before))
    assert logs["d_loss"] == pytest.approx(6.0, abs=0.5)     # hinge: 2 per scale for D(x) ~ 0
    assert gan.config.feature_matching_scale == pytest.approx(10 * 4 / 3 / 3)   # 2 downsamples, 3 scales
    assert logs["g_loss"] == pytest.approx(
        logs["adv_loss"] + gan.config.feature_matching_scale * logs["fm_loss"] + 2.5 * logs["stft_loss"], rel=1e-4)


def test_evaluate_reports_the_losses_without_training(gan, rng):
    data = tiny_batches(rng, 2)
    weights = gan.get_weights()
    first = gan.evaluate(data, batch_size=2, verbose=0, return_dict=True)
    assert set(first) == {"d_loss", "g_loss", "adv_loss", "fm_loss", "stft_loss"}
    assert gan.evaluate(data, batch_size=2, verbose=0, return_dict=True) == pytest.approx(first)
    assert all(np.array_equal(a, b) for a, b in zip(gan.get_weights(), weights))
    assert global_step(gan) == 0


def test_stft_loss_falls_within_ten_steps(gan, rng):
    data = tiny_batches(rng, 1)                              # one batch: an epoch is a step
    for opt in gan.optimizers:
        opt.learning_rate = 1e-3                             # tiny model: 10x the paper's rate
    history = gan.fit(data, batch_size=2, epochs=10, verbose=0)
    stft = history.history["stft_loss"]
    assert stft[-1] < 0.9 * stft[0]
    assert np.isfinite(history.history["g_loss"]).all()


# ------------------------------------------------------------------- blow-ups
def test_guard_diagnoses_nan_and_exploding_gradients():
    guard = BlowUpGuard(warmup=5, explode_factor=100.0, max_grad_norm=1e6)
    assert "non-finite g_loss=nan" in guard.diagnose({"g_loss": float("nan"), "g_grad_norm": 1.0})
    assert "non-finite d_grad_norm=inf" in guard.diagnose({"d_grad_norm": float("inf")})
    for value in (1.0, 2.0, 1.5, 1.0, 2.0):
        assert guard.diagnose({"g_loss": 1.0, "g_grad_norm": value}) is None
    assert "recent median 1.5" in guard.diagnose({"g_grad_norm": 500.0})
    assert "max_grad_norm" in guard.diagnose({"g_grad_norm": 2e6})
    with pytest.raises(ParameterError, match="lr_factor=2"):
        BlowUpGuard(lr_factor=2)


@pytest.mark.parametrize("poison", ["nan_batch", "nan_weight"])
def test_guard_recovers_from_nan_and_training_goes_on(gan, rng, poison):
    data = tiny_batches(rng, 6)
    callbacks = []
    if poison == "nan_batch":
        data["audio"][4:6] = np.nan                                  # the 3rd batch of 6
    else:                                                    # after step 2, a NaN kernel
        def poison_weight(model, step, logs):
            if step == 2 and not guard.events:
                v = model.generator.get_layer("conv_in").v
                v.assign(np.where(np.arange(v.shape[0])[:, None, None] == 0, np.nan, numpy(v)))
        callbacks.append(Callback(poison_weight))
    guard = BlowUpGuard(snapshot_every=1)
    steps = []
    callbacks += [Callback(lambda m, step, logs: steps.append((step, dict(logs)))), guard]
    with pytest.warns(RuntimeWarning, match="BlowUpGuard: non-finite"):
        history = gan.fit(data, batch_size=2, epochs=1, shuffle=False, verbose=0,
                          callbacks=callbacks)

    # a NaN weight after step 2 is never snapshotted: the guard goes back to step 1
    good = 2 if poison == "nan_batch" else 1
    assert len(guard.events) == 1
    event = guard.events[0]
    assert event["step"] == 3 and event["restored_step"] == good
    assert "non-finite" in event["reason"] and event["learning_rates"] == pytest.approx([5e-5] * 2)
    assert learning_rates(gan) == pytest.approx([5e-5, 5e-5])
    assert all_finite(gan)                                   # weights and Adam moments
    # the blown-up step 3 is logged, then training goes on from the restored step
    assert [s for s, _ in steps] == [1, 2, 3] + [good + 1, good + 2, good + 3]
    assert not np.isfinite(list(steps[2][1].values())).all()
    assert all(np.isfinite(list(logs.values())).all() for _, logs in steps[3:])
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert global_step(gan) == good + 3


def test_guard_stops_training_when_recoveries_run_out(gan, rng):
    data = tiny_batches(rng, 5)
    data["audio"][:] = np.nan                                        # every batch is poison
    guard = BlowUpGuard(max_recoveries=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(data, batch_size=2, epochs=1, verbose=0, callbacks=[guard])
    assert len(guard.events) == 2
    assert learning_rates(gan) == pytest.approx([0.25e-4, 0.25e-4])
    assert any("no recovery left" in str(w.message) for w in caught)
    assert gan.stop_training and global_step(gan) == 0      # 3 of 5 steps ran, all undone
    assert all_finite(gan)                                   # left with the last good weights


# --------------------------------------------------------------------- resume
class Killed(Exception):
    """Stands for the kernel dying mid-run."""


def test_killed_run_resumes_with_weights_optimizers_and_step_counter(gan, rng, tmp_path):
    data = tiny_batches(rng, 3)                        # 3 steps per epoch
    saved = {}

    def kill_at_step_5(model, step, logs):
        if step == 4:                                        # what the checkpoint holds
            saved["weights"] = model.get_weights()
            saved["optimizers"] = [[numpy(v) for v in o.variables] for o in model.optimizers]
        if step == 5:
            raise Killed

    with pytest.raises(Killed):
        gan.fit(data, batch_size=2, epochs=3, verbose=0,
                callbacks=[Checkpoint(tmp_path / "ckpt", every_n_steps=2),
                           Callback(kill_at_step_5)])

    second = gan                                             # as a new process would: other
    second.set_weights([w + 1.0 for w in second.get_weights()])  # weights, new optimizers
    for opt in second.optimizers:
        opt.iterations.assign(0)
    initial_epoch, state = Checkpoint(tmp_path / "ckpt").restore(second)
    assert initial_epoch == 1 and state["step"] == 4                               # the step-4 save is mid-epoch 1
    assert global_step(second) == 4
    assert [int(numpy(o.iterations)) for o in second.optimizers] == [4, 4]
    for a, b in zip(second.get_weights(), saved["weights"]):
        np.testing.assert_array_equal(a, b)
    for opt, values in zip(second.optimizers, saved["optimizers"]):
        for variable, value in zip(opt.variables, values):
            np.testing.assert_array_equal(numpy(variable), value)

    steps = []
    second.fit(data, batch_size=2, epochs=3, initial_epoch=initial_epoch, verbose=0,
               callbacks=[Checkpoint(tmp_path / "ckpt"),
                          Callback(lambda m, step, logs: steps.append(step))])
    assert steps == [5, 6, 7, 8, 9, 10]                      # the counter continues
    assert Checkpoint(tmp_path / "ckpt").restore(second)[0] == 3
    assert Checkpoint(tmp_path / "empty").restore(second) == (0, {})
    blown_up = Checkpoint(tmp_path / "nan", every_n_steps=1)
    blown_up.set_model(second)
    blown_up.on_train_batch_end(0, {"g_loss": float("nan")})
    blown_up.on_epoch_end(0, {"g_loss": float("inf")})
    assert not (tmp_path / "nan").exists()                   # a blown-up state is never saved
    with pytest.raises(ParameterError, match="compile"):
        Checkpoint(tmp_path / "ckpt").restore(MelGAN(tiny_config()))


def test_a_kill_while_saving_keeps_the_previous_state_whole(monkeypatch, tmp_path):
    import os

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    ckpt = Checkpoint(tmp_path / "ckpt")
    ckpt.set_model(model)
    real_replace = os.replace

    def killed(src, dst):   # the process dies just before state.json is replaced
        if str(dst).endswith("state.json"):
            raise KeyboardInterrupt
        real_replace(src, dst)

    # killed in the first save: weights but no state.json is no checkpoint at all
    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(epoch=1)
    monkeypatch.setattr(os, "replace", real_replace)
    assert ckpt.saved_state() == {} and ckpt.restore(model) == (0, {})

    ckpt.save(epoch=1)
    first = [w.copy() for w in model.get_weights()]
    model.set_weights([w + 1.0 for w in first])
    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(epoch=2)                        # new weights written, never committed
    monkeypatch.setattr(os, "replace", real_replace)
    assert ckpt.restore(model)[0] == 1            # epoch 1 and its own weights, not epoch 2's
    for restored, saved in zip(model.get_weights(), first):
        np.testing.assert_array_equal(restored, saved)
    ckpt.save(epoch=2)
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["state-1.weights.h5", "state.json"]      # one set of weights is kept

    # a checkpoint written before state.json named its weights file still resumes
    old = tmp_path / "old"
    old.mkdir()
    (tmp_path / "ckpt" / "state-1.weights.h5").rename(old / "state.weights.h5")
    (old / "state.json").write_text('{"epoch": 2, "step": 0}')
    assert Checkpoint(old).restore(model)[0] == 2


# ----------------------------------------------------------------- history and TensorBoard
def test_history_logger_keeps_step_and_epoch_logs_and_writes_tensorboard(gan, rng, tmp_path):
    data = tiny_batches(rng, 4)
    history = new_history()
    snapshots = AudioSnapshots(data["mel"][:2], sr=16000, log_dir=tmp_path / "tb")
    gan.fit(data, batch_size=2, epochs=2, verbose=0,
            callbacks=[HistoryLogger(history, tmp_path / "tb", every_n_steps=2), snapshots])
    assert [step for step, _ in history["steps"]["g_loss"]] == [2, 4, 6, 8]
    assert [step for step, _ in history["epochs"]["g_loss"]] == [4, 8]
    assert [step for step, _ in snapshots.audio] == [4, 8]
    assert snapshots.audio[-1][1].shape == (2, 16 * 16)
    assert glob.glob(str(tmp_path / "tb" / "events.out.tfevents.*"))


def test_history_logger_without_tensorboard_warns_once(gan, rng, tmp_path, monkeypatch):
    from voicelab.train import history as history_module

    def no_tensorboard(log_dir):
        warnings.warn("the tensorboard package is not installed", RuntimeWarning)
        return False

    monkeypatch.setattr(history_module, "_open_writer", no_tensorboard)
    data = tiny_batches(rng, 2)
    history = new_history()
    with pytest.warns(RuntimeWarning, match="not installed") as caught:
        gan.fit(data, batch_size=2, epochs=1, verbose=0,
                callbacks=[HistoryLogger(history, tmp_path / "tb", every_n_steps=1)])
    assert sum("not installed" in str(w.message) for w in caught) == 1
    assert len(history["steps"]["d_loss"]) == 2 and len(history["epochs"]["d_loss"]) == 1
