"""Recipe of notebook 02: the aligner and the two TTS models of each profile, trained or loaded, and scored.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; ``benchmarks/evaluate_tts.py``
imports the same recipe, so it rebuilds and scores exactly what the notebook trained.

- :class:`TTSRecipe` / :func:`recipe`: every size, learning rate and epoch count of a
  profile, in one frozen dataclass (``dataclasses.replace`` changes a field in plain sight).
- :func:`prepare`: the corpus, its neutral splits, the batches and the mel statistics.
- :func:`train_or_load_aligner`, :func:`durations`, :func:`train_or_load_tts`: the
  three trainings, each through :func:`voicelab.train.train_or_load`.
- :func:`teacher_forced_mels`: a model's mels on the recordings' frames, for adapting a vocoder (notebook 03).
- :func:`evaluate`: per-speaker MCD, WER ratio and similarity on the test sentences.

Other notebooks load the trained models through :mod:`voicelab.artifacts`
(``load_tts``, ``load_aligner``). The recipe follows the kit's contract
(:mod:`voicelab.recipes.base`). Run folders: ``DATA_DIR/models/aligner-<profile>/`` and
``DATA_DIR/models/tts-<voice>-<profile>[-<variant>][-seed<seed>]/``.

Example
-------
>>> r = recipe("quick")
>>> r.tts_epochs, r.width, r.units, r.learning_rate
(42, 96, 64, 0.002)
>>> r.run_name("speaker"), r.emotion_variant().run_name("speaker"), recipe("quick", seed=3).run_name("aligner")
('tts-speaker-quick', 'tts-speaker-quick-emotions-variance-e4', 'aligner-quick-seed3')
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import keras
import numpy as np

from voicelab.data import build_corpus, corpus_folder
from voicelab.data.durations import DurationBatches
from voicelab.data.manifest import Manifest
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics
from voicelab.evaluation.tts import evaluate_voices
from voicelab.models.align import AlignerConfig, build_aligner, durations_by_id
from voicelab.models.tts import VOICES, TTSConfig, TTSModel, build_tts, warm_start
from voicelab.profiles import pick
from voicelab.recipes.base import Recipe, RecipeData, split_and_batch
from voicelab.train import Run, ScaledSchedule
from voicelab.train import train_or_load as train_run
from voicelab.vocoders import Vocoder


@dataclasses.dataclass(frozen=True, kw_only=True)
class TTSRecipe(Recipe):
    """Everything notebook 02 trains and measures in one profile.

    Attributes
    ----------
    profile : str
    align_epochs, tts_epochs : int
        Epochs of the aligner and of each TTS model.
    reference_epochs : int, optional
        Epochs of the reference-encoder model, where they differ from ``tts_epochs``
        (it can be warm-started from the speaker-id model: :func:`train_or_load_tts`).
    batch_size : int
    width, units, voice_dim : int
        Conv channels, LSTM units per direction, voice vector size of the TTS model.
    dropout : float
    align_learning_rate, learning_rate : float
        Adam's rate for the aligner and for the TTS models.
    mel_loss : str
        The TTS models' mel loss: ``"mse+mae"`` (the seed's), ``"mae"`` or ``"mse"``.
    cosine_decay : bool
        Lower the TTS models' rate along a cosine over their training steps, to 5 % of
        ``learning_rate`` at the last step (otherwise it stays constant).
    n_eval : int
        Test sentences per speaker in the evaluation.
    n_held_out : int
        Sentences of :data:`~voicelab.data.sentences_data.HELD_OUT` (text unlike the
        corpus's) per speaker in the evaluation on them (:func:`held_out_set`).
    gl_iters : int
        Griffin-Lim iterations where Griffin-Lim is the vocoder.
    emotions : bool
        Train on every emotion of the corpus with an emotion input (four times the
        clips), instead of the neutral clips only.
    variance : bool
        Add the variance adaptor (per-symbol pitch and energy predictors).
    decoder_blocks, decoder_lstm : int, bool
        The decoder's conv blocks and whether its BiLSTM follows them (the seed's: 3, True).
    decoder_reduction : int
        Frames per decoder step (the seed's: 1; ``TTSConfig.decoder_reduction``).
    symbol_position : bool
        Give every frame its position inside its symbol (``TTSConfig.symbol_position``).
    seed : int
        The corpus's seed (its sentences and splits: :func:`voicelab.data.corpus_folder`) and
        the batches' order. A seed other than 0 has its own corpus and run folders.
    emotion_epochs : int
        Epochs of the emotion model (:meth:`emotion_variant`), which sees every clip of
        the corpus (four times the neutral ones) in an epoch. It makes no model of this
        recipe itself: :meth:`emotion_variant` copies it into ``tts_epochs``.
    audio : AudioConfig
    """

    NOTEBOOK = "02"
    MODELS = {"aligner": "aligner", "speaker": "tts-speaker", "reference": "tts-reference"}
    NOT_DEFINING = ("n_eval", "n_held_out", "gl_iters", "emotion_epochs")
    OWN = {"aligner": ("align_epochs", "align_learning_rate"), "reference": ("reference_epochs",)}
    ONLY = {"aligner": ("align_epochs", "align_learning_rate", "batch_size", "emotions")}
    SHORT = {"emotions": "emotions", "variance": "variance", "tts_epochs": "e", "align_epochs": "e",
             "reference_epochs": "re", "batch_size": "b", "width": "w", "units": "u", "voice_dim": "v",
             "dropout": "drop", "learning_rate": "lr", "align_learning_rate": "lr", "decoder_blocks": "blocks",
             "decoder_lstm": "lstm", "decoder_reduction": "r", "symbol_position": "pos", "mel_loss": "",
             "cosine_decay": "cos"}

    align_epochs: int
    tts_epochs: int
    batch_size: int
    width: int
    units: int
    voice_dim: int
    dropout: float
    align_learning_rate: float
    learning_rate: float
    n_eval: int
    gl_iters: int
    n_held_out: int = 30
    emotions: bool = False
    variance: bool = False
    decoder_blocks: int = 3
    decoder_lstm: bool = True
    decoder_reduction: int = 1
    symbol_position: bool = False
    mel_loss: str = "mse+mae"
    cosine_decay: bool = False
    reference_epochs: int | None = None
    emotion_epochs: int = 1

    @classmethod
    def for_profile(cls, profile: str) -> TTSRecipe:
        return recipe(profile)

    def emotion_variant(self) -> TTSRecipe:
        """Notebook 02's emotion model: every emotion, an emotion input and the variance adaptor.

        Example
        -------
        >>> r = recipe("quick").emotion_variant()
        >>> r.variant("speaker"), r.tts_epochs
        ('emotions-variance-e4', 4)
        """
        return dataclasses.replace(self, emotions=True, variance=True, tts_epochs=self.emotion_epochs)

    def epochs_of(self, voice: str) -> int:
        """Epochs of the TTS model with ``voice``: ``reference_epochs`` (where set) or ``tts_epochs``.

        Example
        -------
        >>> recipe("quick").epochs_of("speaker"), recipe("quick").epochs_of("reference")
        (42, 12)
        """
        return self.reference_epochs if voice == "reference" and self.reference_epochs else self.tts_epochs

    def tts_learning_rate(self, steps: int):
        """Adam's rate for a TTS model trained ``steps`` steps: a number, or the cosine schedule.

        Example
        -------
        >>> r = dataclasses.replace(recipe("quick"), cosine_decay=True)
        >>> rate = r.tts_learning_rate(100)
        >>> [round(float(keras.ops.convert_to_numpy(rate(s))), 5) for s in (0, 50, 100)]
        [0.002, 0.00105, 0.0001]
        """
        if not self.cosine_decay:
            return self.learning_rate
        return ScaledSchedule(keras.optimizers.schedules.CosineDecay(self.learning_rate, steps, alpha=0.05))

    def aligner_config(self, mel_mean: float, mel_std: float) -> AlignerConfig:
        """The aligner, normalising mels with the training set's statistics."""
        return AlignerConfig(mel_mean=mel_mean, mel_std=mel_std)

    def tts_config(self, voice: str, *, n_speakers: int, mel_mean: float, mel_std: float, n_emotions: int = 1,
                   pitch_mean: float = 5.0, pitch_std: float = 0.3) -> TTSConfig:
        """The TTS model with a ``"speaker"`` id embedding or a ``"reference"`` encoder."""
        w, u = self.width, self.units
        return TTSConfig(n_speakers=n_speakers, voice=voice, embed_dim=w, encoder_filters=w,
                         encoder_units=u, voice_dim=self.voice_dim, reference_filters=w,
                         reference_units=u, duration_filters=w, decoder_filters=w, decoder_units=u,
                         decoder_blocks=self.decoder_blocks, decoder_lstm=self.decoder_lstm,
                         decoder_reduction=self.decoder_reduction, symbol_position=self.symbol_position,
                         mel_loss=self.mel_loss,
                         postnet_filters=w, dropout=self.dropout, mel_mean=mel_mean, mel_std=mel_std,
                         n_emotions=n_emotions if self.emotions else 1, variance=self.variance,
                         variance_filters=w, pitch_mean=pitch_mean, pitch_std=pitch_std)


def recipe(profile: str, **changes) -> TTSRecipe:
    """Notebook 02's recipe for ``profile``; ``changes`` replace fields (``recipe("quick", tts_epochs=70)``).

    ``quick`` (measured on 2 cores, 15 test sentences per speaker,
    ``benchmarks/tts_learning_curve.py``): the speaker-id model underfits (its training
    sentences are hardly clearer than the test ones: ``benchmarks/tts_diagnosis.py``), so
    it trains for 42 epochs instead of the seed's 28 (WER ratio 1.70 against 2.06; 70
    epochs reach 1.64), and without dropout,
    which regularises a model that does not overfit (at 28 epochs 2.06 without and 1.98
    with it on one machine, 2.01 and 2.21 on another: no difference beyond the run-to-run
    spread). A convolution-only decoder (2.34) and a wider model (1.95 at 28 epochs, in
    more minutes) did not pay for themselves. Neither did a learning rate decaying along a
    cosine (1.94 at 42 epochs) nor the absolute error alone as the mel loss (1.68).
    Nor, measured on 15 test sentences per speaker on a machine that ran the steps about
    1.5 times slower: two frames a decoder step (``decoder_reduction=2``: a third less time
    a training step alone, a tenth less an epoch in ``fit``; 1.96 at 42 epochs and 1.84 at 63),
    each frame's position inside its symbol (``symbol_position=True``: 1.86 at 42 epochs),
    or batches of 8 (1.67 at 42 epochs, twice the steps in 13 % more time: level with 16).

    The reference-encoder and emotion models start from the speaker-id model
    (``start_from`` of :func:`train_or_load_tts`) and train for ``reference_epochs`` and
    ``emotion_epochs`` only. Warm-started from the 42-epoch speaker-id model (1.70 on 15
    test sentences per speaker), the reference model reached a WER ratio of 1.79 on the
    same sentences in 12 epochs (2.6 minutes; from scratch it had trained 42 epochs, 7.9
    minutes) and the emotion model 1.74 on them, in neutral, in 4 epochs of every clip
    (2.6 minutes; from scratch 8 epochs, 5 minutes). With them the quick training of
    notebook 02 took 14.4 minutes on 2 cores (aligner 178 s, speaker-id model 385 s,
    reference 147 s, emotion 152 s), on a machine where it had taken 22.6 from scratch.

    ``full`` is sized by measurement for 8 minutes on one GPU
    (``benchmarks/full_profile_timing.py``; the figures of an H200 on the PyTorch backend
    are in ``benchmarks/results/``). A step there costs about the same at 32, 64 or 128
    clips (79, 67 and 69 ms for the speaker-id model): the time goes to launching work,
    not to arithmetic, so ``full`` takes batches of 64. On the full corpus (10 voices x
    480 training sentences, 75 batches an epoch) the steps of 20 aligner epochs, 45
    speaker-id, 12 reference and 4 emotion epochs (every clip) project to 6.6 minutes,
    plus validation and checkpoints at each epoch's end (at most 3.6 more, if they scale
    with the validation split as its one batch measured did). The seed's 300 + 90 + 30
    epochs of 32 would have taken 94 + 25 + 39 minutes. ``full`` has not yet been trained
    to the end, so its quality is not measured.

    Example
    -------
    >>> recipe("smoke").tts_epochs
    2
    """
    return TTSRecipe(
        profile=profile,
        align_epochs=pick(profile, smoke=2, quick=6, full=20),
        tts_epochs=pick(profile, smoke=2, quick=42, full=45),
        reference_epochs=pick(profile, smoke=2, quick=12, full=12),
        batch_size=pick(profile, smoke=16, quick=16, full=64),
        width=pick(profile, smoke=16, quick=96, full=256),
        units=pick(profile, smoke=8, quick=64, full=192),
        voice_dim=pick(profile, smoke=8, quick=32, full=64),
        dropout=pick(profile, smoke=0.0, quick=0.0, full=0.1),
        align_learning_rate=3e-3,
        learning_rate=2e-3,
        n_eval=pick(profile, smoke=1, quick=6, full=30),
        n_held_out=pick(profile, smoke=1, quick=10, full=30),
        gl_iters=pick(profile, smoke=8, quick=48, full=100),
        emotion_epochs=pick(profile, smoke=1, quick=4, full=4),
    ).with_changes(**changes)


@dataclasses.dataclass(kw_only=True)
class TTSData(RecipeData):
    """The data notebook 02 trains on: neutral clips (or every emotion), split by sentence, batched."""

    pitch_mean: float = 5.0
    pitch_std: float = 0.3


def prepare(r: TTSRecipe, *, data_dir: str | os.PathLike, corpus: Manifest | None = None,
            progress: bool = True) -> TTSData:
    """Build (or open) the corpus of ``r.profile`` and ``r.seed``, batch its splits, measure the mels (and pitch).

    Training and validation use the neutral clips, or every emotion with ``r.emotions``;
    the test split is neutral. ``corpus`` replaces the kit's corpus with any manifest
    (e.g. ``read_ljspeech``'s). The features not yet in ``data_dir/cache`` are computed
    in a process per core (``progress``: with a progress bar).
    """
    if corpus is None:
        corpus = build_corpus(corpus_folder(data_dir, r.profile, seed=r.seed), profile=r.profile, seed=r.seed)
    neutral = corpus.filter(emotion="neutral")
    if not len(neutral):
        raise ParameterError(f"{corpus.root}: no neutral utterances to train on")
    shared = split_and_batch(r, corpus, trained_on=corpus if r.emotions else neutral,
                             test=neutral.filter(split="test"), data_dir=data_dir, batch_size=r.batch_size,
                             emotions=corpus.emotions if r.emotions else ["neutral"],
                             kinds=("mel", "f0") if r.variance else ("mel",), progress=progress)
    data = TTSData(**shared)
    if r.variance:
        f0s = (data.features.f0(u) for u in data.train)
        log_f0 = np.log(np.concatenate([f[f > 0] for f in f0s]))
        data.pitch_mean, data.pitch_std = float(np.mean(log_f0)), float(np.std(log_f0))
    return data


def train_or_load_aligner(r: TTSRecipe, data: TTSData, *, models_dir: str | os.PathLike,
                          retrain: bool = False, verbose: int | str = 2, callbacks=()) -> Run:
    """The aligner of notebook 02, section 2 (``models_dir/<r.run_name("aligner")>/``)."""
    return train_run(
        Path(models_dir) / r.run_name("aligner"),
        build=lambda: build_aligner(r.aligner_config(data.mel_mean, data.mel_std), r.audio.n_mels,
                                    learning_rate=r.align_learning_rate),
        train=data.batches["train"], valid=data.batches["valid"], epochs=r.align_epochs,
        retrain=retrain, config={"recipe": r.defining_fields("aligner"), "speakers": data.speakers}, callbacks=callbacks,
        verbose=verbose)


def durations(aligner, data: TTSData) -> dict:
    """Utterance id -> frames per symbol, for every training and validation clip (aligner + MAS)."""
    out = {}
    for batches in data.batches.values():
        out |= durations_by_id(aligner, batches)
    return out


def teacher_forced_mels(model: TTSModel, data: TTSData, durations: dict, *,
                        split: str = "train") -> dict[str, np.ndarray]:
    """Utterance id -> ``model``'s log-mel of each clip of ``split``, decoded with the aligner's durations.

    Teacher forcing gives the prediction exactly the recording's frames, so each predicted
    mel lines up with the recording's audio: the pairs a vocoder adapts on
    (``voicelab.recipes.vocoder.train_or_load_istft(..., start_from=, mels=)``) to render
    this model's smoother mels.
    """
    if split not in ("train", "valid"):
        raise ParameterError(f"split={split!r}: the aligner's durations cover 'train' and 'valid'")
    batches = DurationBatches(data.batches[split], durations, f0=model.config.variance)
    mels = {}
    for index in range(len(batches)):
        batch = batches[index]
        predicted = keras.ops.convert_to_numpy(model(batch, training=False)["mel"])
        for row, utt in enumerate(batches.batches.utterances(index)):
            mels[utt.id] = predicted[row, : batch["mel_length"][row]]
    return mels


def train_or_load_tts(r: TTSRecipe, data: TTSData, voice: str, *, durations: dict,
                      models_dir: str | os.PathLike, retrain: bool = False, verbose: int | str = 2,
                      callbacks=(), start_from=None) -> Run:
    """A TTS model with a ``"speaker"`` id or ``"reference"`` voice (``models_dir/<r.run_name(voice)>/``).

    It trains for ``r.tts_epochs``, or ``r.reference_epochs`` (where set) for the reference voice.
    ``start_from`` (a trained TTS model, e.g. the speaker-id model) warm-starts it: the
    text encoder, duration predictor and decoder (and the speaker embedding, where both
    have one) begin as that model's (:func:`voicelab.models.tts.warm_start`), and so do
    its mel statistics; only the parts it lacks (a reference encoder, an emotion
    embedding, the variance adaptor) start from scratch.
    """
    if voice not in VOICES:
        raise ParameterError(f"voice={voice!r} is not one of {VOICES}")
    if start_from is not None and not isinstance(start_from, TTSModel):
        raise ParameterError(f"start_from must be a trained TTS model, got {type(start_from).__name__}")
    mel_mean, mel_std = ((start_from.config.mel_mean, start_from.config.mel_std) if start_from is not None
                         else (data.mel_mean, data.mel_std))
    config = r.tts_config(voice, n_speakers=len(data.speakers), mel_mean=mel_mean, mel_std=mel_std,
                          n_emotions=len(data.emotions), pitch_mean=data.pitch_mean, pitch_std=data.pitch_std)
    epochs = r.epochs_of(voice)

    def build():
        model = build_tts(config, r.audio, learning_rate=r.tts_learning_rate(epochs * len(data.batches["train"])))
        if start_from is not None:
            warm_start(model, start_from)
        return model

    return train_run(
        Path(models_dir) / r.run_name(voice),
        build=build,
        train=DurationBatches(data.batches["train"], durations, f0=r.variance),
        valid=DurationBatches(data.batches["valid"], durations, f0=r.variance),
        epochs=epochs, retrain=retrain,
        config={"recipe": r.defining_fields(voice), "speakers": data.speakers, "emotions": data.emotions,
                "warm_start": start_from is not None},
        callbacks=callbacks, verbose=verbose)


def references(data: TTSData) -> dict[str, str]:
    """The clip each speaker is cloned from by the reference-encoder model: its first training clip."""
    neutral = data.train.filter(emotion="neutral")
    return {s: data.corpus.audio_path(neutral.filter(speaker=s)[0]) for s in data.speakers}


def held_out_set(r: TTSRecipe, speakers: list[str], *, data_dir: str | os.PathLike) -> Manifest:
    """The first ``r.n_held_out`` sentences of ``HELD_OUT``, spoken by each speaker as in the corpus.

    Made once into ``DATA_DIR/held-out/`` (:func:`voicelab.data.speak_sentences`) and read
    afterwards. Score a model on them with :func:`evaluate` (``test=`` this manifest,
    ``n_eval=r.n_held_out``).
    """
    from voicelab.data import speak_sentences
    from voicelab.data.sentences_data import HELD_OUT

    return speak_sentences(Path(data_dir) / "held-out", HELD_OUT[: r.n_held_out], speakers=speakers,
                           progress=False)


def evaluation_set(r: TTSRecipe, test: Manifest, *, n_eval: int | None = None) -> Manifest:
    """The first ``n_eval`` (default ``r.n_eval``) test sentences, every speaker's rendition."""
    ids = sorted({u.sentence_id for u in test})[: n_eval or r.n_eval]
    return test.filter(sentence_id=ids)


def evaluate(r: TTSRecipe, models: dict, *, test: Manifest, speakers: list[str],
             references: dict | None = None, emotions: list[str] | None = None,
             vocoder: Vocoder | None = None, n_eval: int | None = None,
             transcriber=None, truth_transcripts: dict | None = None, progress: bool = False) -> dict[str, dict]:
    """Score each of ``models`` (voice -> model) on the evaluation set: voice -> speaker -> figures.

    ``references`` (speaker -> clip, :func:`references`) is needed by a reference-encoder
    model, ``emotions`` (names in id order) a model with an emotion input. The recordings are transcribed once for all models (and, passing the same
    ``truth_transcripts`` dict, for later calls too). ``vocoder`` replaces Griffin-Lim
    (``r.gl_iters`` iterations).
    """
    judge = transcriber or metrics.Transcriber()
    truth_transcripts = {} if truth_transcripts is None else truth_transcripts
    eval_set = evaluation_set(r, test, n_eval=n_eval)
    try:
        return {voice: evaluate_voices(model, eval_set, speakers=speakers, references=references, config=r.audio,
                                       n_iter=r.gl_iters, transcriber=judge, truth_transcripts=truth_transcripts,
                                       vocoder=vocoder, emotions=emotions, progress=progress)
                for voice, model in models.items()}
    finally:
        if transcriber is None:
            judge.close()


class LearningCurve(keras.callbacks.Callback):
    """Score the model every ``every`` epochs while it trains: a learning curve in minutes.

    ``score(model) -> {"mcd": ..., "wer_ratio": ...}`` (e.g. the average row of
    :func:`evaluate`). :attr:`points` holds ``{"epoch", "minutes", **figures}``, where
    ``minutes`` is the training time so far, the scoring time left out.
    """

    def __init__(self, score, *, every: int, start_minutes: float = 0.0) -> None:
        super().__init__()
        self.score, self.every, self.start_minutes = score, every, start_minutes
        self.points: list[dict] = []
        self._began, self._scoring = 0.0, 0.0

    def on_train_begin(self, logs=None) -> None:
        self._began, self._scoring = time.perf_counter(), 0.0

    def on_epoch_end(self, epoch, logs=None) -> None:
        if (epoch + 1) % self.every:
            return
        scoring_began = time.perf_counter()
        minutes = self.start_minutes + (scoring_began - self._began - self._scoring) / 60
        figures = self.score(self.model)
        self._scoring += time.perf_counter() - scoring_began
        self.points.append({"epoch": epoch + 1, "minutes": round(minutes, 2), **figures})
