"""Recipe of notebook 03: the vocoders of each profile, trained or loaded, and the kit's vocoder.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``; ``benchmarks/evaluate_vocoder.py``
and ``benchmarks/vocoder.py`` import the same recipe, so they rebuild exactly what the
notebook trained.

- :class:`VocoderRecipe` / :func:`recipe`: everything a profile fixes (network sizes,
  steps, batch, window, the Griffin-Lim baseline, how many test sentences are scored),
  a frozen dataclass following the kit's contract (:mod:`voicelab.recipes.base`).
- :func:`train_or_load_melgan`: MelGAN's generator, through the kit's one training stack
  (:func:`voicelab.train.train_or_load`): warm-up then GAN phases, resume, blow-up
  guard, history, audio snapshots.
- :func:`train_or_load_istft`: the iSTFT vocoder (``voicelab.models.istft_vocoder``)
  with the mel pseudo-inverse as its magnitude prior, regression only (mel L1 +
  multi-resolution STFT + phase losses), AdamW with a cosine decay; the kit's
  **default vocoder**, chosen by measurement (notebook 03, README).
  ``start_from=`` and ``mels=`` adapt a trained one to notebook 02's (teacher-forced)
  mels, so that it renders the acoustic model's smoother mels.

The other notebooks load the kit's vocoder with :func:`voicelab.artifacts.load_vocoder`
(Griffin-Lim, with a message, until it is trained); ``python -m voicelab train vocoder``
trains it without this notebook.

Run folders: ``DATA_DIR/models/istft-<profile>/``, ``.../istft-adapted-<profile>/``,
``DATA_DIR/models/melgan-<profile>/`` (and ``...-ablation-<variant>/``).

Example
-------
>>> r = recipe("quick")
>>> r.model.generator_channels, r.plan.steps, r.plan.warmup_steps, r.istft_plan.steps, r.adapt_plan.steps
(256, 600, 500, 3000, 300)
>>> r.run_name("istft"), r.run_name("adapted"), recipe("quick", seed=1).run_name("melgan")
('istft-quick', 'istft-adapted-quick', 'melgan-quick-seed1')
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras
import numpy as np

from voicelab.data.manifest import Manifest
from voicelab.data.pipeline import AudioSegments
from voicelab.data.speakers import speak
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.istft_vocoder import (
    ISTFTVocoderConfig,
    build_istft_vocoder,
    vocoder_loss,
)
from voicelab.models.melgan import MelGAN, MelGANConfig
from voicelab.models.weight_norm import remove_weight_norm
from voicelab.profiles import pick
from voicelab.recipes.base import Recipe
from voicelab.train import BlowUpGuard, Phase, Run, ScaledSchedule, is_trained, load_run
from voicelab.train import train_or_load as train_run


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
        """The warm-up and GAN phases in whole epochs of ``steps_per_epoch`` steps (nearest, at least 1)."""
        return [Phase("warmup", _epochs(self.warmup_steps, steps_per_epoch)),
                Phase("gan", _epochs(self.steps - self.warmup_steps, steps_per_epoch))]


def _epochs(steps: int, steps_per_epoch: int) -> int:
    """Whole epochs nearest to ``steps`` steps; at least one unless ``steps`` is 0."""
    return 0 if steps == 0 else max(1, round(steps / steps_per_epoch))


def steps_per_epoch_for(n_batches: int, cap: int) -> int:
    """The largest divisor of ``n_batches`` that is at most ``cap``.

    Keras's ``fit(steps_per_epoch=...)`` keeps reading a dataset across epochs and ends
    an epoch early when a pass over the data runs out in its middle, so an epoch size
    that does not divide the batches loses steps. (Measured: 100 steps per epoch over
    120 batches trained 1,440 of 2,400 planned steps.)

    Example
    -------
    >>> steps_per_epoch_for(480, 100), steps_per_epoch_for(120, 100), steps_per_epoch_for(80, 2)
    (96, 60, 2)
    """
    cap = max(1, min(cap, n_batches))
    return max(d for d in range(1, cap + 1) if n_batches % d == 0)


@dataclasses.dataclass(frozen=True)
class RegressionPlan:
    """The iSTFT vocoder's budget: ``steps`` AdamW updates of ``batch_size`` windows.

    The learning rate decays from ``learning_rate`` to ``final_fraction`` of it along a
    cosine over the ``steps`` (Keras's ``CosineDecay``), wrapped in a
    :class:`~voicelab.train.ScaledSchedule` so the blow-up guard can lower it.
    """

    steps: int
    batch_size: int
    segment_frames: int
    learning_rate: float = 1e-3
    final_fraction: float = 0.05
    weight_decay: float = 0.01
    clipnorm: float = 100.0
    steps_per_epoch: int = 100

    def __post_init__(self) -> None:
        if min(self.steps, self.batch_size, self.segment_frames, self.steps_per_epoch) < 1:
            raise ParameterError(f"{self}: steps, batch_size, segment_frames and steps_per_epoch must be >= 1")
        if not self.learning_rate > 0:
            raise ParameterError(f"learning_rate={self.learning_rate} must be positive")

    def optimizer(self) -> keras.optimizers.Optimizer:
        """AdamW(betas 0.9 / 0.999) on the cosine schedule, global gradient norm clipped."""
        decay = keras.optimizers.schedules.CosineDecay(self.learning_rate, self.steps, alpha=self.final_fraction)
        return keras.optimizers.AdamW(ScaledSchedule(decay), beta_1=0.9, beta_2=0.999,
                                      weight_decay=self.weight_decay, global_clipnorm=self.clipnorm)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VocoderRecipe(Recipe):
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
    istft : ISTFTVocoderConfig
        The default vocoder's network and loss weights.
    istft_plan : RegressionPlan
        Its budget.
    adapt_plan : RegressionPlan
        The budget of adapting the trained iSTFT vocoder to an acoustic model's mels
        (:func:`train_or_load_istft` with ``start_from``): fewer steps, a lower learning rate.
    jit_compile : bool or "auto"
        Keras's XLA switch: compiling pays off only over many steps.
    run_eagerly : bool
        No graph at all: a smoke run of 2 steps traces more than it runs.
    steps_fraction : float
        The share of the profile's steps this recipe trains (:meth:`with_steps`,
        :meth:`budget`); 1 for the kit's vocoders.
    """

    NOTEBOOK = "03"
    MODELS = {"melgan": "melgan", "istft": "istft", "adapted": "istft-adapted"}
    NOT_DEFINING = ("ablation_steps", "gl_iters", "n_eval", "jit_compile", "run_eagerly")
    ONLY = {"melgan": ("model", "plan", "steps_fraction"), "istft": ("istft", "istft_plan", "steps_fraction"),
            "adapted": ("istft", "istft_plan", "adapt_plan", "steps_fraction")}
    SHORT = {"steps_fraction": "x"}

    model: MelGANConfig
    plan: TrainingPlan
    ablation_steps: int
    gl_iters: int
    n_eval: int
    istft: ISTFTVocoderConfig = ISTFTVocoderConfig()
    istft_plan: RegressionPlan = RegressionPlan(steps=2, batch_size=2, segment_frames=16)
    adapt_plan: RegressionPlan = RegressionPlan(steps=2, batch_size=2, segment_frames=16, learning_rate=2e-4)
    jit_compile: bool | str = "auto"
    run_eagerly: bool = False
    steps_fraction: float = 1.0

    @classmethod
    def for_profile(cls, profile: str) -> VocoderRecipe:
        return recipe(profile)

    def with_steps(self, fraction: float) -> VocoderRecipe:
        """The recipe with every training's steps (and epochs) times ``fraction`` (:meth:`budget`).

        A small fraction checks that a profile runs end to end on a machine too slow to
        train it, e.g. ``full`` on a CPU. Its run folders are named apart (``-x<fraction>``),
        so :func:`voicelab.artifacts.load_vocoder` never serves such a check as the kit's vocoder.

        Example
        -------
        >>> r = recipe("full").with_steps(0.05)
        >>> plan = r.budget("istft")
        >>> plan.steps, plan.steps_per_epoch, r.budget("melgan").warmup_steps, r.budget("melgan").steps
        (50, 5, 8, 15)
        >>> r.run_name("istft")
        'istft-full-x0.05'
        """
        if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
            raise ParameterError(f"fraction={fraction!r} must be in (0, 1]")
        return dataclasses.replace(self, steps_fraction=self.steps_fraction * fraction)

    def budget(self, model: str):
        """The training plan of ``model`` (``"melgan"``, ``"istft"``, ``"adapted"``), its steps (and epochs)
        times ``steps_fraction``, at least one each."""
        self._check_model(model)
        plan = {"melgan": self.plan, "istft": self.istft_plan, "adapted": self.adapt_plan}[model]
        if self.steps_fraction == 1:
            return plan

        def scale(steps: int) -> int:
            return max(1, round(steps * self.steps_fraction))

        changes = {"steps": scale(plan.steps), "steps_per_epoch": scale(plan.steps_per_epoch)}
        if isinstance(plan, TrainingPlan) and plan.warmup_steps:   # the warm-up stays shorter than the whole
            changes["warmup_steps"] = min(scale(plan.warmup_steps), changes["steps"] - 1)
        return dataclasses.replace(plan, **changes)

    def ablation(self, variant: str) -> VocoderRecipe:
        """The same recipe for an ablation run: ``variant`` losses, GAN steps only."""
        return dataclasses.replace(
            self, model=dataclasses.replace(self.model, ablation=variant),
            plan=dataclasses.replace(self.plan, warmup_steps=0, steps=self.ablation_steps))


def recipe(profile: str, *, audio: AudioConfig = AudioConfig(), **changes) -> VocoderRecipe:
    """Notebook 03's recipe: tiny (smoke), CPU-sized (quick) or GPU-sized (full).

    ``quick`` fits the 15-minute CPU budget: the iSTFT vocoder 3000 steps (about 0.2 s a
    step on 2 quiet cores), its adaptation to notebook 02's mels 300 more, MelGAN 500
    warm-up and 100 GAN steps (the ablation, off by default in the notebook, adds 2 x 200
    GAN steps). Adapting for 300 steps did as well as for 600 (notebook 02's quick
    speaker-id model, 15 test sentences per speaker: MCD 6.57 and 6.58 dB, similarity
    0.873 both, WER ratio 1.72 and 1.69; notebook 03, section 12).

    ``full`` is sized by measurement for 8 minutes on one GPU
    (``benchmarks/full_profile_timing.py``, ``benchmarks/results/``). On an H200 with the
    PyTorch backend a step costs far more than its arithmetic and hardly depends on the
    batch: the iSTFT vocoder's took 0.28, 0.26 and 0.45 s with 32, 64 and 128 windows,
    MelGAN's warm-up 0.35 s with 16 or 32 and its GAN steps 0.45-0.63 s. So the iSTFT
    vocoder takes batches of 64 windows of 64 frames for 1,000 steps (264 s) and 200 of
    adaptation (53 s), MelGAN batches of 32 for 150 warm-up and 150 GAN steps (119 s):
    7.3 minutes. That is fewer updates than ``quick`` makes on 2 cores (each of 8 times
    the audio); the former 12,000 + 2,000 + 5,000 steps would have taken 106 minutes.
    Why a GPU step costs a quarter of a second is not yet profiled; until it is, ``full``
    is not expected to beat ``quick``'s vocoder, and its quality is not measured.

    Example
    -------
    >>> recipe("smoke").plan
    TrainingPlan(steps=2, batch_size=2, segment_frames=16, warmup_steps=1, steps_per_epoch=100)
    """
    model = MelGANConfig(
        audio=audio,
        # quick: three upsampling stages (8, 8, 4) from 256 channels leave the paper's 32
        # channels at the sample rate (four stages from 128 left 8)
        generator_channels=pick(profile, smoke=32, quick=256, full=512),
        upsample_factors=pick(profile, smoke=None, quick=(8, 8, 4), full=None),
        output_gain=pick(profile, smoke=1.0, quick=0.25, full=1.0),
        discriminator_max_channels=pick(profile, smoke=64, quick=256, full=1024),
    )
    plan = pick(profile,
                smoke=TrainingPlan(steps=2, batch_size=2, segment_frames=16, warmup_steps=1),
                quick=TrainingPlan(steps=600, batch_size=4, segment_frames=32, warmup_steps=500),
                # full: what is left of the 8-minute GPU budget beside the iSTFT vocoder
                # (measured, see the docstring); the paper trained for millions of steps
                full=TrainingPlan(steps=300, batch_size=32, segment_frames=32, warmup_steps=150,
                                  steps_per_epoch=50))
    return VocoderRecipe(
        profile=profile, audio=audio, model=model, plan=plan,
        ablation_steps=pick(profile, smoke=2, quick=200, full=150),
        gl_iters=pick(profile, smoke=8, quick=64, full=100),
        n_eval=pick(profile, smoke=1, quick=3, full=10),
        istft=ISTFTVocoderConfig(audio=audio, channels=pick(profile, smoke=16, quick=256, full=384),
                                 blocks=pick(profile, smoke=1, quick=6, full=8), phase_weight=5.0,
                                 magnitude_prior=True),
        istft_plan=pick(profile,
                        smoke=RegressionPlan(steps=2, batch_size=2, segment_frames=16),
                        quick=RegressionPlan(steps=3000, batch_size=16, segment_frames=32),
                        full=RegressionPlan(steps=1_000, batch_size=64, segment_frames=64, steps_per_epoch=100)),
        adapt_plan=pick(profile,
                        smoke=RegressionPlan(steps=2, batch_size=2, segment_frames=16, learning_rate=2e-4),
                        quick=RegressionPlan(steps=300, batch_size=16, segment_frames=32, learning_rate=2e-4),
                        full=RegressionPlan(steps=200, batch_size=64, segment_frames=64, learning_rate=2e-4,
                                            steps_per_epoch=100)),
        jit_compile=pick(profile, smoke=False, quick="auto", full="auto"),
        run_eagerly=profile == "smoke",
    ).with_changes(**changes)


def training_clips(corpus: Manifest) -> Manifest:
    """What the vocoders train on: every training clip of the corpus, every emotion (a vocoder needs no text)."""
    return corpus.filter(split="train")


def train_or_load_melgan(
    r: VocoderRecipe,
    corpus: Manifest,
    *,
    models_dir: str | os.PathLike,
    name: str | None = None,
    retrain: bool = False,
    snapshot_mels: np.ndarray | None = None,
    cache_dir: str | os.PathLike | None = None,
    verbose: int | str = 2,
    callbacks=(),
) -> Run:
    """The generator of recipe ``r`` trained on ``corpus`` (the caller picks the split), or loaded.

    The run folder is ``models_dir/<name>`` (default ``r.run_name("melgan")``; ``name``
    for an ablation run); its ``model.keras`` is the generator with weight norm folded.
    ``snapshot_mels [B, frames, n_mels]`` are vocoded at every epoch end (TensorBoard audio, and ``Run.audio`` for players).
    """
    plan = r.budget("melgan")

    def build() -> MelGAN:
        gan = MelGAN(r.model)
        gan.compile(jit_compile=r.jit_compile, run_eagerly=r.run_eagerly)
        return gan

    return _train_on_windows(
        r, Path(models_dir) / (name or r.run_name("melgan")), corpus, audio=r.model.audio, plan=plan, build=build,
        config=r.defining_fields("melgan"),
        stages=lambda steps_per_epoch: {"phases": plan.phases(steps_per_epoch)},
        export=lambda gan: remove_weight_norm(gan.generator), retrain=retrain,
        snapshot_mels=snapshot_mels, cache_dir=cache_dir, verbose=verbose, callbacks=callbacks)


def train_or_load_istft(
    r: VocoderRecipe,
    corpus: Manifest,
    *,
    models_dir: str | os.PathLike,
    name: str | None = None,
    retrain: bool = False,
    snapshot_mels: np.ndarray | None = None,
    cache_dir: str | os.PathLike | None = None,
    verbose: int | str = 2,
    callbacks=(),
    start_from: keras.Model | None = None,
    mels: dict | None = None,
) -> Run:
    """The kit's default vocoder (iSTFT head) of recipe ``r``, trained on ``corpus`` or loaded.

    The run folder is ``models_dir/<name>`` (default ``r.run_name("istft")``,
    ``istft-<profile>``); its ``model.keras``
    is the plain (uncompiled) network ``[B, frames, n_mels] -> [B, frames * hop]``.

    ``mels`` (utterance id -> mel of the recording's frames) pairs each recording of
    ``corpus`` with that mel instead of its own. With ``start_from`` (a trained iSTFT
    vocoder) the run goes on from its weights for ``r.adapt_plan`` (fewer steps, a lower
    rate), by default in ``r.run_name("adapted")`` (``istft-adapted-<profile>``). Both together adapt
    the vocoder to an acoustic model: ``mels`` its teacher-forced predictions
    (:func:`voicelab.recipes.tts.teacher_forced_mels`), so that the vocoder learns the
    audio that the model's smoother mels stand for, as Tacotron 2's WaveNet and
    HiFi-GAN's fine-tuning did.
    """
    model_key = "istft" if start_from is None else "adapted"
    plan = r.budget(model_key)

    def build() -> keras.Model:
        if start_from is None:
            model = build_istft_vocoder(r.istft)
        else:
            model = keras.models.clone_model(start_from)
            model.set_weights(start_from.get_weights())
        model.compile(optimizer=plan.optimizer(), loss=vocoder_loss(r.istft), jit_compile=r.jit_compile,
                      run_eagerly=r.run_eagerly)
        return model

    return _train_on_windows(
        r, Path(models_dir) / (name or r.run_name(model_key)), corpus, audio=r.istft.audio, plan=plan, build=build,
        config=r.defining_fields(model_key),
        stages=lambda steps_per_epoch: {"epochs": _epochs(plan.steps, steps_per_epoch)},
        export=lambda m: keras.Model(m.input, m.output, name=m.name),   # the network, without its loss
        retrain=retrain, snapshot_mels=snapshot_mels, cache_dir=cache_dir, verbose=verbose,
        callbacks=callbacks, mels=mels)


def _train_on_windows(r: VocoderRecipe, folder: Path, corpus: Manifest, *, audio: AudioConfig, plan, build, config,
                      stages, export, retrain, snapshot_mels, cache_dir, verbose, callbacks, mels=None) -> Run:
    """What both vocoders' training shares: aligned windows, the run folder, checkpoints, the guard.

    ``audio`` is the network's own ``AudioConfig``; ``config`` the recipe's fields that make
    this network (saved in ``run.json``, checked when loading); ``stages(steps_per_epoch)``
    gives ``train_or_load``'s ``epochs=`` or ``phases=``; ``mels`` replaces the recordings' mels.
    """
    if is_trained(folder) and not retrain:
        return load_run(folder, config=config)
    segments = AudioSegments(corpus, config=audio, segment_frames=plan.segment_frames,
                             batch_size=plan.batch_size, seed=r.seed, cache_dir=cache_dir,
                             drop_remainder=True, map_fn=lambda b: (b["mel"], b["audio"]), mels=mels)
    steps_per_epoch = steps_per_epoch_for(len(segments), min(plan.steps, plan.steps_per_epoch))
    return train_run(
        folder, build=build, train=segments, **stages(steps_per_epoch), steps_per_epoch=steps_per_epoch,
        retrain=retrain, config=config, export=export, snapshot_mels=snapshot_mels, sr=audio.sr,
        checkpoint_every=max(steps_per_epoch // 2, 1), log_every=max(plan.steps // 200, 1),
        guard=BlowUpGuard(snapshot_every=max(min(50, steps_per_epoch), 1)),
        callbacks=callbacks, verbose=verbose)


OTHER_VOICES = ("espeak_f3", "espeak_m3", "espeak_rp_f4", "slt_vtl0.9", "rms_vtl1.15", "awb_vtl1.1")
"""Built-in voices outside the ``smoke`` and ``quick`` corpora (the four flite voices): eSpeak NG's formant
voices and WORLD-warped flite voices. The ``full`` corpus speaks them; its vocoder is tested on
:data:`voicelab.data.speakers.UNSEEN_VOICES` too."""

UNSEEN_SENTENCES = (
    "The lighthouse keeper counted seven ships before dawn.",
    "Would you rather sail north through the fog, or wait for the tide?",
)
"""Sentences of no corpus profile (the grammar writes none like them)."""


def unseen_recordings(config: AudioConfig = AudioConfig(), *, voices=OTHER_VOICES,
                      sentences=UNSEEN_SENTENCES) -> dict[str, tuple[str, np.ndarray]]:
    """``{id: (voice, audio)}``: each sentence spoken by each voice, for
    :func:`voicelab.evaluation.vocoders.evaluate_vocoders_on_audio`.

    The vocoders learn from the corpus's four flite voices; these recordings test
    whether they vocode any voice, or only those.
    """
    return {f"{getattr(voice, 'name', voice)}_{i}": (getattr(voice, "name", voice), speak(voice, text, sr=config.sr))
            for voice in voices for i, text in enumerate(sentences)}

