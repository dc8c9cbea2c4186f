"""Recipe of notebook 03: the MelGAN vocoder of each profile, trained or loaded, and the kit's vocoder.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``; ``benchmarks/evaluate_vocoder.py``
and ``benchmarks/vocoder.py`` import the same recipe, so they rebuild exactly what the
notebook trained.

- :class:`VocoderRecipe` / :func:`recipe`: everything a profile fixes (network sizes,
  steps, batch, window, the Griffin-Lim baseline, how many test sentences are scored),
  a frozen dataclass; change a field with ``dataclasses.replace`` in plain sight.
- :func:`train_or_load`: the generator, through the kit's one training stack
  (:func:`voicelab.train.train_or_load`): warm-up then GAN phases, resume, blow-up
  guard, history, audio snapshots.
- :func:`load_vocoder`: the kit's default vocoder for a profile (the trained MelGAN of
  notebook 03), or Griffin-Lim with a visible message when none is trained yet.
  Notebook 02 and the later notebooks use it.

Run folders: ``DATA_DIR/models/melgan-<profile>/`` (and ``...-ablation-<variant>/``).

Example
-------
>>> r = recipe("quick")
>>> r.model.generator_channels, r.plan.steps, r.plan.warmup_steps
(128, 1700, 1400)
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np

from voicelab.data.manifest import Manifest
from voicelab.data.pipeline import AudioSegments
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.melgan import MelGAN, MelGANConfig
from voicelab.models.weight_norm import remove_weight_norm
from voicelab.profiles import check_profile, pick
from voicelab.train import BlowUpGuard, Phase, Run, is_trained, load_run
from voicelab.train import train_or_load as train_run
from voicelab.vocoders import Vocoder, griffin_lim_vocoder, neural_vocoder


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

    def phases(self, steps_per_epoch: int) -> list[Phase]:
        """The warm-up and GAN phases in whole epochs of ``steps_per_epoch`` steps."""
        warmup = math.ceil(self.warmup_steps / steps_per_epoch)
        gan = math.ceil((self.steps - self.warmup_steps) / steps_per_epoch)
        return [Phase("warmup", warmup), Phase("gan", gan)]


@dataclasses.dataclass(frozen=True)
class VocoderRecipe:
    """Everything notebook 03 trains and measures in one profile.

    Attributes
    ----------
    profile : str
    model : MelGANConfig
        The network (and its losses and optimizers).
    plan : TrainingPlan
        The training budget.
    ablation_steps : int
        GAN-only steps of each ablation run (plain MelGAN has no warm-up).
    gl_iters : int
        Griffin-Lim iterations of the baseline.
    n_eval : int
        Test sentences per speaker in the metric tables.
    jit_compile : bool or "auto"
        Keras's XLA switch: compiling pays off only over many steps.
    run_eagerly : bool
        No graph at all: a smoke run of 2 steps traces more than it runs.
    """

    profile: str
    model: MelGANConfig
    plan: TrainingPlan
    ablation_steps: int
    gl_iters: int
    n_eval: int
    jit_compile: bool | str = "auto"
    run_eagerly: bool = False

    @property
    def name(self) -> str:
        """The run folder's name, ``melgan-<profile>``."""
        return f"melgan-{self.profile}"

    def ablation(self, variant: str) -> VocoderRecipe:
        """The same recipe for an ablation run: ``variant`` losses, GAN steps only."""
        return dataclasses.replace(
            self, model=dataclasses.replace(self.model, ablation=variant),
            plan=dataclasses.replace(self.plan, warmup_steps=0, steps=self.ablation_steps))


def recipe(profile: str, *, audio: AudioConfig = AudioConfig()) -> VocoderRecipe:
    """Notebook 03's recipe: tiny (smoke), CPU-sized (quick) or the paper's MelGAN (full).

    Example
    -------
    >>> recipe("smoke").plan
    TrainingPlan(steps=2, batch_size=2, segment_frames=16, warmup_steps=1, steps_per_epoch=100)
    """
    check_profile(profile)
    model = MelGANConfig(
        audio=audio,
        generator_channels=pick(profile, smoke=32, quick=128, full=512),
        discriminator_max_channels=pick(profile, smoke=64, quick=256, full=1024),
    )
    plan = pick(profile,
                smoke=TrainingPlan(steps=2, batch_size=2, segment_frames=16, warmup_steps=1),
                quick=TrainingPlan(steps=1700, batch_size=4, segment_frames=32, warmup_steps=1400),
                full=TrainingPlan(steps=200_000, batch_size=16, segment_frames=32, warmup_steps=20_000,
                                  steps_per_epoch=1000))
    return VocoderRecipe(
        profile=profile, model=model, plan=plan,
        ablation_steps=pick(profile, smoke=2, quick=200, full=50_000),
        gl_iters=pick(profile, smoke=8, quick=64, full=100),
        n_eval=pick(profile, smoke=1, quick=3, full=10),
        jit_compile=pick(profile, smoke=False, quick="auto", full="auto"),
        run_eagerly=profile == "smoke",
    )


def train_or_load(
    r: VocoderRecipe,
    corpus: Manifest,
    *,
    models_dir: str | os.PathLike,
    name: str | None = None,
    retrain: bool = False,
    seed: int = 0,
    snapshot_mels: np.ndarray | None = None,
    cache_dir: str | os.PathLike | None = None,
    verbose: int | str = "auto",
    callbacks=(),
) -> Run:
    """The generator of recipe ``r`` trained on ``corpus`` (the caller picks the split), or loaded.

    The run folder is ``models_dir/<name>`` (default ``r.name``); its ``model.keras`` is
    the generator with weight norm folded. ``snapshot_mels [B, frames, n_mels]`` are
    vocoded at every epoch end (TensorBoard audio, and ``Run.audio`` for players).
    """
    folder = Path(models_dir) / (name or r.name)
    if is_trained(folder) and not retrain:
        return load_run(folder)
    plan = r.plan
    segments = AudioSegments(corpus, config=r.model.audio, segment_frames=plan.segment_frames,
                             batch_size=plan.batch_size, seed=seed, cache_dir=cache_dir,
                             drop_remainder=True, map_fn=lambda b: (b["mel"], b["audio"]))
    steps_per_epoch = min(len(segments), plan.steps, plan.steps_per_epoch)

    def build() -> MelGAN:
        gan = MelGAN(r.model)
        gan.compile(jit_compile=r.jit_compile, run_eagerly=r.run_eagerly)
        return gan

    return train_run(
        folder, build=build, train=segments, phases=plan.phases(steps_per_epoch),
        steps_per_epoch=steps_per_epoch, retrain=retrain, config=r,
        export=lambda gan: remove_weight_norm(gan.generator),
        snapshot_mels=snapshot_mels, sr=r.model.audio.sr,
        checkpoint_every=max(steps_per_epoch // 2, 1), log_every=max(plan.steps // 200, 1),
        guard=BlowUpGuard(snapshot_every=max(min(50, steps_per_epoch), 1)),
        callbacks=callbacks, verbose=verbose)


def load_vocoder(profile: str, *, data_dir: str | os.PathLike, config: AudioConfig = AudioConfig(),
                 n_iter: int | None = None, quiet: bool = False) -> Vocoder:
    """The kit's vocoder for ``profile``: notebook 03's trained MelGAN, else Griffin-Lim.

    When ``DATA_DIR/models/melgan-<profile>/`` holds no finished run, it says so (unless
    ``quiet``) and returns Griffin-Lim with the recipe's ``gl_iters`` (or ``n_iter``).
    """
    r = recipe(profile, audio=config)
    folder = Path(data_dir) / "models" / r.name
    if is_trained(folder):
        run = load_run(folder)
        if not quiet:
            print(f"vocoder: MelGAN from {folder} ({run.info['steps']} steps, {run.seconds:.0f} s of training)")
        return neural_vocoder(run.model, config)
    iters = n_iter or r.gl_iters
    if not quiet:
        print(f"vocoder: Griffin-Lim, {iters} iterations. No trained MelGAN in {folder}: "
              f"run notebooks/03_melgan_vocoder.ipynb with PROFILE={profile!r} for the neural one")
    return griffin_lim_vocoder(config, n_iter=iters)
