"""The callbacks of the training stack: blow-up guard, checkpoints, interruption.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb`` (the aligner and the TTS) and
``notebooks/03_melgan_vocoder.ipynb`` (a GAN: two networks, two optimizers).
:func:`voicelab.train.train_or_load` wires them for every model; they are plain Keras
callbacks in ``keras.ops``, so they work with ``fit`` on TensorFlow and PyTorch.

- :class:`BlowUpGuard` watches every step; when a loss or gradient norm turns NaN/inf
  or explodes, it restores the last good weights *and optimizer state*, lowers the
  learning rates and records the event, and training goes on.
- :class:`Checkpoint` saves the whole training state (networks, optimizers, step
  counter, and whatever JSON state the caller adds: the history, the time spent) so a
  run killed part-way, even by ``kill -9``, continues where it stopped.
- :class:`InterruptAfter` stops ``fit`` after a number of batches, as a crash would.

A model with several optimizers (a GAN) lists them in an ``optimizers`` attribute;
otherwise ``model.optimizer`` is used.
"""

from __future__ import annotations

import collections
import json
import math
import os
import warnings
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from voicelab.errors import ParameterError


def global_norm(grads):
    """L2 norm of all gradients together, ``sqrt(sum ||g||^2)`` (``None`` entries skipped)."""
    return ops.sqrt(sum(ops.sum(ops.square(g)) for g in grads if g is not None))


def model_optimizers(model) -> list:
    """The optimizers that train ``model``: ``model.optimizers`` or ``[model.optimizer]``."""
    optimizers = getattr(model, "optimizers", None) or [getattr(model, "optimizer", None)]
    return [opt for opt in optimizers if opt is not None]


def global_step(model) -> int:
    """Optimizer steps taken so far (the first optimizer's ``iterations``)."""
    optimizers = model_optimizers(model)
    return int(ops.convert_to_numpy(optimizers[0].iterations)) if optimizers else 0


class BlowUpGuard(keras.callbacks.Callback):
    """Recover from NaN/inf or exploding losses without stopping ``fit``.

    After every training step the guard reads the step's logs. If a value is not
    finite, or a ``*grad_norm`` exceeds ``max_grad_norm`` or ``explode_factor`` times
    its median over recent healthy steps, the guard restores the last snapshot of
    the weights and optimizer states, multiplies every learning rate by
    ``lr_factor``, resets the running metrics, appends a record to :attr:`events`
    and warns. Snapshots are taken at the start and every ``snapshot_every`` healthy
    steps (in memory, and only when every value is finite). A blow-up after
    ``max_recoveries`` recoveries restores the last good state once more and stops
    training. It needs per-step values in the logs: ``MelGAN`` logs this step's
    gradient norms, and a NaN loss always reaches them. A snapshot holds the weights
    and Adam's two moments, about 3x the model in RAM (250 MB for MelGAN's 21 M).

    Attributes
    ----------
    events : list of dict
        ``{"step", "epoch", "batch", "reason", "restored_step", "learning_rates"}``.
    """

    def __init__(self, *, snapshot_every: int = 50, lr_factor: float = 0.5,
                 max_recoveries: int = 5, max_grad_norm: float | None = None,
                 explode_factor: float = 1e3, warmup: int = 20) -> None:
        super().__init__()
        if snapshot_every < 1 or not 0 < lr_factor < 1:
            raise ParameterError(f"need snapshot_every >= 1 and 0 < lr_factor < 1, got "
                                 f"snapshot_every={snapshot_every}, lr_factor={lr_factor}")
        self.snapshot_every, self.lr_factor = snapshot_every, lr_factor
        self.max_recoveries, self.max_grad_norm = max_recoveries, max_grad_norm
        self.explode_factor, self.warmup = explode_factor, warmup
        self.events: list[dict] = []
        self._epoch, self._healthy, self._snapshot = 0, 0, None
        self._norms: dict[str, collections.deque] = {}

    def on_train_begin(self, logs=None) -> None:
        self._take_snapshot()

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None) -> None:
        reason = self.diagnose(logs or {})
        if reason is not None:
            self._recover(reason, batch)
            return
        self._healthy += 1
        if self._healthy % self.snapshot_every == 0:
            self._take_snapshot()

    def diagnose(self, logs: dict) -> str | None:
        """Why this step's ``logs`` show a blow-up, or ``None`` when they look healthy."""
        for key, value in logs.items():
            value = float(value)
            if not math.isfinite(value):
                return f"non-finite {key}={value}"
        for key, value in logs.items():
            if not key.endswith("grad_norm"):
                continue
            value = float(value)
            recent = self._norms.setdefault(key, collections.deque(maxlen=200))
            if self.max_grad_norm is not None and value > self.max_grad_norm:
                return f"{key}={value:.3g} > max_grad_norm={self.max_grad_norm:g}"
            if len(recent) >= self.warmup and value > self.explode_factor * np.median(recent):
                median = np.median(recent)
                return f"{key}={value:.3g} > {self.explode_factor:g} x recent median {median:.3g}"
        for key, value in logs.items():
            if key.endswith("grad_norm"):
                self._norms[key].append(float(value))
        return None

    def _take_snapshot(self) -> None:
        weights = self.model.get_weights()
        states = [[np.array(ops.convert_to_numpy(v)) for v in opt.variables]
                  for opt in model_optimizers(self.model)]
        values = weights + [v for state in states for v in state]
        if all(np.all(np.isfinite(v)) for v in values):   # never keep a bad snapshot
            self._snapshot = (global_step(self.model), weights, states)

    def _recover(self, reason: str, batch: int) -> None:
        step = global_step(self.model)
        give_up = len(self.events) >= self.max_recoveries
        if self._snapshot is None or give_up:
            if self._snapshot is not None:
                self._restore(factor=1.0)
            self.model.stop_training = True
            warnings.warn(f"BlowUpGuard: {reason} at step {step}; no recovery left "
                          f"({len(self.events)} done), restored the last good weights and "
                          "stopped", RuntimeWarning, stacklevel=2)
            return
        rates = self._restore(factor=self.lr_factor)
        self.events.append({"step": step, "epoch": self._epoch, "batch": batch, "reason": reason,
                            "restored_step": self._snapshot[0], "learning_rates": rates})
        warnings.warn(f"BlowUpGuard: {reason} at step {step} (epoch {self._epoch}, batch {batch}); "
                      f"restored the weights of step {self._snapshot[0]}, learning rates -> "
                      f"{', '.join(f'{r:.3g}' for r in rates)}", RuntimeWarning, stacklevel=2)

    def _restore(self, *, factor: float) -> list[float]:
        """Load the snapshot into the model and optimizers; scale the learning rates."""
        _, weights, states = self._snapshot
        self.model.set_weights(weights)
        rates = []
        for opt, values in zip(model_optimizers(self.model), states):
            schedule = opt._learning_rate
            if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule) \
                    and not isinstance(schedule, ScaledSchedule):
                raise ParameterError(f"BlowUpGuard cannot lower the rate of a {type(schedule).__name__}: "
                                     "wrap it in voicelab.train.ScaledSchedule")
            rate = float(ops.convert_to_numpy(opt.learning_rate)) * factor   # before the state is put back
            for variable, value in zip(opt.variables, values):
                variable.assign(value)
            if isinstance(schedule, ScaledSchedule):   # the scale is no optimizer variable: lowered for good
                schedule.scale.assign(float(ops.convert_to_numpy(schedule.scale)) * factor)
            else:
                opt.learning_rate = rate
            rates.append(float(ops.convert_to_numpy(opt.learning_rate)))
        for metric in self.model.metrics:
            metric.reset_state()
        return rates


@keras.saving.register_keras_serializable(package="voicelab")
class ScaledSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A learning-rate schedule times a scale that :class:`BlowUpGuard` can lower.

    The scale is a variable, so lowering it reaches a traced (or XLA-compiled)
    training step without tracing it again.

    Example
    -------
    >>> s = ScaledSchedule(keras.optimizers.schedules.CosineDecay(1e-3, 100))
    >>> _ = s.scale.assign(0.5)
    >>> round(float(ops.convert_to_numpy(s(0))), 6)
    0.0005
    """

    def __init__(self, schedule, scale: float = 1.0) -> None:
        if isinstance(schedule, dict):
            schedule = keras.optimizers.schedules.deserialize(schedule)
        self.schedule = schedule
        self.scale = keras.Variable(scale, trainable=False, dtype="float32", name="learning_rate_scale")

    def __call__(self, step):
        return ops.cast(self.schedule(step), "float32") * self.scale

    def get_config(self) -> dict:
        return {"schedule": keras.optimizers.schedules.serialize(self.schedule),
                "scale": float(ops.convert_to_numpy(self.scale))}


def _all_finite(logs) -> bool:
    return all(math.isfinite(float(v)) for v in (logs or {}).values())


class Checkpoint(keras.callbacks.Callback):
    """Keep the latest training state in ``directory`` and resume from it.

    Saves ``state-<0 or 1>.weights.h5`` (every network and optimizer variable: both nets and
    both optimizers of a GAN, step counter included) and ``state.json`` (epoch to
    resume from, global step, and ``extra_state()``: any JSON the caller keeps with
    the weights, such as the loss history and the seconds trained) at each epoch end
    and, with ``every_n_steps``, during the epoch. The weights are written to a new
    file and ``state.json``, which names it, is replaced last, in one rename: a run
    killed while saving keeps the previous state whole. Resuming
    a mid-epoch save restarts that epoch with the saved weights: epochs are
    bookkeeping, the step counter is exact. A step whose logs are not finite is never
    saved; list :class:`BlowUpGuard` first so that a recovered step is not saved either.

    Example
    -------
    ::

        ckpt = Checkpoint("runs/melgan/checkpoint", every_n_steps=500)
        initial_epoch, state = ckpt.restore(gan)      # (0, {}) for a fresh run
        gan.fit(data, epochs=100, initial_epoch=initial_epoch, callbacks=[ckpt])
    """

    WEIGHTS, META = "state.weights.h5", "state.json"

    def __init__(self, directory: str | os.PathLike, *, every_n_steps: int | None = None,
                 extra_state: Callable[[], dict] | None = None) -> None:
        super().__init__()
        if every_n_steps is not None and every_n_steps < 1:
            raise ParameterError(
                f"every_n_steps={every_n_steps} must be a positive integer or None")
        self.directory, self.every_n_steps, self._epoch = os.fspath(directory), every_n_steps, 0
        self.extra_state = extra_state

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None) -> None:
        due = self.every_n_steps and global_step(self.model) % self.every_n_steps == 0
        if due and _all_finite(logs):       # never overwrite a good state with a blown-up one
            self.save(epoch=self._epoch)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if _all_finite(logs):
            self.save(epoch=epoch + 1)

    def save(self, *, epoch: int) -> None:
        """Write the model's state now; ``epoch`` is where a resumed ``fit`` starts.

        The weights go to a new file first; renaming ``state.json``, which names that
        file, is the one step that commits the save. Killed before it, the previous
        state (or none) stays whole; the superseded weights are removed after it.
        """
        os.makedirs(self.directory, exist_ok=True)
        previous = self.saved_state().get("weights")
        weights = self._weights_name(1 if previous == self._weights_name(0) else 0)
        self.model.save_weights(os.path.join(self.directory, weights))
        meta = {"epoch": epoch, "step": global_step(self.model), "weights": weights,
                **(self.extra_state() if self.extra_state else {})}
        with open(os.path.join(self.directory, self.META + ".tmp"), "w") as f:
            json.dump(meta, f)
        os.replace(os.path.join(self.directory, self.META + ".tmp"), os.path.join(self.directory, self.META))
        for name in os.listdir(self.directory):
            if name.endswith(".weights.h5") and name != weights:
                os.remove(os.path.join(self.directory, name))

    def _weights_name(self, slot: int) -> str:
        return self.WEIGHTS.replace(".weights", f"-{slot}.weights")

    def saved_state(self) -> dict:
        """The saved ``state.json`` without loading any weights; ``{}`` when nothing was saved.

        A checkpoint written before ``state.json`` named its weights file keeps them in
        ``state.weights.h5``.
        """
        path = os.path.join(self.directory, self.META)
        if not os.path.isfile(path):
            return {}
        with open(path) as f:
            meta = json.load(f)
        meta.setdefault("weights", self.WEIGHTS)
        return meta if os.path.isfile(os.path.join(self.directory, meta["weights"])) else {}

    def restore(self, model) -> tuple[int, dict]:
        """Load the saved state into ``model`` (compiled): ``(epoch to resume at, state.json)``.

        ``(0, {})`` when nothing was saved (weights whose ``state.json`` was never
        written, by a run killed in its first save, do not count). Optimizers not built
        yet are built first, so their moments are restored too, not skipped.
        """
        optimizers = model_optimizers(model)
        if not optimizers:
            raise ParameterError("compile the model before Checkpoint.restore: "
                                 "the optimizers' state is restored too")
        meta = self.saved_state()
        if not meta:
            return 0, {}
        if len(optimizers) == 1 and not optimizers[0].built:
            optimizers[0].build(model.trainable_variables)
        model.load_weights(os.path.join(self.directory, meta["weights"]))
        return int(meta["epoch"]), meta


class TrainingInterrupted(RuntimeError):
    """Raised by :class:`InterruptAfter`; stands for a crash, a pre-emption or Ctrl-C."""


class InterruptAfter(keras.callbacks.Callback):
    """Raise :class:`TrainingInterrupted` once ``batches`` training batches have run.

    Counts batches over the whole ``fit`` call, across epochs: a notebook (or a test)
    interrupts a run with it and shows that calling ``train_or_load`` again resumes.
    """

    def __init__(self, batches: int) -> None:
        super().__init__()
        if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
            raise ParameterError(f"batches={batches!r} must be a positive integer")
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.seen += 1
        if self.seen >= self.batches:
            raise TrainingInterrupted(f"training interrupted after {self.seen} batches")
