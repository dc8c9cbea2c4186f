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

Run folders: ``DATA_DIR/models/vqvae-<profile>-<voice>[-<variant>]/``.

Example
-------
>>> r = recipe("quick")
>>> r.n_codes, r.downsample, r.input_scale, r.run_name("speaker")
(256, 4, 'db', 'vqvae-quick-speaker')
>>> dataclasses.replace(r, n_codes=64, input_scale="magnitude").run_name("speaker")
'vqvae-quick-speaker-k64-magnitude'
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras
import numpy as np

from voicelab.data import build_corpus, corpus_folder
from voicelab.data.manifest import Manifest
from voicelab.data.pipeline import ExtendedBatches, SpeechBatches
from voicelab.data.speakers import Speaker, synthesize
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics
from voicelab.evaluation.conversion import Source, evaluate_conversions
from voicelab.models.align import durations_by_id
from voicelab.models.vqvae import VOICES, VQVAEConfig, build_vqvae, convert
from voicelab.profiles import check_profile, pick
from voicelab.train import Run, load_run, recipe_fields
from voicelab.train import train_or_load as train_run

UNSEEN_VOICES = (
    Speaker("espeak_m7", "espeak", "en-us+m7", "male", "eSpeak NG formant voice, American English, variant m7"),
    Speaker("espeak_f2", "espeak", "en-us+f2", "female", "eSpeak NG formant voice, American English, variant f2"),
)
"""Voices of no corpus profile (eSpeak NG variants the corpus never uses): sources, or a target, never trained on."""


@dataclasses.dataclass(frozen=True)
class ConversionRecipe:
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
        The quantiser's restarts and the batch order.
    audio : AudioConfig
    """

    profile: str
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
    seed: int = 0
    audio: AudioConfig = AudioConfig()

    @property
    def variant(self) -> str:
        """What differs from the profile's default training: ``""`` or e.g. ``"k64-x8-magnitude-e13"``."""
        base = recipe(self.profile)
        parts = [f"k{self.n_codes}" if self.n_codes != base.n_codes else "",
                 f"x{self.downsample}" if self.downsample != base.downsample else "",
                 f"w{self.code_dim}" if self.code_dim != base.code_dim else "",
                 self.input_scale if self.input_scale != base.input_scale else "",
                 "in" if self.instance_norm != base.instance_norm else "",
                 f"lr{self.learning_rate:g}" if self.learning_rate != base.learning_rate else "",
                 f"e{self.epochs}" if self.epochs != base.epochs else "",
                 f"seed{self.seed}" if self.seed != base.seed else ""]
        return "-".join(p for p in parts if p)

    def run_name(self, voice: str) -> str:
        """``vqvae-<profile>-<voice>``, plus :attr:`variant` when it is not the default."""
        if voice not in VOICES:
            raise ParameterError(f"voice={voice!r} is not one of {VOICES}")
        return f"vqvae-{self.profile}-{voice}" + (f"-{self.variant}" if self.variant else "")

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
    check_profile(profile)
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
    unknown = set(changes) - {f.name for f in dataclasses.fields(ConversionRecipe)}
    if unknown:
        raise ParameterError(f"recipe has no fields {sorted(unknown)}")
    return dataclasses.replace(r, **changes)


@dataclasses.dataclass
class ConversionData:
    """The neutral clips notebook 04 trains on, split by sentence, batched; statistics; embeddings."""

    corpus: Manifest
    train: Manifest
    valid: Manifest
    test: Manifest
    speakers: list[str]
    batches: dict[str, SpeechBatches]
    mel_mean: float
    mel_std: float
    magnitude_std: float
    cache_dir: Path
    embeddings: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def voice_embedding(self, speaker: str) -> np.ndarray:
        """A training speaker's voice: the unit mean of its training clips' embeddings."""
        vectors = [self.embeddings[u.id] for u in self.train.filter(speaker=speaker) if u.id in self.embeddings]
        if not vectors:
            raise ParameterError(f"no embeddings of {speaker!r}: call add_embeddings(data) first")
        mean = np.mean(vectors, axis=0)
        return (mean / np.linalg.norm(mean)).astype("float32")


def prepare(r: ConversionRecipe, *, data_dir: str | os.PathLike, corpus: Manifest | None = None,
            progress: bool = True) -> ConversionData:
    """Build (or open) the corpus of ``r.profile`` and ``r.seed`` (``voicelab.data.corpus_folder``);
    batch its neutral splits; measure the mels (those not yet in ``data_dir/cache`` in a process
    per core; ``progress``: with a progress bar)."""
    data_dir = Path(data_dir)
    if corpus is None:
        corpus = build_corpus(corpus_folder(data_dir, r.profile, seed=r.seed), profile=r.profile, seed=r.seed)
    neutral = corpus.filter(emotion="neutral")
    if not len(neutral):
        raise ParameterError(f"{corpus.root}: no neutral utterances to train on")
    splits = {name: neutral.filter(split=name) for name in ("train", "valid", "test")}
    speakers = list(corpus.speakers)
    cache_dir = data_dir / "cache"
    batches = {name: SpeechBatches(splits[name], config=r.audio, batch_size=r.batch_size, speakers=speakers,
                                   seed=r.seed, cache_dir=cache_dir, with_audio=False, shuffle=(name == "train"))
               for name in ("train", "valid")}
    batches["train"].features.fill([*splits["train"], *splits["valid"]], progress=progress)
    mels = np.concatenate([batches["train"].features.mel(u) for u in splits["train"]])
    return ConversionData(corpus, splits["train"], splits["valid"], splits["test"], speakers, batches,
                          float(mels.mean()), float(mels.std()), float(np.exp(mels).std()), cache_dir)


def embed_clips(utterances, features, *, cache_dir: str | os.PathLike, corpus_root: str | os.PathLike,
                progress: bool = False) -> dict[str, np.ndarray]:
    """Resemblyzer embeddings of ``utterances``, by id; every embedding stored for the corpus is returned.

    Kept in ``cache_dir/speaker-embeddings/<corpus folder>.npz``; only missing clips are
    embedded (notebooks 04 and 05 share the file of a corpus).
    """
    path = Path(cache_dir) / "speaker-embeddings" / f"{Path(corpus_root).name}.npz"
    stored = dict(np.load(path)) if path.is_file() else {}
    todo = [u for u in utterances if u.id not in stored]
    if progress and todo:
        from tqdm.auto import tqdm

        todo = tqdm(todo, desc="speaker embeddings")
    for u in todo:
        stored[u.id] = metrics.speaker_embedding(features.audio(u), sr=features.config.sr)
    if todo:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, **stored)
        os.replace(tmp, path)
    return stored


def add_embeddings(data: ConversionData, *, progress: bool = False) -> dict[str, np.ndarray]:
    """Resemblyzer embeddings of every neutral clip (train, valid, test) into ``data.embeddings`` (:func:`embed_clips`)."""
    clips = [u for m in (data.train, data.valid, data.test) for u in m]
    data.embeddings.update(embed_clips(clips, data.batches["train"].features, cache_dir=data.cache_dir,
                                       corpus_root=data.corpus.root, progress=progress))
    return data.embeddings


class EmbeddingBatches(ExtendedBatches):
    """:class:`SpeechBatches` whose batches also carry ``embedding [B, D]``, each clip's own."""

    def __init__(self, batches: SpeechBatches, embeddings: dict[str, np.ndarray]):
        super().__init__(batches)
        self.embeddings = embeddings

    def extend(self, batch: dict, utts: list) -> dict:
        missing = [u.id for u in utts if u.id not in self.embeddings]
        if missing:
            raise ParameterError(f"no speaker embeddings for {missing[:3]}: call add_embeddings(data) first")
        batch["embedding"] = np.stack([self.embeddings[u.id] for u in utts]).astype("float32")
        return batch


def _batches(data: ConversionData, voice: str, name: str):
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
                     config={"recipe": recipe_fields(r, leave_out=("n_eval", "eval_sources")), "speakers": data.speakers,
                             "voice": voice},
                     callbacks=callbacks, verbose=verbose)


def load_vqvae(r: ConversionRecipe, voice: str = "speaker", *, data_dir: str | os.PathLike) -> Run:
    """A VQ-VAE trained by notebook 04 with this recipe."""
    return load_run(Path(data_dir) / "models" / r.run_name(voice),
                    hint=f"run notebooks/04_vqvae_voice_conversion.ipynb with PROFILE={r.profile!r} first")


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
    features = data.batches["train"].features
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
            audio = synthesize(voice, texts[sentence], sr=r.audio.sr)
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
