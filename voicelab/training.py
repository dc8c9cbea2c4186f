"""Safe-training helpers for any Keras model: blow-up guard, checkpoints, TensorBoard.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``. Backend-neutral: these are Keras
callbacks and ``keras.ops``; they work with ``fit`` on TensorFlow and PyTorch.

- :class:`BlowUpGuard` watches every step; when a loss or gradient norm turns NaN/inf
  or explodes, it restores the last good weights *and optimizer state*, halves the
  learning rates and records the event, and training goes on.
- :class:`Checkpoint` saves the whole training state (networks, optimizers, epoch) so
  a run killed part-way continues where it stopped.
- :class:`TensorBoardLogger` writes losses and vocoded audio to TensorBoard and keeps
  them in memory for plots and players.

A model with several optimizers (a GAN) lists them in an ``optimizers`` attribute;
otherwise ``model.optimizer`` is used.
"""

from __future__ import annotations

import collections
import json
import math
import os
import warnings

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
            rate = float(ops.convert_to_numpy(opt.learning_rate)) * factor
            for variable, value in zip(opt.variables, values):
                variable.assign(value)
            opt.learning_rate = rate      # raises TypeError for a LearningRateSchedule
            rates.append(rate)
        for metric in self.model.metrics:
            metric.reset_state()
        return rates


def _all_finite(logs) -> bool:
    return all(math.isfinite(float(v)) for v in (logs or {}).values())


class Checkpoint(keras.callbacks.Callback):
    """Keep the latest training state in ``directory`` and resume from it.

    Saves ``state.weights.h5`` (every network and optimizer variable: both nets and
    both optimizers of a GAN, step counter included) and ``state.json`` (epoch to
    resume from, global step) at each epoch end and, with ``every_n_steps``, during
    the epoch. Files are written to a temporary name and renamed, so a run killed
    while saving keeps the previous state. Resuming a mid-epoch save restarts that
    epoch with the saved weights: epochs are bookkeeping, the step counter is exact.
    A step whose logs are not finite is never saved; list :class:`BlowUpGuard` first
    so that a recovered step is not saved either.

    Example
    -------
    ::

        ckpt = Checkpoint("runs/melgan/ckpt", every_n_steps=500)
        initial_epoch = ckpt.restore(gan)          # 0 for a fresh run
        gan.fit(data, epochs=100, initial_epoch=initial_epoch, callbacks=[ckpt])
    """

    WEIGHTS, META = "state.weights.h5", "state.json"

    def __init__(self, directory: str | os.PathLike, *, every_n_steps: int | None = None) -> None:
        super().__init__()
        if every_n_steps is not None and every_n_steps < 1:
            raise ParameterError(
                f"every_n_steps={every_n_steps} must be a positive integer or None")
        self.directory, self.every_n_steps, self._epoch = os.fspath(directory), every_n_steps, 0

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
        """Write the model's state now; ``epoch`` is where a resumed ``fit`` starts."""
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, self.WEIGHTS)
        self.model.save_weights(path + ".tmp.weights.h5")
        os.replace(path + ".tmp.weights.h5", path)
        meta = {"epoch": epoch, "step": global_step(self.model)}
        with open(os.path.join(self.directory, self.META + ".tmp"), "w") as f:
            json.dump(meta, f)
        os.replace(os.path.join(self.directory, self.META + ".tmp"),
                   os.path.join(self.directory, self.META))

    def restore(self, model) -> int:
        """Load the saved state into ``model`` (compiled); return the epoch to resume at."""
        if not model_optimizers(model):
            raise ParameterError("compile the model before Checkpoint.restore: "
                                 "the optimizers' state is restored too")
        path = os.path.join(self.directory, self.WEIGHTS)
        if not os.path.isfile(path):
            return 0
        model.load_weights(path)
        with open(os.path.join(self.directory, self.META)) as f:
            return int(json.load(f)["epoch"])


class TensorBoardLogger(keras.callbacks.Callback):
    """Losses every ``every_n_steps`` steps and vocoded audio every epoch, to TensorBoard.

    ``mels [B, frames, n_mels]`` are vocoded with ``model.generator`` (or ``model``)
    at each epoch end. Writer: ``tf.summary`` on the TensorFlow backend,
    ``torch.utils.tensorboard`` on PyTorch, each falling back to the other; both need
    the ``tensorboard`` package. Without it nothing is written (one warning) but all is kept in
    memory: :attr:`scalars` (``{name: [(step, value), ...]}``) and :attr:`audio`
    (``[(step, waves [B, samples]), ...]``) for plots and players in a notebook.
    """

    def __init__(self, log_dir: str | os.PathLike, mels=None, *, sr: int,
                 every_n_steps: int = 10) -> None:
        super().__init__()
        self.log_dir, self.sr, self.every_n_steps = os.fspath(log_dir), sr, every_n_steps
        self.mels = None if mels is None else np.asarray(mels, dtype="float32")
        self.scalars: dict[str, list] = collections.defaultdict(list)
        self.audio: list = []
        self._writer = None

    def on_train_batch_end(self, batch, logs=None) -> None:
        step = global_step(self.model)
        if step % self.every_n_steps == 0:
            for name, value in (logs or {}).items():
                self.scalars[name].append((step, float(value)))
                self._write("scalar", f"train/{name}", float(value), step)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.mels is None:
            return
        generator = getattr(self.model, "generator", self.model)
        waves = np.asarray(ops.convert_to_numpy(generator(self.mels, training=False)))[..., 0]
        step = global_step(self.model)
        self.audio.append((step, waves))
        for i, wave in enumerate(waves):
            self._write("audio", f"vocoded/{i}", wave, step)

    def on_train_end(self, logs=None) -> None:
        if self._writer not in (None, False):
            self._writer[1].flush()

    def _write(self, kind: str, name: str, value, step: int) -> None:
        if self._writer is None:
            self._writer = _open_writer(self.log_dir)
        if self._writer is False:
            return
        flavour, writer = self._writer
        if flavour == "tf":
            import tensorflow as tf

            with writer.as_default(step=step):
                if kind == "scalar":
                    tf.summary.scalar(name, value)
                else:
                    tf.summary.audio(name, np.clip(value, -1, 1)[None, :, None], self.sr)
        elif kind == "scalar":
            writer.add_scalar(name, value, step)
        else:
            writer.add_audio(name, np.clip(value, -1, 1), step, sample_rate=self.sr)


def _open_writer(log_dir: str):
    """``("tf", writer)``, ``("torch", writer)``, or ``False`` when TensorBoard is missing.

    The backend's own writer comes first: TensorFlow imported into a PyTorch session
    could claim the GPU's memory.
    """
    def tf_writer():
        import tensorboard  # noqa: F401  (tf.summary's ops live in this package)
        import tensorflow as tf

        return tf.summary.create_file_writer(log_dir)

    def torch_writer():
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(log_dir)

    writers = {"tf": tf_writer, "torch": torch_writer}
    order = ("torch", "tf") if keras.backend.backend() == "torch" else ("tf", "torch")
    for flavour in order:
        try:
            return flavour, writers[flavour]()
        except ImportError:
            continue
    warnings.warn("TensorBoardLogger: the tensorboard package is not installed; "
                  "losses and audio are kept in memory only", RuntimeWarning, stacklevel=3)
    return False
