"""Recipe of notebook 05: the emotional corpus, the emotion judge and SpeechSplit, trained or loaded.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``.

- :class:`SpeechSplitRecipe` / :func:`recipe`: the corpus (sentences, derived voices),
  the bottlenecks, sizes, learning rates and epochs of a profile;
- :func:`prepare`: the emotional corpus (``world_neutral``: every clip went through
  WORLD once, so the vocoder is no cue to the emotion; many derived voices), split by
  sentence, batched, with the mel statistics, each speaker's log-f0 statistics (of its
  neutral training clips) and its voice (the mean resemblyzer embedding of a few of
  its neutral training clips, cached);
- :func:`train_or_load_judge`, :func:`train_or_load_speechsplit`,
  :func:`train_or_load_voicegan`, :func:`train_or_load_codegan`: the models, through
  :func:`voicelab.train.train_or_load`, on the data sets of :mod:`voicelab.data.batches`
  (:class:`~voicelab.data.batches.SplitBatches`: the mel, the same mel randomly
  resampled for the content encoder, the pitch classes resampled alike, the voice);
- :func:`pitch_classes`, :func:`prosody_codes`: one utterance's pitch input; the rhythm
  and pitch codes CodeGAN learns from.

Rendering and scoring the trained models (swaps, CodeGAN's renditions, the evaluation
table) is :mod:`voicelab.recipes.speechsplit_eval`.

The recipe follows the kit's contract (:mod:`voicelab.recipes.base`). Run folders:
``DATA_DIR/models/<model>-<profile>[-<variant>]``: ``emotion-judge``, ``speechsplit``,
``voicegan`` and ``codegan`` (CodeGAN learns the codes of one SpeechSplit, so its variant
names SpeechSplit's changes too).

Example
-------
>>> r = recipe("quick")
>>> r.rhythm_dim, r.content_dim, r.pitch_dim, r.run_name("speechsplit")
(2, 16, 32, 'speechsplit-quick')
>>> r = recipe("quick", content_dim=4)
>>> r.run_name("speechsplit"), r.run_name("codegan"), r.run_name("judge")
('speechsplit-quick-c4', 'codegan-quick-c4', 'emotion-judge-quick')
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras
import numpy as np

from voicelab.artifacts import embed_clips, mean_embedding
from voicelab.data import build_corpus, corpus_folder
from voicelab.data.batches import CodeBatches, ProsodyCodes, SplitBatches, VoiceSamples, normalized_f0
from voicelab.data.manifest import Manifest, Utterance
from voicelab.data.pipeline import pad_batch
from voicelab.dsp.prosody import log_f0_stats, quantize_f0, stretch_to
from voicelab.errors import ParameterError
from voicelab.models.emotion import EmotionConfig, build_emotion_classifier
from voicelab.models.speechsplit import SpeechSplitConfig, build_speechsplit
from voicelab.profiles import pick
from voicelab.recipes.base import Recipe, RecipeData, split_and_batch
from voicelab.train import Run, is_trained, load_run
from voicelab.train import train_or_load as train_run

EMBEDDING_CLIPS = 8
"""Neutral training clips per speaker whose resemblyzer embeddings are averaged into its voice."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpeechSplitRecipe(Recipe):
    """Everything notebook 05 builds, trains and measures in one profile.

    Attributes
    ----------
    profile : str
    n_sentences, derived_speakers : int
        The corpus: sentences (each in every voice and emotion) and voices derived
        from the flite ones, on top of the profile's four flite voices.
    epochs, batch_size : int
        SpeechSplit's training.
    learning_rate : float
    rhythm_dim, content_dim, pitch_dim, rate : int
        The bottlenecks: numbers per code step, and frames per step (all three codes).
    content_input : str
        ``"mel"``, ``"envelope"`` or ``"centred"``: what the content encoder reads
        (``SpeechSplitConfig.content_input``). ``"centred"`` (the log-mel less its mean per
        band over the utterance) is the kit's: in the quick sweep it took the swaps'
        judge accuracy from 0.42 (``"mel"``) to 0.79, the loudness and tilt of an emotion
        then passing through the rhythm code.
    encoder_channels, decoder_channels : int
    judge_epochs, voicegan_epochs, codegan_epochs : int
        Epochs of the emotion classifier, of VoiceGAN (one epoch: one pass over the
        training speakers' clip embeddings, batches of 32) and of CodeGAN (one pass over
        the training clips' codes, batches of 32).
    codegan_channels : int
        Width of CodeGAN's convolutions.
    n_eval : int
        Test sentences in the evaluation.
    eval_speakers : int
        Speakers of the evaluation, the corpus's first ones.
    n_voices : int
        New voices sampled from VoiceGAN in the evaluation.
    seed : int
    audio : AudioConfig
    """

    NOTEBOOK = "05"
    MODELS = {"speechsplit": "speechsplit", "judge": "emotion-judge", "voicegan": "voicegan", "codegan": "codegan"}
    NOT_DEFINING = ("n_eval", "eval_speakers", "n_voices")
    _CORPUS = ("n_sentences", "derived_speakers")
    OWN = {"judge": ("judge_epochs",), "voicegan": ("voicegan_epochs",),
           "codegan": ("codegan_epochs", "codegan_channels")}
    ONLY = {"judge": _CORPUS + ("batch_size", "judge_epochs"), "voicegan": _CORPUS + ("voicegan_epochs",)}
    SHORT = {"rhythm_dim": "r", "content_dim": "c", "pitch_dim": "p", "rate": "x", "content_input": "",
             "learning_rate": "lr", "epochs": "e", "batch_size": "b", "n_sentences": "s", "derived_speakers": "d",
             "judge_epochs": "e", "voicegan_epochs": "e", "codegan_epochs": "ce", "codegan_channels": "cw",
             "encoder_channels": "enc", "decoder_channels": "dec"}

    n_sentences: int
    derived_speakers: int
    epochs: int
    batch_size: int
    learning_rate: float
    rhythm_dim: int
    content_dim: int
    pitch_dim: int
    rate: int
    content_input: str
    encoder_channels: int
    decoder_channels: int
    judge_epochs: int
    voicegan_epochs: int
    codegan_epochs: int
    codegan_channels: int
    n_eval: int
    eval_speakers: int
    n_voices: int

    @classmethod
    def for_profile(cls, profile: str) -> SpeechSplitRecipe:
        return recipe(profile)

    def model_config(self, data: EmotionData) -> SpeechSplitConfig:
        return SpeechSplitConfig(rhythm_dim=self.rhythm_dim, content_dim=self.content_dim, pitch_dim=self.pitch_dim,
                                 rhythm_rate=self.rate, content_rate=self.rate, pitch_rate=self.rate,
                                 content_input=self.content_input,
                                 encoder_channels=self.encoder_channels, decoder_channels=self.decoder_channels,
                                 mel_mean=data.mel_mean, mel_std=data.mel_std)


def recipe(profile: str, **changes) -> SpeechSplitRecipe:
    """Notebook 05's recipe for ``profile``; ``changes`` replace fields (``recipe("quick", content_dim=4)``).

    ``quick``: 40 voices (4 flite + 36 derived) x 30 sentences x 4 emotions; SpeechSplit
    for 6 epochs of 240 batches (1,440 steps, 712 s on 2 cores, about 0.4 s a step).
    ``full``: 90 voices (the 10 built-in ones + 80 derived) x 60 sentences, wider
    networks, sized by measurement for 8 minutes on one GPU
    (``benchmarks/full_profile_timing.py``, ``benchmarks/results/``). On an H200 with the
    PyTorch backend a SpeechSplit step took 119, 155 and 188 ms with 32, 64 and 128 clips
    (the estimate had been 30 ms), so it takes batches of 128: 8 epochs of 135 batches
    (203 s of steps); the judges 6 epochs each (60 s), CodeGAN 2 epochs of 540 batches of
    32 (76 s), VoiceGAN 30 epochs (55 s): 6.6 minutes of steps, plus at most 2.2 of
    validation and checkpoints. The former 25 + 10 + 40 + 600 epochs would have taken
    97 minutes. Not yet trained to the end, so its quality is not measured.
    """
    r = SpeechSplitRecipe(
        profile=profile,
        n_sentences=pick(profile, smoke=6, quick=30, full=60),
        derived_speakers=pick(profile, smoke=4, quick=36, full=80),
        epochs=pick(profile, smoke=2, quick=6, full=8),
        batch_size=pick(profile, smoke=16, quick=16, full=128),
        learning_rate=1e-3,
        rhythm_dim=2,
        content_dim=16,
        pitch_dim=32,
        rate=8,
        content_input="centred",
        encoder_channels=pick(profile, smoke=16, quick=96, full=256),
        decoder_channels=pick(profile, smoke=16, quick=192, full=512),
        judge_epochs=pick(profile, smoke=3, quick=6, full=6),
        voicegan_epochs=pick(profile, smoke=3, quick=300, full=30),
        codegan_epochs=pick(profile, smoke=2, quick=10, full=2),
        codegan_channels=pick(profile, smoke=16, quick=128, full=256),
        n_eval=pick(profile, smoke=1, quick=2, full=6),
        eval_speakers=pick(profile, smoke=1, quick=4, full=8),
        n_voices=pick(profile, smoke=2, quick=6, full=12),
    )
    return r.with_changes(**changes)


def build_emotional_corpus(r: SpeechSplitRecipe, data_dir: str | os.PathLike, *, progress: bool = True) -> Manifest:
    """The corpus of notebook 05 (``DATA_DIR/corpus-<profile>-emotional[-seed<seed>]``): every clip through
    WORLD once, the flite voices and ``r.derived_speakers`` more."""
    return build_corpus(corpus_folder(data_dir, r.profile, seed=r.seed, kind="emotional"), profile=r.profile,
                        seed=r.seed, n_sentences=r.n_sentences, derived=r.derived_speakers, world_neutral=True,
                        progress=progress)


@dataclasses.dataclass(kw_only=True)
class EmotionData(RecipeData):
    """Notebook 05's corpus split by sentence and batched (every emotion), with its statistics and voices."""

    f0_stats: dict[str, tuple[float, float]]
    voices: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    clip_embeddings: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def prepare(r: SpeechSplitRecipe, *, data_dir: str | os.PathLike, corpus: Manifest | None = None,
            with_voices: bool = True, progress: bool = True) -> EmotionData:
    """Build (or open) the emotional corpus; batch its splits (every emotion); measure mels, f0 and voices."""
    corpus = build_emotional_corpus(r, data_dir, progress=progress) if corpus is None else corpus
    if "neutral" not in corpus.emotions:
        raise ParameterError(f"{corpus.root}: notebook 05 needs a neutral emotion")
    # every epoch reads each clip's mel and f0: the missing ones are computed once, in a process per core
    shared = split_and_batch(r, corpus, data_dir=data_dir, batch_size=r.batch_size, emotions=corpus.emotions,
                             kinds=("mel", "f0"), stats_of=corpus.filter(split="train", emotion="neutral"),
                             progress=progress)
    features = shared["batches"]["train"].features
    f0_stats = {speaker: log_f0_stats(*[features.f0(u) for u in shared["train"].filter(speaker=speaker,
                                                                                       emotion="neutral")])
                for speaker in shared["speakers"]}
    data = EmotionData(**shared, f0_stats=f0_stats)
    if with_voices:
        add_voices(data, progress=progress)
    return data


def add_voices(data: EmotionData, *, progress: bool = False) -> dict[str, np.ndarray]:
    """Each speaker's voice: the unit mean of the resemblyzer embeddings of its first neutral training clips.

    The clips' embeddings are cached (:func:`voicelab.artifacts.embed_clips`).
    """
    chosen = {s: list(data.train.filter(speaker=s, emotion="neutral"))[:EMBEDDING_CLIPS] for s in data.speakers}
    stored = embed_clips([u for utts in chosen.values() for u in utts], data.features, cache_dir=data.cache_dir,
                         corpus_root=data.corpus.root, progress=progress)
    for speaker, utts in chosen.items():
        data.clip_embeddings |= {u.id: stored[u.id] for u in utts}
        data.voices[speaker] = mean_embedding(stored, [u.id for u in utts], who=speaker)
    return data.voices


def pitch_classes(data: EmotionData, utt: Utterance) -> np.ndarray:
    """The pitch encoder's input for one utterance: its 257-class quantised, speaker-normalised log-f0."""
    return quantize_f0(normalized_f0(data.features, data.f0_stats, utt))


def _split_batches(r: SpeechSplitRecipe, data: EmotionData, name: str) -> SplitBatches:
    return SplitBatches(data.batches[name], f0_stats=data.f0_stats, voices=data.voices, seed=r.seed,
                        resample=(name == "train"))


def train_or_load_judge(r: SpeechSplitRecipe, data: EmotionData, *, models_dir: str | os.PathLike,
                        name: str | None = None, retrain: bool = False, verbose: int | str = 2, callbacks=()) -> Run:
    """The emotion classifier on every training clip (``models_dir/<r.run_name("judge")>``, or ``name``
    for a judge of another corpus)."""
    config = EmotionConfig(emotions=tuple(data.emotions), channels=pick(r.profile, smoke=16, quick=96, full=128),
                           mel_mean=data.mel_mean, mel_std=data.mel_std)

    def build():
        keras.utils.set_random_seed(r.seed)
        return build_emotion_classifier(config, r.audio)

    return train_run(Path(models_dir) / (name or r.run_name("judge")), build=build,
                     train=data.batches["train"], valid=data.batches["valid"], epochs=r.judge_epochs,
                     retrain=retrain, config={"recipe": r.defining_fields("judge"),
                                              "corpus_name": Path(data.corpus.root).name},
                     callbacks=callbacks, verbose=verbose)


def plain_corpus_data(r: SpeechSplitRecipe, *, data_dir: str | os.PathLike) -> EmotionData:
    """The profile's ordinary corpus (``DATA_DIR/corpus-<profile>``: neutral clips straight from the engine,
    emotional ones through WORLD), prepared alike, without voices: to train a judge that can use the WORLD cue."""
    corpus = build_corpus(corpus_folder(data_dir, r.profile, seed=r.seed), profile=r.profile, seed=r.seed)
    return prepare(r, data_dir=data_dir, corpus=corpus, with_voices=False)


def train_or_load_speechsplit(r: SpeechSplitRecipe, data: EmotionData, *, models_dir: str | os.PathLike,
                              retrain: bool = False, verbose: int | str = 2, callbacks=()) -> Run:
    """SpeechSplit on every training clip, every emotion (``models_dir/<r.run_name("speechsplit")>/``)."""
    if not data.voices:
        add_voices(data)
    config = r.model_config(data)

    def build():
        keras.utils.set_random_seed(r.seed)
        return build_speechsplit(config, r.audio, learning_rate=r.learning_rate)

    return train_run(Path(models_dir) / r.run_name("speechsplit"), build=build,
                     train=_split_batches(r, data, "train"), valid=_split_batches(r, data, "valid"),
                     epochs=r.epochs, retrain=retrain, config={"recipe": r.defining_fields("speechsplit"),
                                                               "speakers": data.speakers},
                     callbacks=callbacks, verbose=verbose)


def train_or_load_voicegan(r: SpeechSplitRecipe, data: EmotionData, *, models_dir: str | os.PathLike,
                           retrain: bool = False, verbose: int | str = 0, callbacks=()) -> Run:
    """VoiceGAN on the training speakers' clip embeddings (``models_dir/<r.run_name("voicegan")>``); saves the
    generator."""
    from voicelab.models.voicegan import VoiceGAN, VoiceGANConfig

    if not data.clip_embeddings:
        add_voices(data)
    real = np.stack(list(data.clip_embeddings.values())).astype("float32")

    def build():
        keras.utils.set_random_seed(r.seed)
        gan = VoiceGAN(VoiceGANConfig(embedding_dim=real.shape[1]))
        gan.compile()
        return gan

    return train_run(Path(models_dir) / r.run_name("voicegan"), build=build,
                     train=VoiceSamples(real, batch_size=32, seed=r.seed), epochs=r.voicegan_epochs,
                     retrain=retrain, export=lambda gan: gan.generator,
                     config={"recipe": r.defining_fields("voicegan"),
                             "speakers": data.speakers, "clips": len(real)},
                     callbacks=callbacks, verbose=verbose)


def check_codegan_rates(model) -> None:
    """CodeGAN joins a SpeechSplit's rhythm and pitch codes step by step: a :class:`ParameterError` unless
    their rates are equal."""
    if model.config.rhythm_rate != model.config.pitch_rate:
        raise ParameterError(f"CodeGAN joins the rhythm and pitch codes step by step: their rates must be equal, "
                             f"got {model.config.rhythm_rate} and {model.config.pitch_rate}")


def prosody_codes(model, data: EmotionData, utts, *, batch_size: int = 32) -> ProsodyCodes:
    """Each utterance's rhythm and pitch codes ``[steps, rhythm_dim + pitch_dim]`` (unresampled inputs)."""
    from voicelab.models.layers import code_lengths

    check_codegan_rates(model)
    utts = list(utts)
    codes = []
    for start in range(0, len(utts), batch_size):
        chunk = utts[start: start + batch_size]
        mels = [data.features.mel(u) for u in chunk]
        pitches = [stretch_to(pitch_classes(data, u), len(m)) for u, m in zip(chunk, mels)]
        mel, mel_length = pad_batch(mels)
        batch = {"mel": mel, "pitch": pad_batch(pitches, dtype="int32")[0], "mel_length": mel_length}
        out = model.encode(batch, training=False)
        joined = np.concatenate([keras.ops.convert_to_numpy(out["rhythm"]), keras.ops.convert_to_numpy(out["pitch"])],
                                axis=-1)
        steps = keras.ops.convert_to_numpy(code_lengths(batch["mel_length"], model.config.rhythm_rate))
        codes += [joined[i, :n] for i, n in enumerate(steps)]
    return ProsodyCodes(codes, np.array([data.emotions.index(u.emotion) for u in utts], "int32"), [u.id for u in utts])


def train_or_load_codegan(r: SpeechSplitRecipe, data: EmotionData, model, *, models_dir: str | os.PathLike,
                          retrain: bool = False, verbose: int | str = 0, callbacks=()) -> Run:
    """CodeGAN on the codes ``model`` (a trained SpeechSplit) gives the training clips; saves the generator.

    The codes are standardised with the training codes' per-number mean and deviation
    (kept in the generator's config). A finished run is loaded before any clip is encoded.
    """
    from voicelab.models.codegan import CodeGAN, CodeGANConfig

    folder = Path(models_dir) / r.run_name("codegan")
    trained_with = {"recipe": r.defining_fields("codegan"), "speechsplit": r.run_name("speechsplit")}
    if is_trained(folder) and not retrain:
        return load_run(folder, config=trained_with)
    train, valid = prosody_codes(model, data, data.train), prosody_codes(model, data, data.valid)
    stacked = np.concatenate(train.codes)
    config = CodeGANConfig(code_dim=stacked.shape[1], n_emotions=len(data.emotions), channels=r.codegan_channels,
                           code_mean=tuple(stacked.mean(0)), code_std=tuple(stacked.std(0) + 1e-3))

    def build():
        keras.utils.set_random_seed(r.seed)
        gan = CodeGAN(config)
        gan.compile()
        return gan

    return train_run(folder, build=build, train=CodeBatches(train, seed=r.seed),
                     valid=CodeBatches(valid, shuffle=False), epochs=r.codegan_epochs, retrain=retrain, export=lambda gan: gan.generator,
                     config={**trained_with, "clips": len(train)},
                     callbacks=callbacks, verbose=verbose)


def load(r: SpeechSplitRecipe, model: str, *, data_dir: str | os.PathLike) -> Run:
    """A model of notebook 05 (``"speechsplit"``, ``"judge"``, ``"voicegan"`` or ``"codegan"``) trained with ``r``."""
    return load_run(r.run_folder(model, data_dir),
                    hint=f"run notebook 05 (make run ONLY=05 PROFILE={r.profile}) first")
