"""Training utilities for the TTS model: masked losses and the ``fit`` callbacks.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``.

- :func:`sequence_mask`: ``[B]`` lengths -> ``[B, T]`` 0/1 mask, used by every masked block.
- :func:`masked_mel_loss`: MSE + MAE on log-mel frames, padding frames excluded.
- :func:`duration_loss`: MSE on ``log(1 + frames)`` per symbol, padding symbols excluded.
- :func:`training_callbacks`: ``BackupAndRestore`` (resume after an interruption),
  ``ModelCheckpoint`` (a loadable ``.keras`` each epoch) and ``TensorBoard`` logs, laid
  out in one run folder.
- :class:`InterruptAfter`: stops ``fit`` with :class:`TrainingInterrupted` after a given
  number of batches, to show (and test) that a second ``fit`` resumes.

Run folder layout::

    run_dir/backup/          BackupAndRestore state (deleted when fit completes)
    run_dir/checkpoints/last.keras
    run_dir/logs/            TensorBoard: tensorboard --logdir run_dir/logs

Example
-------
>>> import tempfile
>>> [type(cb).__name__ for cb in training_callbacks(tempfile.mkdtemp())]
['BackupAndRestore', 'ModelCheckpoint', 'TensorBoard']
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import ops

from voicelab.errors import ParameterError


def sequence_mask(lengths, maxlen, dtype="float32"):
    """``[B]`` lengths -> ``[B, maxlen]`` mask, 1 at real positions, 0 at padding."""
    positions = ops.arange(maxlen, dtype="int32")
    return ops.cast(ops.less(positions[None, :], ops.cast(lengths, "int32")[:, None]), dtype)


def masked_mel_loss(mel_true, mel_pred, mel_length):
    """MSE + MAE over the real frames of a padded batch of mels ``[B, F, n_mels]``.

    Each real value counts once, whatever the padding: the sums are divided by the
    number of real frames times ``n_mels``.

    Example
    -------
    >>> import numpy as np
    >>> t = np.zeros((1, 4, 2), "float32"); p = t.copy(); p[0, 3] = 9.0  # frame 3 is padding
    >>> float(masked_mel_loss(t, p, np.array([3])))
    0.0
    """
    mel_true = ops.convert_to_tensor(mel_true)
    mask = sequence_mask(mel_length, ops.shape(mel_true)[1])[..., None]
    diff = (ops.convert_to_tensor(mel_pred) - mel_true) * mask
    count = ops.maximum(ops.sum(mask) * ops.cast(ops.shape(mel_true)[2], "float32"), 1.0)
    return (ops.sum(ops.square(diff)) + ops.sum(ops.abs(diff))) / count


def duration_loss(durations, log_durations_pred, token_length):
    """MSE between predicted and true ``log(1 + frames)`` over the real symbols.

    Example
    -------
    >>> import numpy as np
    >>> d = np.array([[3, 1, 0]]); pred = np.log1p(d).astype("float32"); pred[0, 2] = 5.0
    >>> round(float(duration_loss(d, pred, np.array([2]))), 6)
    0.0
    """
    target = ops.log1p(ops.cast(durations, "float32"))
    mask = sequence_mask(token_length, ops.shape(target)[1])
    err = (ops.convert_to_tensor(log_durations_pred) - target) * mask
    return ops.sum(ops.square(err)) / ops.maximum(ops.sum(mask), 1.0)


class TrainingInterrupted(RuntimeError):
    """Raised by :class:`InterruptAfter`; stands for a crash, a pre-emption or Ctrl-C."""


class InterruptAfter(keras.callbacks.Callback):
    """Raise :class:`TrainingInterrupted` once ``batches`` training batches have run.

    Counts batches over the whole ``fit`` call, across epochs.
    """

    def __init__(self, batches: int):
        super().__init__()
        if batches < 1:
            raise ParameterError(f"batches={batches} must be a positive integer")
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen >= self.batches:
            raise TrainingInterrupted(f"training interrupted after {self.seen} batches")


def training_callbacks(run_dir: str | Path, *, backup_every: str | int = "epoch",
                       checkpoint: bool = True, tensorboard: bool = True) -> list:
    """The callbacks of a resumable, logged training run in ``run_dir``.

    Parameters
    ----------
    run_dir : path
        Folder of this run (created). Pass the same folder again to resume.
    backup_every : "epoch" or int
        Back up the training state at each epoch end, or every that many batches. On
        resume Keras restarts at the backed-up epoch (from its first batch) with the
        backed-up weights and optimizer state.
    checkpoint, tensorboard : bool
        Add ``ModelCheckpoint`` (``checkpoints/last.keras``) / ``TensorBoard`` (``logs/``).
    """
    if backup_every != "epoch" and (isinstance(backup_every, bool) or not isinstance(backup_every, int)
                                    or backup_every < 1):
        raise ParameterError(f"backup_every={backup_every!r} must be 'epoch' or a positive integer")
    run_dir = Path(run_dir)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    callbacks: list = [keras.callbacks.BackupAndRestore(str(run_dir / "backup"), save_freq=backup_every)]
    if checkpoint:
        callbacks.append(keras.callbacks.ModelCheckpoint(str(run_dir / "checkpoints" / "last.keras")))
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False))
    return callbacks
