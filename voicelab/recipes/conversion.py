"""Recipe of notebook 04: VQ-VAE voice conversion, trained or loaded, and scored on parallel data.

Introduced in ``notebooks/04_vqvae_voice_conversion.ipynb``; ``benchmarks/evaluate_conversion.py``
imports the same recipe.

- :class:`ConversionRecipe` / :func:`recipe`: the bottleneck (codes, frames per code,
  code width), the input scale, sizes, learning rate and epochs of a profile;
- :func:`prepare`: the corpus's neutral clips, split by sentence, batched, with the mel
  statistics and (for the embedding-conditioned model) resemblyzer embeddings;
- :func:`train_or_load_vqvae`: one model per voice input (``"speaker"`` id or
  ``"embedding"``), through :func:`voicelab.train.train_or_load`, with a k-means start of
  the codebook;
- :func:`converter`, :func:`sources_and_targets`, :func:`unseen_sources`, :func:`evaluate`: the
  conversion grid of the test sentences, scored by :mod:`voicelab.evaluation.conversion`;
- :func:`phoneme_frames`: each test frame's phoneme, from notebook 02's aligner.

The recipe follows the kit's contract (:mod:`voicelab.recipes.base`). Run folders:
``DATA_DIR/models/vqvae-<voice>-<profile>[-<variant>]/``.

Example
-------
>>> r = recipe("quick")
>>> r.n_codes, r.downsample, r.input_scale, r.run_name("speaker")
(256, 4, 'db', 'vqvae-speaker-quick')
>>> recipe("quick", n_codes=64, input_scale="magnitude").run_name("embedding")
'vqvae-embedding-quick-k64-magnitude'
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras
import numpy as np

from voicelab.data import build_corpus, corpus_folder
from voicelab.data.manifest import Manifest
from voicelab.data.batches import EmbeddingBatches
from voicelab.data.pipeline import SpeechBatches
from voicelab.data.speakers import UNSEEN_VOICES, speak
from voicelab.errors import ParameterError
from voicelab.evaluation.conversion import Source, evaluate_conversions
from voicelab.models.align import durations_by_id
from voicelab.models.vqvae import VOICES, VQVAEConfig, build_vqvae, convert
from voicelab.artifacts import embed_clips, mean_embedding
from voicelab.profiles import pick
from voicelab.recipes.base import Recipe, RecipeData, split_and_batch
from voicelab.train import Run
from voicelab.train import train_or_load as train_run

@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversionRecipe(Recipe):
    """Everything notebook 04 trains and measures in one profile.

    Attributes
    ----------
    profile : str
    epochs, batch_size : int
    learning_rate : float
    n_codes, code_dim, downsample : int
        The bottleneck: codebook size, code width, frames per code.
    input_scale : str
        ``"db"`` (log-mel) or ``"magnitude"`` (linear mel) at the encoder's input.
    instance_norm : bool
        Normalise each utterance's encoder input per mel band (``VQVAEConfig.instance_norm``).
    encoder_channels, decoder_channels, voice_dim : int
    n_eval : int
        Test sentences per speaker in the evaluation (each converted into every voice).
    eval_sources : int or None
        Source speakers of the evaluation, the corpus's first ones (``None``: all; each is
        still converted into every voice). ``smoke`` uses 2, to keep CI short.
    seed : int
        The corpus, the quantiser's restarts and the batch order.
    audio : AudioConfig
    """

    NOTEBOOK = "04"
    MODELS = {"speaker": "vqvae-speaker", "embedding": "vqvae-embedding"}
    NOT_DEFINING = ("n_eval", "eval_sources")
    SHORT = {"n_codes": "k", "downsample": "x", "code_dim": "w", "input_scale": "", "instance_norm": "in",
             "learning_rate": "lr", "epochs": "e", "batch_size": "b", "encoder_channels": "enc",
             "decoder_channels": "dec", "voice_dim": "v"}

    epochs: int
    batch_size: int
    learning_rate: float
    n_codes: int
    code_dim: int
    downsample: int
    input_scale: str
    encoder_channels: int
    decoder_channels: int
    voice_dim: int
    n_eval: int
    eval_sources: int | None = None
    instance_norm: bool = False

    @classmethod
    def for_profile(cls, profile: str) -> ConversionRecipe:
        return recipe(profile)

    def model_config(self, voice: str, data: ConversionData) -> VQVAEConfig:
        return VQVAEConfig(n_speakers=len(data.speakers), voice=voice, input_scale=self.input_scale,
                           instance_norm=self.instance_norm,
                           n_codes=self.n_codes, code_dim=self.code_dim, downsample=self.downsample,
                           encoder_channels=self.encoder_channels, decoder_channels=self.decoder_channels,
                           voice_dim=self.voice_dim, mel_mean=data.mel_mean, mel_std=data.mel_std,
                           magnitude_std=data.magnitude_std)


def recipe(profile: str, **changes) -> ConversionRecipe:
    """Notebook 04's recipe for ``profile``; ``changes`` replace fields (``recipe("quick", n_codes=64)``).

    ``quick``: 40 epochs of 30 batches, about 5 minutes per model on 2 cores (measured).
    ``full``: the full corpus's 10 voices, 75 batches of 64 an epoch, 20 epochs (1,500
    steps) per model, sized by measurement for 8 minutes on one GPU
    (``benchmarks/full_profile_timing.py``, ``benchmarks/results/``): on an H200 with the
    PyTorch backend a step took 78, 72 and 73 ms with 32, 64 and 128 clips, so the two
    models (and the bottleneck study's two, 5 epochs each) project to 4.3 minutes of
    steps, plus at most 3.9 of validation and checkpoints. The former 60 epochs of 32
    would have taken 50 minutes. Not yet trained to the end, so its quality is not measured.
    """
    r = ConversionRecipe(
        profile=profile,
        epochs=pick(profile, smoke=2, quick=40, full=20),
        batch_size=pick(profile, smoke=8, quick=16, full=64),
        learning_rate=1e-3,
        n_codes=pick(profile, smoke=16, quick=256, full=256),
        code_dim=pick(profile, smoke=8, quick=64, full=64),
        downsample=4,
        input_scale="db",
        encoder_channels=pick(profile, smoke=16, quick=128, full=256),
        decoder_channels=pick(profile, smoke=16, quick=192, full=384),
        voice_dim=pick(profile, smoke=8, quick=64, full=64),
        n_eval=pick(profile, smoke=1, quick=4, full=3),
        eval_sources=pick(profile, smoke=2, quick=None, full=None),
    )
    return r.with_changes(**changes)


@dataclasses.dataclass(kw_only=True)
class ConversionData(RecipeData):
    """The neutral clips notebook 04 trains on, split by sentence, batched; statistics; embeddings."""

    magnitude_std: float
    embeddings: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def voice_embedding(self, speaker: str) -> np.ndarray:
        """A training speaker's voice: the unit mean of its training clips' embeddings."""
        return mean_embedding(self.embeddings, [u.id for u in self.train.filter(speaker=speaker)], who=speaker)


def prepare(r: ConversionRecipe, *, data_dir: str | os.PathLike, corpus: Manifest | None = None,
            progress: bool = True) -> ConversionData:
    """Build (or open) the corpus of ``r.profile`` and ``r.seed`` (``voicelab.data.corpus_folder``);
    batch its neutral splits; measure the mels (those not yet in ``data_dir/cache`` in a process
    per core; ``progress``: with a progress bar)."""
    if corpus is None:
        corpus = build_corpus(corpus_folder(data_dir, r.profile, seed=r.seed), profile=r.profile, seed=r.seed)
    neutral = corpus.filter(emotion="neutral")
    if not len(neutral):
        raise ParameterError(f"{corpus.root}: no neutral utterances to train on")
    shared = split_and_batch(r, corpus, trained_on=neutral, data_dir=data_dir, batch_size=r.batch_size,
                             progress=progress)
    mels = np.concatenate([shared["batches"]["train"].features.mel(u) for u in shared["train"]])
    return ConversionData(**shared, magnitude_std=float(np.exp(mels).std()))


def add_embeddings(data: ConversionData, *, progress: bool = False) -> dict[str, np.ndarray]:
    """Resemblyzer embeddings of every neutral clip (train, valid, test) into ``data.embeddings``
    (:func:`voicelab.artifacts.embed_clips`, cached)."""
    clips = [u for m in (data.train, data.valid, data.test) for u in m]
    data.embeddings.update(embed_clips(clips, data.features, cache_dir=data.cache_dir,
                                       corpus_root=data.corpus.root, progress=progress))
    return data.embeddings


def _batches(data: ConversionData, voice: str, name: str):
    if voice not in VOICES:
        raise ParameterError(f"voice={voice!r} is not one of {VOICES}")
    return data.batches[name] if voice == "speaker" else EmbeddingBatches(data.batches[name], data.embeddings)


def train_or_load_vqvae(r: ConversionRecipe, data: ConversionData, voice: str = "speaker", *,
                        models_dir: str | os.PathLike, retrain: bool = False, verbose: int | str = 2,
                        callbacks=()) -> Run:
    """The VQ-VAE with a ``"speaker"`` id or an ``"embedding"`` voice (``models_dir/<r.run_name(voice)>/``).

    A fresh model's codebook starts at the k-means centres of its encoder's outputs on
    the first training batches; a resumed one reads it from the checkpoint.
    """
    if voice == "embedding" and not data.embeddings:
        add_embeddings(data)
    config = r.model_config(voice, data)
    train = _batches(data, voice, "train")

    def build():
        keras.utils.set_random_seed(r.seed)
        model = build_vqvae(config, r.audio, learning_rate=r.learning_rate)
        model.initialize_codebook(train)
        return model

    return train_run(Path(models_dir) / r.run_name(voice), build=build, train=train,
                     valid=_batches(data, voice, "valid"), epochs=r.epochs, retrain=retrain,
                     config={"recipe": r.defining_fields(voice), "speakers": data.speakers, "voice": voice},
                     callbacks=callbacks, verbose=verbose)


def converter(model, data: ConversionData, *, voices: dict[str, np.ndarray] | None = None):
    """``(mel, target) -> mel``: decode with a training speaker's id, or with a voice embedding.

    For an embedding model, ``target`` is a training speaker (its mean embedding) or a
    key of ``voices`` (``{name: embedding}``, e.g. of a clip of a voice never trained on).
    """
    voices = dict(voices or {})

    def run(mel: np.ndarray, target: str) -> np.ndarray:
        if model.config.voice == "speaker":
            if target not in data.speakers:
                raise ParameterError(f"target {target!r} is not a training speaker {data.speakers}; "
                                     "an id model speaks only those (the embedding model speaks any voice)")
            return convert(model, mel, speaker=data.speakers.index(target))
        vector = voices[target] if target in voices else data.voice_embedding(target)
        return convert(model, mel, embedding=vector)

    return run


def evaluation_sentences(r: ConversionRecipe, data: ConversionData) -> list[str]:
    """The first ``r.n_eval`` test sentences (ids)."""
    return sorted({u.sentence_id for u in data.test})[: r.n_eval]


def sources_and_targets(r: ConversionRecipe, data: ConversionData) -> tuple[list[Source], dict]:
    """``(sources, targets)`` of the evaluation: each speaker's rendition of each evaluation sentence.

    The targets are every speaker; the sources the first ``r.eval_sources`` speakers (all by default).
    """
    features = data.features
    sentences = evaluation_sentences(r, data)
    source_speakers = data.speakers[: r.eval_sources]
    sources, targets = [], {s: {} for s in data.speakers}
    for u in data.test.filter(sentence_id=sentences):
        audio, mel = features.load(u)
        if u.speaker in source_speakers:
            sources.append(Source(u.id, u.speaker, u.sentence_id, u.text, audio, mel))
        targets[u.speaker][u.sentence_id] = audio
    return sources, targets


def unseen_sources(r: ConversionRecipe, data: ConversionData, *, voices=UNSEEN_VOICES) -> list[Source]:
    """The evaluation sentences spoken by voices of no corpus (``voices``: :class:`Speaker` or names), as sources."""
    from voicelab.dsp.features import log_melspectrogram

    texts = {u.sentence_id: u.text for u in data.test}
    out = []
    for voice in voices:
        name = voice if isinstance(voice, str) else voice.name
        if name in data.speakers:
            raise ParameterError(f"{name!r} is a training speaker of this corpus, not an unseen voice")
        for sentence in evaluation_sentences(r, data):
            audio = speak(voice, texts[sentence], sr=r.audio.sr)
            out.append(Source(f"{name}_{sentence}", name, sentence, texts[sentence], audio,
                              log_melspectrogram(audio, config=r.audio)))
    return out


def evaluate(model, r: ConversionRecipe, data: ConversionData, sources, targets, *, vocoder,
             transcriber=None, progress: bool = False, return_audio: bool = False):
    """Every source converted into every target voice, scored (:func:`voicelab.evaluation.conversion.evaluate_conversions`)."""
    return evaluate_conversions(sources, targets, converter(model, data), vocoder, sr=r.audio.sr,
                                transcriber=transcriber, progress=progress, return_audio=return_audio)


def phoneme_frames(aligner, manifest: Manifest, r: ConversionRecipe, *, speakers: list[str],
                   cache_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Utterance id -> the phoneme symbol id of each mel frame, from notebook 02's aligner (and MAS)."""
    batches = SpeechBatches(manifest, config=r.audio, batch_size=16, speakers=speakers, shuffle=False,
                            cache_dir=cache_dir, with_audio=False)
    durations = durations_by_id(aligner, batches)
    out = {}
    for index in range(len(batches)):
        batch = batches[index]
        for row, u in enumerate(batches.utterances(index)):
            n = int(batch["token_length"][row])
            out[u.id] = np.repeat(batch["tokens"][row, :n], durations[u.id]).astype("int32")
    return out
