"""Train (or load) a MelGAN vocoder for a profile, and score vocoders side by side.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``; ``benchmarks/evaluate_vocoder.py``
uses the same functions, so the notebook and the script report the same figures.

- :func:`melgan_config`: the MelGAN sizes of each run profile.
- :func:`train_or_load`: load ``DATA_DIR/models/<name>.keras`` when it exists (and
  ``retrain`` is False), else train with checkpoints (an interrupted run resumes), the
  blow-up guard and TensorBoard, and save the folded generator and its loss curves.
- :func:`evaluate_vocoders`: PESQ-WB, STOI, MCD and spectral convergence of several
  systems on the same test utterances; :func:`metric_table` averages them.

Layouts: mel ``[frames, n_mels]`` (time-major natural-log mel), audio ``[samples]``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np

from voicelab import evaluate, features, griffin_lim
from voicelab.data.manifest import Manifest
from voicelab.data.pipeline import AudioSegments, FeatureCache
from voicelab.errors import ParameterError
from voicelab.features import AudioConfig
from voicelab.models.melgan import MelGAN, MelGANConfig, load_generator, save_generator
from voicelab.profiles import check_profile, pick
from voicelab.training import BlowUpGuard, Checkpoint, TensorBoardLogger

METRICS = ("pesq_wb", "stoi", "mcd", "sc")
"""Metric names of :func:`evaluate_vocoders`: higher is better for the first two."""


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """How long and on what a profile trains: ``steps`` updates of ``batch_size`` windows.

    The first ``warmup_steps`` of the ``steps`` update the generator alone on the STFT
    loss (Parallel WaveGAN's warm-up; a step costs about a quarter of a GAN step on a
    CPU); the discriminator joins after them. Both phases are rounded up to whole
    epochs of ``steps_per_epoch``.
    """

    steps: int
    batch_size: int
    segment_frames: int
    warmup_steps: int = 0
    steps_per_epoch: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.warmup_steps < self.steps:
            raise ParameterError(f"warmup_steps={self.warmup_steps} must be in [0, steps={self.steps})")
        if min(self.steps, self.batch_size, self.segment_frames, self.steps_per_epoch) < 1:
            raise ParameterError(f"{self}: steps, batch_size, segment_frames and steps_per_epoch must be >= 1")


def melgan_config(profile: str, *, audio: AudioConfig = AudioConfig(),
                  ablation: str = "paper+stft") -> MelGANConfig:
    """The MelGAN of a profile: tiny (smoke), CPU-sized (quick) or the paper's (full).

    Example
    -------
    >>> melgan_config("quick").generator_channels
    128
    """
    check_profile(profile)
    return MelGANConfig(
        audio=audio, ablation=ablation,
        generator_channels=pick(profile, smoke=32, quick=128, full=512),
        discriminator_max_channels=pick(profile, smoke=64, quick=256, full=1024),
    )


def training_plan(profile: str) -> TrainingPlan:
    """Steps, batch size and window length of a profile (``full`` is the paper's batch).

    Example
    -------
    >>> training_plan("smoke")
    TrainingPlan(steps=2, batch_size=2, segment_frames=16, warmup_steps=1, steps_per_epoch=100)
    """
    return pick(profile,
                smoke=TrainingPlan(steps=2, batch_size=2, segment_frames=16, warmup_steps=1),
                quick=TrainingPlan(steps=1700, batch_size=4, segment_frames=32, warmup_steps=1400),
                full=TrainingPlan(steps=200_000, batch_size=16, segment_frames=32, warmup_steps=20_000,
                                  steps_per_epoch=1000))


def ablation_plan(profile: str) -> TrainingPlan:
    """The shared budget of the ablation runs: GAN steps only (plain MelGAN has no warm-up).

    Example
    -------
    >>> ablation_plan("quick").steps, ablation_plan("quick").warmup_steps
    (200, 0)
    """
    plan = training_plan(profile)
    return dataclasses.replace(plan, warmup_steps=0,
                               steps=pick(profile, smoke=2, quick=200, full=50_000))


def train_or_load(
    corpus: Manifest,
    *,
    name: str,
    models_dir: str | os.PathLike,
    config: MelGANConfig,
    plan: TrainingPlan,
    retrain: bool = False,
    seed: int = 0,
    log_mels: np.ndarray | None = None,
    cache_dir: str | os.PathLike | None = None,
    verbose: int | str = "auto",
    jit_compile: bool | str = "auto",
    run_eagerly: bool = False,
) -> tuple[keras.Model, dict[str, list]]:
    """The generator ``models_dir/<name>.keras`` and its loss curves, training if needed.

    Parameters
    ----------
    corpus : Manifest
        Training utterances (the caller picks the split).
    name : str
        File stem: ``<name>.keras`` (generator, weight norm folded), ``<name>.json``
        (loss curves), ``<name>-ckpt/`` (resumable state), ``<name>-logs/`` (TensorBoard).
    config, plan : MelGANConfig, TrainingPlan
        The network and how long to train it.
    retrain : bool
        Train from scratch even when ``<name>.keras`` exists. Without it an existing
        model is loaded, and a checkpoint left by an interrupted run is resumed.
    log_mels : np.ndarray, optional
        ``[B, frames, n_mels]`` vocoded into TensorBoard (and kept) at every epoch end.
    jit_compile : bool or "auto"
        Keras's XLA switch for the training step; ``False`` skips the compile time
        (the right call for a few steps).
    run_eagerly : bool
        Run the step eagerly: no graph tracing at all (a smoke run of 2 steps).

    Returns
    -------
    generator, history
        ``history`` maps each logged value to ``[(step, value), ...]``, plus
        ``"blow_ups"``: the guard's events.
    """
    models_dir = Path(models_dir)
    model_path, history_path = models_dir / f"{name}.keras", models_dir / f"{name}.json"
    ckpt_dir, log_dir = models_dir / f"{name}-ckpt", models_dir / f"{name}-logs"
    if model_path.is_file() and not retrain:
        history = json.loads(history_path.read_text()) if history_path.is_file() else {}
        return load_generator(model_path), history
    if retrain:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    models_dir.mkdir(parents=True, exist_ok=True)

    segments = AudioSegments(corpus, config=config.audio, segment_frames=plan.segment_frames,
                             batch_size=plan.batch_size, seed=seed, cache_dir=cache_dir,
                             drop_remainder=True, map_fn=lambda b: (b["mel"], b["audio"]))
    steps_per_epoch = min(len(segments), plan.steps, plan.steps_per_epoch)
    warmup_epochs = math.ceil(plan.warmup_steps / steps_per_epoch)
    epochs = warmup_epochs + math.ceil((plan.steps - plan.warmup_steps) / steps_per_epoch)
    gan = MelGAN(config)
    gan.compile(jit_compile=jit_compile, run_eagerly=run_eagerly)
    checkpoint = Checkpoint(ckpt_dir, every_n_steps=max(steps_per_epoch // 2, 1))
    guard = BlowUpGuard(snapshot_every=max(min(50, steps_per_epoch), 1))
    logger = TensorBoardLogger(log_dir, log_mels, sr=config.audio.sr,
                               every_n_steps=max(plan.steps // 200, 1))
    initial_epoch = checkpoint.restore(gan)
    previous = json.loads((ckpt_dir / "history.json").read_text()) \
        if initial_epoch and (ckpt_dir / "history.json").is_file() else {}
    # the guard first: a recovered step is never checkpointed
    callbacks = [guard, logger, checkpoint, _HistorySaver(ckpt_dir, logger, previous)]
    for warming_up, last_epoch in ((True, warmup_epochs), (False, epochs)):
        if initial_epoch < last_epoch:      # a resumed run skips the phases it finished
            gan.warming_up = warming_up
            gan.fit(segments, epochs=last_epoch, steps_per_epoch=steps_per_epoch,
                    initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose)
            initial_epoch = last_epoch
    history = _merge(previous, logger.scalars)
    history["blow_ups"] = guard.events
    generator = save_generator(gan.generator, model_path)
    history_path.write_text(json.dumps(history))
    return generator, history


def _merge(previous: Mapping[str, list], scalars: Mapping[str, list]) -> dict[str, list]:
    merged = {k: [list(p) for p in v] for k, v in previous.items() if k != "blow_ups"}
    for key, points in scalars.items():
        merged.setdefault(key, []).extend([int(s), float(v)] for s, v in points)
    return merged


class _HistorySaver(keras.callbacks.Callback):
    """Keep the loss curves next to the checkpoint, so a resumed run plots them whole."""

    def __init__(self, directory: Path, logger: TensorBoardLogger, previous: dict) -> None:
        super().__init__()
        self.directory, self.logger, self.previous = directory, logger, previous

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "history.json").write_text(
            json.dumps(_merge(self.previous, self.logger.scalars)))


def curves(history: Mapping[str, list], keys: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(steps, {key: values})`` from :func:`train_or_load`'s history, for plotting."""
    missing = [k for k in keys if k not in history]
    if missing:
        raise ParameterError(f"keys {missing} not in history (it has {sorted(history)})")
    steps = np.asarray([s for s, _ in history[keys[0]]])
    return steps, {k: np.asarray([v for _, v in history[k]], dtype=float) for k in keys}


def griffin_lim_vocoder(config: AudioConfig, *, n_iter: int = 32) -> Callable[[np.ndarray], np.ndarray]:
    """A ``mel -> audio`` function: mel pseudo-inverse, then ``n_iter`` Griffin-Lim iterations."""
    def vocode(mel: np.ndarray) -> np.ndarray:
        n = (len(mel) - 1) * config.hop_length
        return griffin_lim.mel_to_audio(np.exp(mel), config=config, n_iter=n_iter, length=n)
    return vocode


def evaluate_vocoders(
    utterances: Manifest,
    systems: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    *,
    config: AudioConfig = AudioConfig(),
    cache_dir: str | os.PathLike | None = None,
    return_audio: bool = False,
) -> list[dict] | tuple[list[dict], dict]:
    """Score each system on each utterance against the recording.

    Every system gets the recording's log-mel ``[frames, n_mels]`` and returns audio;
    it is trimmed or zero-padded to the recording's length, then judged with PESQ-WB,
    STOI, MCD (dB) and spectral convergence (of its STFT magnitude against the
    recording's). Include ``"ground truth": None`` among ``systems`` to score the
    recording itself (the metrics' ceiling).

    Returns
    -------
    rows : list of dict
        ``{"id", "speaker", "system", "pesq_wb", "stoi", "mcd", "sc"}`` per pair.
    audio : dict, only with ``return_audio``
        ``{utterance id: {system: audio}}``.
    """
    from librosa.util import fix_length

    if not systems:
        raise ParameterError("systems is empty: give {name: mel -> audio}")
    cache = FeatureCache(utterances, config, cache_dir)
    rows, clips = [], {}
    for utt in utterances:
        y, mel = cache.load(utt)
        reference = features.magnitude(y, config=config)
        clips[utt.id] = {}
        for system, vocode in systems.items():
            est = y if vocode is None else np.asarray(vocode(mel), dtype=np.float32).ravel()
            est = fix_length(est, size=len(y))
            clips[utt.id][system] = est
            rows.append({
                "id": utt.id, "speaker": utt.speaker, "system": system,
                "pesq_wb": evaluate.pesq_wb(y, est, sr=config.sr),
                "stoi": evaluate.stoi(y, est, sr=config.sr),
                "mcd": evaluate.mel_cepstral_distortion(y, est, sr=config.sr),
                "sc": float(griffin_lim.spectral_convergence_from_audio(est, reference, config=config)),
            })
    return (rows, clips) if return_audio else rows


def metric_table(rows: Sequence[Mapping], *, by: Sequence[str] = ("system",)) -> list[dict]:
    """Mean of every metric per group (``by`` keys), in first-seen order, with ``n``.

    Example
    -------
    >>> metric_table([{"system": "a", "pesq_wb": 2.0, "stoi": 0.8, "mcd": 5.0, "sc": 0.2},
    ...               {"system": "a", "pesq_wb": 3.0, "stoi": 0.9, "mcd": 4.0, "sc": 0.1}])
    [{'system': 'a', 'n': 2, 'pesq_wb': 2.5, 'stoi': 0.85, 'mcd': 4.5, 'sc': 0.15}]
    """
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in by), []).append(row)
    return [{**dict(zip(by, key)), "n": len(members),
             **{m: round(float(np.mean([r[m] for r in members])), 4) for m in METRICS}}
            for key, members in groups.items()]


def format_table(table: Sequence[Mapping]) -> str:
    """A plain-text table (one line per row, columns aligned) of :func:`metric_table`."""
    if not table:
        return "(empty table)"
    cols = list(table[0])
    cells = [[f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in table]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
