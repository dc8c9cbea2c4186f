"""The training stack: one ``train_or_load`` for every model of the kit.

- ``voicelab.train.run``: :func:`train_or_load`, :func:`load_run`, the run folder, :class:`Phase`;
  :func:`config_changes`, what a run was trained with against what is asked.
- ``voicelab.train.callbacks``: the blow-up guard, resumable checkpoints, :class:`InterruptAfter`.
- ``voicelab.train.history``: the one history format, TensorBoard, audio snapshots.
- ``voicelab.train.backend_steps``: the only backend-specific code: the gradient steps
  of models with several optimizers (GANs), compiled inference, one update of a loss
  (``minimize``) and a critic's input-gradient norm (WGAN-GP).

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb`` (``run``, ``callbacks``, ``history``)
and ``notebooks/03_melgan_vocoder.ipynb`` (``backend_steps``' GAN steps); notebook 04
trains through it unchanged, notebook 05's VoiceGAN adds ``minimize`` and the input
gradient. The models of notebooks 06-08 will train through the same stack.
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
from voicelab.train.run import Phase, Run, config_changes, is_trained, load_run, train_or_load

__all__ = ["BlowUpGuard", "Checkpoint", "InterruptAfter", "Phase", "Run", "ScaledSchedule", "TrainingInterrupted",
           "config_changes", "curve", "is_trained", "load_run", "train_or_load"]
