"""The training stack: one ``train_or_load`` for every model of the kit.

- ``voicelab.train.run``: :func:`train_or_load`, :func:`load_run`, the run folder, :class:`Phase`;
  :func:`recipe_fields` and :func:`config_changes`, what a run was trained with against what is asked.
- ``voicelab.train.callbacks``: the blow-up guard, resumable checkpoints, :class:`InterruptAfter`.
- ``voicelab.train.history``: the one history format, TensorBoard, audio snapshots.
- ``voicelab.train.backend_steps``: the only backend-specific code, the gradient steps
  of models with several optimizers (GANs).

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb`` and ``notebooks/03_melgan_vocoder.ipynb``.
Model-agnostic: it sits below ``voicelab.models`` and never imports it.
"""

from voicelab.train.callbacks import (
    BlowUpGuard,
    Checkpoint,
    InterruptAfter,
    ScaledSchedule,
    TrainingInterrupted,
)
from voicelab.train.history import curve
from voicelab.train.run import Phase, Run, config_changes, is_trained, load_run, recipe_fields, train_or_load

__all__ = ["BlowUpGuard", "Checkpoint", "InterruptAfter", "Phase", "Run", "ScaledSchedule", "TrainingInterrupted",
           "config_changes", "curve", "is_trained", "load_run", "recipe_fields", "train_or_load"]
