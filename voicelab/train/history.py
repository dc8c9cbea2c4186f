"""One history format for every model, written to TensorBoard as it grows.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; every run of
:func:`voicelab.train.train_or_load` keeps one.

A history is a plain dict, saved as ``history.json`` in the run folder::

    {"steps":  {name: [[step, value], ...]},   # this step's logs, every ``every_n_steps``
     "epochs": {name: [[step, value], ...]},   # each epoch's logs (running means, val_*)
     "events": [...]}                          # the blow-up guard's recoveries

Both tables are keyed by the global optimizer step, so a curve of a resumed run, a
warm-up followed by a GAN phase, or two models of different epoch sizes line up on
one axis. :func:`curve` reads one name back as two arrays.

Example
-------
>>> history = new_history()
>>> history["epochs"]["loss"] = [[10, 2.0], [20, 1.5]]
>>> steps, values = curve(history, "loss")
>>> steps.tolist(), values.tolist()
([10, 20], [2.0, 1.5])
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import keras
import numpy as np
from keras import ops

from voicelab.errors import ParameterError
from voicelab.train.callbacks import global_step

TABLES = ("steps", "epochs")


def new_history() -> dict:
    """An empty history: ``{"steps": {}, "epochs": {}, "events": []}``."""
    return {"steps": {}, "epochs": {}, "events": []}


def truncate(history: dict, step: int) -> dict:
    """The part of ``history`` up to ``step`` (what a checkpoint of that step had seen)."""
    out = new_history()
    for table in TABLES:
        for name, points in history.get(table, {}).items():
            kept = [[int(s), float(v)] for s, v in points if s <= step]
            if kept:
                out[table][name] = kept
    out["events"] = [e for e in history.get("events", []) if e.get("step", 0) <= step]
    return out


def curve(history: dict, name: str, *, table: str = "epochs") -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` of ``name`` in a history's ``table`` ("epochs" or "steps")."""
    if table not in TABLES:
        raise ParameterError(f"table={table!r} is not one of {TABLES}")
    points = history.get(table, {})
    if name not in points:
        raise ParameterError(f"{name!r} is not in the history's {table!r} table "
                             f"(it has {sorted(points)})")
    steps, values = zip(*points[name]) if points[name] else ((), ())
    return np.asarray(steps, dtype=int), np.asarray(values, dtype=float)


class HistoryLogger(keras.callbacks.Callback):
    """Fill a history (and TensorBoard) with every step's and every epoch's logs.

    ``history`` is extended in place, so a resumed run continues the curves of the
    run it resumes. Scalars go to TensorBoard under ``train/<name>`` (steps) and
    ``epoch/<name>`` (epochs) in ``log_dir``; without the ``tensorboard`` package
    nothing is written (one warning) and the history is still kept.
    """

    def __init__(self, history: dict, log_dir: str | os.PathLike | TensorBoardWriter | None, *,
                 every_n_steps: int = 10) -> None:
        super().__init__()
        if every_n_steps < 1:
            raise ParameterError(f"every_n_steps={every_n_steps} must be a positive integer")
        self.history, self.every_n_steps = history, every_n_steps
        self.writer = TensorBoardWriter.of(log_dir)

    def on_train_batch_end(self, batch, logs=None) -> None:
        step = global_step(self.model)
        if step % self.every_n_steps == 0:
            self._record("steps", step, logs)

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._record("epochs", global_step(self.model), logs)
        if self.writer is not None:
            self.writer.flush()

    def _record(self, table: str, step: int, logs) -> None:
        for name, value in (logs or {}).items():
            value = float(value)
            self.history[table].setdefault(name, []).append([step, value])
            if self.writer is not None:
                self.writer.scalar(f"{'train' if table == 'steps' else 'epoch'}/{name}", value, step)


class AudioSnapshots(keras.callbacks.Callback):
    """Vocode fixed mels at every epoch end: hear a vocoder learn, in TensorBoard and in a notebook.

    ``mels [B, frames, n_mels]`` go through ``model.generator`` (or ``model``); the
    waveforms are kept in :attr:`audio` as ``[(step, waves [B, samples]), ...]``,
    written to TensorBoard as ``vocoded/<i>`` and, with ``directory``, to
    ``directory/audio.npz`` (:func:`save_audio`), so a resumed run shows them all.
    """

    def __init__(self, mels, *, sr: int, log_dir: str | os.PathLike | TensorBoardWriter | None = None,
                 directory: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.mels, self.sr = np.asarray(mels, dtype="float32"), sr
        if self.mels.ndim != 3:
            raise ParameterError(f"mels of shape {self.mels.shape}: need [batch, frames, n_mels]")
        self.audio: list = []
        self.writer = TensorBoardWriter.of(log_dir)
        self.directory = directory

    def on_epoch_end(self, epoch, logs=None) -> None:
        generator = getattr(self.model, "generator", self.model)
        waves = np.asarray(ops.convert_to_numpy(generator(self.mels, training=False)))
        waves = waves[..., 0] if waves.ndim == 3 else waves       # [B, T, 1] (MelGAN) or [B, T]
        step = global_step(self.model)
        self.audio.append((step, waves))
        if self.directory is not None:
            save_audio(self.directory, self.audio)
        if self.writer is not None:
            for i, wave in enumerate(waves):
                self.writer.audio(f"vocoded/{i}", wave, step, sr=self.sr)
            self.writer.flush()


class TensorBoardWriter:
    """Scalars and audio into a TensorBoard log folder, opened on first use.

    Writer: ``tf.summary`` on the TensorFlow backend, ``torch.utils.tensorboard`` on
    PyTorch, each falling back to the other; both need the ``tensorboard`` package.
    Without it, :meth:`scalar` and :meth:`audio` do nothing (after one warning).
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        self.log_dir, self._writer = os.fspath(log_dir), None

    @classmethod
    def of(cls, log_dir: str | os.PathLike | TensorBoardWriter | None) -> TensorBoardWriter | None:
        """``log_dir`` as a writer: a writer is shared as it is, a path gets a new one, ``None`` none."""
        if log_dir is None or isinstance(log_dir, TensorBoardWriter):
            return log_dir
        return cls(log_dir)

    def scalar(self, name: str, value: float, step: int) -> None:
        self._write("scalar", name, value, step)

    def audio(self, name: str, wave: np.ndarray, step: int, *, sr: int) -> None:
        self._write("audio", name, np.clip(wave, -1, 1), step, sr=sr)

    def flush(self) -> None:
        if self._writer not in (None, False):
            self._writer[1].flush()

    def _write(self, kind: str, name: str, value, step: int, sr: int = 0) -> None:
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
                    tf.summary.audio(name, value[None, :, None], sr)
        elif kind == "scalar":
            writer.add_scalar(name, value, step)
        else:
            writer.add_audio(name, value, step, sample_rate=sr)


AUDIO = "audio.npz"
"""File of the audio snapshots in a run folder (and beside its checkpoint)."""


def save_audio(directory: str | os.PathLike, audio: list) -> None:
    """Write ``[(step, waves [B, samples]), ...]`` to ``directory/audio.npz`` (atomically)."""
    if not audio:
        return
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{AUDIO}.tmp.npz"
    np.savez(tmp, steps=np.asarray([s for s, _ in audio]), waves=np.stack([w for _, w in audio]))
    os.replace(tmp, directory / AUDIO)


def load_audio(directory: str | os.PathLike, *, up_to_step: int | None = None) -> list:
    """The snapshots :func:`save_audio` wrote (those up to ``up_to_step``); ``[]`` when none."""
    path = Path(directory) / AUDIO
    if not path.is_file():
        return []
    with np.load(path) as data:
        return [(int(s), w) for s, w in zip(data["steps"], data["waves"])
                if up_to_step is None or s <= up_to_step]


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
    warnings.warn("the tensorboard package is not installed; losses and audio are kept in "
                  "the run's history only", RuntimeWarning, stacklevel=4)
    return False


__all__ = ["AUDIO", "AudioSnapshots", "HistoryLogger", "TensorBoardWriter", "curve", "load_audio",
           "new_history", "save_audio", "truncate"]
