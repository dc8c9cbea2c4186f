"""Recipe of notebook 05: the emotional corpus, the emotion judge and SpeechSplit, trained or loaded.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``.

- :class:`SpeechSplitRecipe` / :func:`recipe`: the corpus (sentences, derived voices),
  the bottlenecks, sizes, learning rates and epochs of a profile;
- :func:`prepare`: the emotional corpus (``world_neutral``: every clip went through
  WORLD once, so the vocoder is no cue to the emotion; many derived voices), split by
  sentence, batched, with the mel statistics, each speaker's log-f0 statistics (of its
  neutral training clips) and its voice (the mean resemblyzer embedding of a few of
  its neutral training clips, cached);
- :class:`SplitBatches`: what SpeechSplit trains on: the mel, the same mel randomly
  resampled for the content encoder, the pitch classes resampled alike, the voice;
- :func:`train_or_load_judge`, :func:`train_or_load_speechsplit`,
  :func:`train_or_load_voicegan`, :func:`train_or_load_codegan`: the models, through
  :func:`voicelab.train.train_or_load`;
- :func:`prosody_codes`, :class:`CodeBatches`: the rhythm and pitch codes CodeGAN learns from;
- :func:`pitch_classes`, :func:`swap`, :func:`emotional_rendition`: one utterance's pitch
  input; a code swap between renditions of one sentence; a rendition in another emotion
  by CodeGAN, from the utterance alone.

Run folders: ``DATA_DIR/models/emotion-judge-<profile>[-<corpus>]`` and
``DATA_DIR/models/speechsplit-<profile>[-<variant>]``, ``DATA_DIR/models/voicegan-<profile>``,
``DATA_DIR/models/codegan-<profile>[-<variant>]`` (CodeGAN learns the codes of one SpeechSplit).

Example
-------
>>> r = recipe("quick")
>>> r.rhythm_dim, r.content_dim, r.pitch_dim, r.run_name()
(2, 16, 32, 'speechsplit-quick')
>>> recipe("quick", content_dim=4).run_name()
'speechsplit-quick-c4'
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras
import numpy as np

from voicelab.data import build_corpus
from voicelab.data import corpus_folder as data_corpus_folder
from voicelab.data.manifest import Manifest, Utterance
from voicelab.data.pipeline import ExtendedBatches, SpeechBatches, pad_batch, vary_first_two
from voicelab.dsp.features import AudioConfig
from voicelab.dsp.prosody import log_f0_stats, normalize_log_f0, quantize_f0, random_resample, stretch_to
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics
from voicelab.models.emotion import EmotionConfig, build_emotion_classifier
from voicelab.models.speechsplit import SpeechSplitConfig, build_speechsplit, split_and_swap
from voicelab.profiles import check_profile, pick
from voicelab.recipes.conversion import embed_clips
from voicelab.train import Run, is_trained, load_run, recipe_fields
from voicelab.train import train_or_load as train_run

EMBEDDING_CLIPS = 8
"""Neutral training clips per speaker whose resemblyzer embeddings are averaged into its voice."""


@dataclasses.dataclass(frozen=True)
class SpeechSplitRecipe:
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

    profile: str
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
    seed: int = 0
    audio: AudioConfig = AudioConfig()

    @property
    def variant(self) -> str:
        """What differs from the profile's default SpeechSplit: ``""`` or e.g. ``"c4-p8"``."""
        base = recipe(self.profile)
        parts = [f"r{self.rhythm_dim}" if self.rhythm_dim != base.rhythm_dim else "",
                 f"c{self.content_dim}" if self.content_dim != base.content_dim else "",
                 f"p{self.pitch_dim}" if self.pitch_dim != base.pitch_dim else "",
                 f"x{self.rate}" if self.rate != base.rate else "",
                 self.content_input if self.content_input != base.content_input else "",
                 f"lr{self.learning_rate:g}" if self.learning_rate != base.learning_rate else "",
                 f"e{self.epochs}" if self.epochs != base.epochs else "",
                 f"seed{self.seed}" if self.seed != base.seed else ""]
        return "-".join(p for p in parts if p)

    def run_name(self) -> str:
        """``speechsplit-<profile>``, plus :attr:`variant` when it is not the default."""
        return f"speechsplit-{self.profile}" + (f"-{self.variant}" if self.variant else "")

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
    check_profile(profile)
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
    unknown = set(changes) - {f.name for f in dataclasses.fields(SpeechSplitRecipe)}
    if unknown:
        raise ParameterError(f"recipe has no fields {sorted(unknown)}")
    return dataclasses.replace(r, **changes)


def corpus_folder(r: SpeechSplitRecipe, data_dir: str | os.PathLike) -> Path:
    """``DATA_DIR/corpus-<profile>-emotional[-seed<seed>]``: notebook 05's corpus."""
    return data_corpus_folder(data_dir, r.profile, seed=r.seed, kind="emotional")


def build_emotional_corpus(r: SpeechSplitRecipe, data_dir: str | os.PathLike, *, progress: bool = True) -> Manifest:
    """The corpus of notebook 05: every clip through WORLD once, the flite voices and ``r.derived_speakers`` more."""
    return build_corpus(corpus_folder(r, data_dir), profile=r.profile, seed=r.seed, n_sentences=r.n_sentences,
                        derived=r.derived_speakers, world_neutral=True, progress=progress)


@dataclasses.dataclass
class EmotionData:
    """Notebook 05's corpus split by sentence and batched, with its statistics and voices."""

    corpus: Manifest
    train: Manifest
    valid: Manifest
    test: Manifest
    speakers: list[str]
    emotions: list[str]
    batches: dict[str, SpeechBatches]
    mel_mean: float
    mel_std: float
    f0_stats: dict[str, tuple[float, float]]
    cache_dir: Path
    voices: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    clip_embeddings: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def features(self):
        return self.batches["train"].features


def prepare(r: SpeechSplitRecipe, *, data_dir: str | os.PathLike, corpus: Manifest | None = None,
            with_voices: bool = True, progress: bool = True) -> EmotionData:
    """Build (or open) the emotional corpus; batch its splits (every emotion); measure mels, f0 and voices."""
    data_dir = Path(data_dir)
    corpus = build_emotional_corpus(r, data_dir, progress=progress) if corpus is None else corpus
    splits = {name: corpus.filter(split=name) for name in ("train", "valid", "test")}
    if not len(splits["train"]) or "neutral" not in corpus.emotions:
        raise ParameterError(f"{corpus.root}: notebook 05 needs training clips and a neutral emotion")
    speakers, emotions = list(corpus.speakers), list(corpus.emotions)
    cache_dir = data_dir / "cache"
    batches = {name: SpeechBatches(splits[name], config=r.audio, batch_size=r.batch_size, speakers=speakers,
                                   emotions=emotions, seed=r.seed, cache_dir=cache_dir, with_audio=False,
                                   shuffle=(name == "train"))
               for name in ("train", "valid")}
    features = batches["train"].features
    # every epoch reads each clip's mel and f0: compute the missing ones once, in a process per core
    features.fill([*splits["train"], *splits["valid"]], kinds=("mel", "f0"), progress=progress)
    mels = np.concatenate([features.mel(u) for u in splits["train"].filter(emotion="neutral")])
    f0_stats = {}
    for speaker in speakers:
        neutral = splits["train"].filter(speaker=speaker, emotion="neutral")
        f0_stats[speaker] = log_f0_stats(*[features.f0(u) for u in neutral])
    data = EmotionData(corpus, splits["train"], splits["valid"], splits["test"], speakers, emotions, batches,
                       float(mels.mean()), float(mels.std()), f0_stats, cache_dir)
    if with_voices:
        add_voices(data, progress=progress)
    return data


def add_voices(data: EmotionData, *, progress: bool = False) -> dict[str, np.ndarray]:
    """Each speaker's voice: the unit mean of the resemblyzer embeddings of its first neutral training clips.

    The clips' embeddings are cached (:func:`voicelab.recipes.conversion.embed_clips`).
    """
    chosen = {s: list(data.train.filter(speaker=s, emotion="neutral"))[:EMBEDDING_CLIPS] for s in data.speakers}
    stored = embed_clips([u for utts in chosen.values() for u in utts], data.features, cache_dir=data.cache_dir,
                         corpus_root=data.corpus.root, progress=progress)
    for speaker, utts in chosen.items():
        data.clip_embeddings |= {u.id: stored[u.id] for u in utts}
        mean = np.mean([stored[u.id] for u in utts], axis=0)
        data.voices[speaker] = (mean / np.linalg.norm(mean)).astype("float32")
    return data.voices


def normalized_f0(data: EmotionData, utt: Utterance) -> np.ndarray:
    """The utterance's log-f0 normalised by its speaker's neutral statistics (NaN unvoiced)."""
    mean, std = data.f0_stats[utt.speaker]
    return normalize_log_f0(data.features.f0(utt), mean=mean, std=std)


def pitch_classes(data: EmotionData, utt: Utterance) -> np.ndarray:
    """The pitch encoder's input for one utterance: its 257-class quantised, speaker-normalised log-f0."""
    return quantize_f0(normalized_f0(data, utt))


class SplitBatches(ExtendedBatches):
    """Batches of :class:`SpeechBatches` plus ``content_mel``, ``pitch`` and ``embedding``.

    Each utterance's mel and normalised log-f0 are randomly resampled together
    (:func:`voicelab.dsp.prosody.random_resample`), then stretched uniformly back to the
    utterance's length, so every frame axis of a batch has one length while the local
    timing the content and pitch encoders see is scrambled. The draw depends on the
    seed, the epoch and the batch: reruns are identical. ``resample=False`` gives the
    unresampled inputs (validation).
    """

    def __init__(self, batches: SpeechBatches, data: EmotionData, *, seed: int = 0, resample: bool = True):
        super().__init__(batches)
        self.data, self.seed, self.resample, self.epoch = data, seed, resample, 0

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        self.epoch += 1

    def extend(self, batch: dict, utts: list) -> dict:
        missing = [u.speaker for u in utts if u.speaker not in self.data.voices]
        if missing:
            raise ParameterError(f"no voices for {sorted(set(missing))}: call add_voices(data) first")
        rng = np.random.default_rng((self.seed, self.epoch, int(batch["mel_length"].sum())))
        content = np.array(batch["mel"], copy=True)
        pitch = np.zeros(batch["mel"].shape[:2], "int32")
        for row, u in enumerate(utts):
            n = int(batch["mel_length"][row])
            mel, f0 = batch["mel"][row, :n], normalized_f0(self.data, u)[:n]
            f0 = np.pad(f0, (0, n - len(f0)), constant_values=np.nan)
            if self.resample:
                mel, f0 = (stretch_to(a, n) for a in random_resample(mel, f0, rng=rng))
            content[row, :n] = mel
            pitch[row, :n] = quantize_f0(f0)
        batch["content_mel"], batch["pitch"] = content, pitch
        batch["embedding"] = np.stack([self.data.voices[u.speaker] for u in utts])
        return batch


CORPUS_FIELDS = ("profile", "n_sentences", "derived_speakers", "seed", "audio")
"""The recipe's fields that make notebook 05's corpus and its voices (what every model's run records)."""

SCORING_FIELDS = ("n_eval", "eval_speakers", "n_voices")
"""The recipe's fields that only choose what the evaluation scores or samples."""

NOT_SPEECHSPLIT = SCORING_FIELDS + ("judge_epochs", "voicegan_epochs", "codegan_epochs", "codegan_channels")
"""The recipe's fields that neither make SpeechSplit nor its data (the other models', the evaluation's)."""


def train_or_load_judge(r: SpeechSplitRecipe, data: EmotionData, *, models_dir: str | os.PathLike,
                        name: str | None = None, retrain: bool = False, verbose: int | str = 2, callbacks=()) -> Run:
    """The emotion classifier on every training clip (``models_dir/emotion-judge-<profile>``, or ``name``)."""
    config = EmotionConfig(emotions=tuple(data.emotions), channels=pick(r.profile, smoke=16, quick=96, full=128),
                           mel_mean=data.mel_mean, mel_std=data.mel_std)

    def build():
        keras.utils.set_random_seed(r.seed)
        return build_emotion_classifier(config, r.audio)

    return train_run(Path(models_dir) / (name or f"emotion-judge-{r.profile}"), build=build,
                     train=data.batches["train"], valid=data.batches["valid"], epochs=r.judge_epochs,
                     retrain=retrain, config={"recipe": recipe_fields(r, only=CORPUS_FIELDS + ("batch_size", "judge_epochs")),
                                              "corpus_name": Path(data.corpus.root).name},
                     callbacks=callbacks, verbose=verbose)


def plain_corpus_data(r: SpeechSplitRecipe, *, data_dir: str | os.PathLike) -> EmotionData:
    """The profile's ordinary corpus (``DATA_DIR/corpus-<profile>``: neutral clips straight from the engine,
    emotional ones through WORLD), prepared alike, without voices: to train a judge that can use the WORLD cue."""
    corpus = build_corpus(data_corpus_folder(data_dir, r.profile, seed=r.seed), profile=r.profile, seed=r.seed)
    return prepare(r, data_dir=data_dir, corpus=corpus, with_voices=False)


def world_cue_check(judges: dict, data: EmotionData, r: SpeechSplitRecipe) -> list[dict]:
    """How often each judge calls a neutral test clip "neutral", as the engine made it and after one WORLD pass.

    ``data`` is :func:`plain_corpus_data` (raw neutral clips); each is also passed through
    WORLD analysis-synthesis with unchanged parameters. A judge that learned the vocoder
    rather than the emotion calls the second kind emotional.
    """
    from voicelab.data.emotion import STYLES, apply_style
    from voicelab.dsp.features import log_melspectrogram
    from voicelab.models.emotion import classify

    neutral = data.test.filter(emotion="neutral")
    raw = [data.features.audio(u) for u in neutral]
    world = [apply_style(y, sr=r.audio.sr, style=STYLES["neutral"]) for y in raw]
    rows = []
    for name, judge in judges.items():
        row = {"judge": name, "clips": len(raw)}
        for kind, clips in (("as made", raw), ("through WORLD", world)):
            p = classify(judge, [log_melspectrogram(y, config=r.audio) for y in clips])
            row[f"neutral, {kind}"] = round(float(np.mean(p.argmax(1) == judge.config.emotions.index("neutral"))), 3)
        rows.append(row)
    return rows


def train_or_load_speechsplit(r: SpeechSplitRecipe, data: EmotionData, *, models_dir: str | os.PathLike,
                              retrain: bool = False, verbose: int | str = 2, callbacks=()) -> Run:
    """SpeechSplit on every training clip, every emotion (``models_dir/<r.run_name()>/``)."""
    if not data.voices:
        add_voices(data)
    config = r.model_config(data)

    def build():
        keras.utils.set_random_seed(r.seed)
        return build_speechsplit(config, r.audio, learning_rate=r.learning_rate)

    return train_run(Path(models_dir) / r.run_name(), build=build,
                     train=SplitBatches(data.batches["train"], data, seed=r.seed),
                     valid=SplitBatches(data.batches["valid"], data, seed=r.seed, resample=False),
                     epochs=r.epochs, retrain=retrain, config={"recipe": recipe_fields(r, leave_out=NOT_SPEECHSPLIT),
                                                               "speakers": data.speakers},
                     callbacks=callbacks, verbose=verbose)


def train_or_load_voicegan(r: SpeechSplitRecipe, data: EmotionData, *, models_dir: str | os.PathLike,
                           retrain: bool = False, verbose: int | str = 0, callbacks=()) -> Run:
    """VoiceGAN on the training speakers' clip embeddings (``models_dir/voicegan-<profile>``); saves the generator."""
    from voicelab.models.voicegan import VoiceGAN, VoiceGANConfig

    if not data.clip_embeddings:
        add_voices(data)
    real = np.stack(list(data.clip_embeddings.values())).astype("float32")

    def build():
        keras.utils.set_random_seed(r.seed)
        gan = VoiceGAN(VoiceGANConfig(embedding_dim=real.shape[1]))
        gan.compile()
        return gan

    return train_run(Path(models_dir) / f"voicegan-{r.profile}", build=build,
                     train=VoiceSamples(real, batch_size=32, seed=r.seed), epochs=r.voicegan_epochs,
                     retrain=retrain, export=lambda gan: gan.generator,
                     config={"recipe": recipe_fields(r, only=CORPUS_FIELDS + ("voicegan_epochs",)),
                             "speakers": data.speakers, "clips": len(real)},
                     callbacks=callbacks, verbose=verbose)


class VoiceSamples(keras.utils.PyDataset):
    """Batches of real speaker embeddings ``[batch_size, D]``, a new seeded order every epoch."""

    def __init__(self, embeddings: np.ndarray, *, batch_size: int, seed: int = 0):
        super().__init__()
        self.embeddings, self.batch_size, self.seed, self.epoch = embeddings, batch_size, seed, 0
        self.order = np.random.default_rng((seed, 0)).permutation(len(embeddings))

    def __len__(self) -> int:
        return max(1, len(self.embeddings) // self.batch_size)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = np.random.default_rng((self.seed, self.epoch)).permutation(len(self.embeddings))

    def __getitem__(self, index: int) -> np.ndarray:
        return self.embeddings[self.order[index * self.batch_size: (index + 1) * self.batch_size]]


@dataclasses.dataclass
class ProsodyCodes:
    """The rhythm and pitch codes of utterances, concatenated per step: what CodeGAN converts."""

    codes: list[np.ndarray]
    emotions: np.ndarray
    ids: list[str]

    def __len__(self) -> int:
        return len(self.codes)


def _check_codegan_rates(model) -> None:
    if model.config.rhythm_rate != model.config.pitch_rate:
        raise ParameterError(f"CodeGAN joins the rhythm and pitch codes step by step: their rates must be equal, "
                             f"got {model.config.rhythm_rate} and {model.config.pitch_rate}")


def prosody_codes(model, data: EmotionData, utts, *, batch_size: int = 32) -> ProsodyCodes:
    """Each utterance's rhythm and pitch codes ``[steps, rhythm_dim + pitch_dim]`` (unresampled inputs)."""
    from voicelab.models.speechsplit import code_lengths

    _check_codegan_rates(model)
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


class CodeBatches(keras.utils.PyDataset):
    """Batches ``{"codes" [B, S, D], "length" [B], "emotion" [B]}`` of :class:`ProsodyCodes`, right padded;
    a new seeded order every epoch when ``shuffle``."""

    def __init__(self, table: ProsodyCodes, *, batch_size: int = 32, seed: int = 0, shuffle: bool = True):
        super().__init__()
        if not len(table):
            raise ParameterError("no codes to batch")
        self.table, self.batch_size, self.seed, self.shuffle, self.epoch = table, batch_size, seed, shuffle, 0
        self.batches = self._plan()

    def _plan(self) -> list[np.ndarray]:
        """This epoch's batches of row indices: all of them in order, or the full ones of a seeded shuffle."""
        rows = len(self.table)
        order = np.arange(rows) if not self.shuffle else np.random.default_rng((self.seed, self.epoch)).permutation(rows)
        batches = [order[i: i + self.batch_size] for i in range(0, rows, self.batch_size)][: len(self)]
        # the first two batches pad to different lengths, or TensorFlow would fix one length for every batch
        return vary_first_two(batches, lambda batch: (max(len(self.table.codes[i]) for i in batch),))

    def __len__(self) -> int:
        return max(1, len(self.table) // self.batch_size) if self.shuffle else -(-len(self.table) // self.batch_size)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.batches = self._plan()

    def __getitem__(self, index: int) -> dict:
        rows = self.batches[index]
        codes, length = pad_batch([self.table.codes[i] for i in rows], dtype="float32")
        return {"codes": codes, "length": length, "emotion": self.table.emotions[rows]}


def codegan_run_name(r: SpeechSplitRecipe) -> str:
    """``codegan-<profile>[-<variant>]``: one CodeGAN per SpeechSplit it learns the codes of."""
    return "codegan-" + r.run_name().removeprefix("speechsplit-")


def train_or_load_codegan(r: SpeechSplitRecipe, data: EmotionData, model, *, models_dir: str | os.PathLike,
                          retrain: bool = False, verbose: int | str = 0, callbacks=()) -> Run:
    """CodeGAN on the codes ``model`` (a trained SpeechSplit) gives the training clips; saves the generator.

    The codes are standardised with the training codes' per-number mean and deviation
    (kept in the generator's config). A finished run is loaded before any clip is encoded.
    """
    from voicelab.models.codegan import CodeGAN, CodeGANConfig

    folder = Path(models_dir) / codegan_run_name(r)
    trained_with = {"recipe": recipe_fields(r, leave_out=SCORING_FIELDS + ("judge_epochs", "voicegan_epochs")),
                    "speechsplit": r.run_name()}
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


def emotional_rendition(model, generator, data: EmotionData, utt: Utterance, emotion: str) -> np.ndarray:
    """``utt`` in ``emotion``, in its own voice and length: its rhythm and pitch codes through CodeGAN's
    ``generator``, its content code as it is; the decoded mel."""
    from voicelab.models.codegan import convert_codes
    from voicelab.models.speechsplit import codes_of, decode_codes

    _check_codegan_rates(model)
    if emotion not in data.emotions:
        raise ParameterError(f"emotion={emotion!r} is not one of {data.emotions}")
    mel = data.features.mel(utt)
    codes = codes_of(model, mel, pitch_classes(data, utt))
    joined = convert_codes(generator, np.concatenate([codes["rhythm"], codes["pitch"]], axis=-1),
                           emotion=data.emotions.index(emotion))
    codes["rhythm"], codes["pitch"] = joined[:, : model.config.rhythm_dim], joined[:, model.config.rhythm_dim:]
    return decode_codes(model, codes, embedding=data.voices[utt.speaker], n_frames=len(mel))


def same_speaker_similarity(data: EmotionData) -> np.ndarray:
    """Cosine of each training clip's embedding to its own speaker's voice: how far one voice spreads."""
    speaker_of = {u.id: u.speaker for u in data.train}
    return np.array([metrics.cosine_similarity(e, data.voices[speaker_of[i]]) for i, e in data.clip_embeddings.items()])


def load_speechsplit(r: SpeechSplitRecipe, *, data_dir: str | os.PathLike) -> Run:
    """A SpeechSplit model trained by notebook 05 with this recipe."""
    return load_run(Path(data_dir) / "models" / r.run_name(),
                    hint=f"run notebooks/05_emotional_voice_cloning.ipynb with PROFILE={r.profile!r} first")


def load_judge(r: SpeechSplitRecipe, *, data_dir: str | os.PathLike) -> Run:
    """The emotion classifier trained by notebook 05 for this profile."""
    return load_run(Path(data_dir) / "models" / f"emotion-judge-{r.profile}",
                    hint=f"run notebooks/05_emotional_voice_cloning.ipynb with PROFILE={r.profile!r} first")


def load_codegan(r: SpeechSplitRecipe, *, data_dir: str | os.PathLike) -> Run:
    """The CodeGAN generator trained by notebook 05 on this recipe's SpeechSplit codes."""
    return load_run(Path(data_dir) / "models" / codegan_run_name(r),
                    hint=f"run notebooks/05_emotional_voice_cloning.ipynb with PROFILE={r.profile!r} first")


def swap(model, data: EmotionData, *, content: Utterance, rhythm: Utterance | None = None,
         pitch: Utterance | None = None, voice: str | np.ndarray | None = None) -> np.ndarray:
    """Decode ``content``'s words with the rhythm of ``rhythm`` and the pitch of ``pitch`` (default: its own).

    ``voice`` is a speaker of the corpus or an embedding (default: ``content``'s
    speaker). The output has ``rhythm``'s frames.
    """
    rhythm, pitch = rhythm or content, pitch or content
    if isinstance(voice, str) or voice is None:
        name = content.speaker if voice is None else voice
        if name not in data.voices:
            raise ParameterError(f"voice {name!r} is not a speaker with a voice embedding ({len(data.voices)} known)")
        voice = data.voices[name]
    features = data.features
    return split_and_swap(model, content_mel=features.mel(content), rhythm_mel=features.mel(rhythm),
                          pitch=pitch_classes(data, pitch), embedding=voice)


SYSTEMS = ("recording", "vocoded", "reconstruction", "rhythm", "pitch", "rhythm+pitch", "codegan")
"""Rows of the evaluation: the real recording, it through the vocoder, SpeechSplit's reconstruction from
its own codes, the neutral clip with the rhythm, the pitch, or both from the emotional one, and the neutral
clip's own rhythm and pitch codes turned to the emotion by CodeGAN (no emotional recording used)."""


def judge_function(judge, config: AudioConfig = AudioConfig()):
    """``audio -> probabilities``: the emotion classifier on the log-mel of a recording."""
    from voicelab.dsp.features import log_melspectrogram
    from voicelab.models.emotion import classify

    return lambda audio: classify(judge, [log_melspectrogram(audio, config=config)])[0]


def evaluation_pairs(r: SpeechSplitRecipe, data: EmotionData) -> list[tuple[Utterance, Utterance]]:
    """``(neutral, emotional)`` test renditions of one speaker and sentence, every emotion (neutral with itself).

    The first ``r.eval_speakers`` speakers and ``r.n_eval`` test sentences.
    """
    sentences = sorted({u.sentence_id for u in data.test})[: r.n_eval]
    pairs = []
    for speaker in data.speakers[: r.eval_speakers]:
        for sentence in sentences:
            clips = {u.emotion: u for u in data.test.filter(speaker=speaker, sentence_id=sentence)}
            if "neutral" in clips:
                pairs += [(clips["neutral"], clips[e]) for e in data.emotions if e in clips]
    if not pairs:
        raise ParameterError("no neutral test renditions to evaluate")
    return pairs


def renditions(model, data: EmotionData, neutral: Utterance, target: Utterance, *, vocoder, codegan=None,
               systems=SYSTEMS) -> dict[str, np.ndarray]:
    """Audio of each of ``systems`` for one ``(neutral, emotional)`` pair (no swaps or CodeGAN for neutral;
    ``"codegan"`` only with a CodeGAN ``codegan`` generator)."""
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise ParameterError(f"systems {sorted(unknown)} are not among {SYSTEMS}")
    if "codegan" in systems and codegan is None:
        raise ParameterError('the "codegan" system needs codegan=<a CodeGAN generator>')
    make = {"recording": lambda: data.features.audio(target),
            "vocoded": lambda: vocoder(data.features.mel(target)),
            "reconstruction": lambda: vocoder(swap(model, data, content=target))}
    if target.emotion != "neutral":
        make |= {"rhythm": lambda: vocoder(swap(model, data, content=neutral, rhythm=target)),
                 "pitch": lambda: vocoder(swap(model, data, content=neutral, pitch=target)),
                 "rhythm+pitch": lambda: vocoder(swap(model, data, content=neutral, rhythm=target, pitch=target)),
                 "codegan": lambda: vocoder(emotional_rendition(model, codegan, data, neutral, target.emotion))}
    return {system: make[system]() for system in systems if system in make}


def evaluate(model, judge, r: SpeechSplitRecipe, data: EmotionData, *, vocoder, transcriber=None, codegan=None,
             systems=None, progress: bool = False, return_audio: bool = False):
    """Each of ``systems`` (default: :data:`SYSTEMS`, less ``"codegan"`` without ``codegan``) on every
    evaluation pair, scored (:func:`voicelab.evaluation.emotion.score_rendition`).

    Returns rows ``{"speaker", "sentence", "emotion", "system", ...}``, and with
    ``return_audio`` also ``{(speaker, sentence, emotion, system): audio}``.
    """
    from voicelab.evaluation.emotion import score_rendition

    if systems is None:
        systems = tuple(s for s in SYSTEMS if s != "codegan" or codegan is not None)
    judge_fn = judge_function(judge, r.audio)
    pairs = evaluation_pairs(r, data)
    if progress:
        from tqdm.auto import tqdm

        pairs = tqdm(pairs, desc="rendering and scoring")
    rows, clips, transcripts = [], {}, []
    for neutral, target in pairs:
        source = data.features.audio(neutral)
        made = renditions(model, data, neutral, target, vocoder=vocoder, codegan=codegan, systems=systems)
        for system, audio in made.items():
            scores = score_rendition(audio, target=data.features.audio(target), source=source, text=target.text,
                                     emotion=target.emotion, judge=judge_fn, emotions=data.emotions,
                                     sr=r.audio.sr, config=r.audio)
            key = (target.speaker, target.sentence_id, target.emotion, system)
            rows.append(dict(zip(("speaker", "sentence", "emotion", "system"), key)) | scores)
            if transcriber is not None:   # decoded in the recognizer's processes while the next clips are made
                transcripts.append((rows[-1], target.text, metrics.transcribe_later(transcriber, audio, sr=r.audio.sr)))
            if return_audio:
                clips[key] = audio
    for row, text, transcript in transcripts:
        row["wer"] = metrics.word_error_rate([text], [transcript.result()])
    return (rows, clips) if return_audio else rows


def speak_with_voices(model, r: SpeechSplitRecipe, data: EmotionData, voices: dict[str, np.ndarray], *, vocoder,
                      transcriber) -> tuple[list[dict], dict]:
    """Each neutral evaluation clip re-spoken by the decoder with each voice (a name -> embedding).

    Rows ``{"voice", "source_id", "wer", "sim_to_voice", "sim_to_source"}``: pocketsphinx WER,
    resemblyzer cosine of the speech to the voice it was given and to the clip's own
    speaker (NaN when the output has too little speech to embed). Also returns
    ``{voice: audio of the first clip}``.
    """
    sentences = sorted({u.sentence_id for u in data.test})[: r.n_eval]
    sources = [u for u in data.test.filter(emotion="neutral", sentence_id=sentences)
               if u.speaker in data.speakers[: r.eval_speakers]]
    rows, clips, transcripts = [], {}, []
    for name, vector in voices.items():
        for u in sources:
            audio = vocoder(swap(model, data, content=u, voice=vector))
            transcripts.append((u.text, metrics.transcribe_later(transcriber, audio, sr=r.audio.sr)))
            try:
                spoken = metrics.speaker_embedding(audio, sr=r.audio.sr)
                sims = metrics.cosine_similarity(spoken, vector), metrics.cosine_similarity(spoken, data.voices[u.speaker])
            except ParameterError:         # too little speech to embed: no voice at all
                sims = float("nan"), float("nan")
            rows.append({"voice": name, "source_id": u.id, "wer": None,
                         "sim_to_voice": sims[0], "sim_to_source": sims[1]})
            clips.setdefault(name, audio)
    for row, (text, transcript) in zip(rows, transcripts):
        row["wer"] = metrics.word_error_rate([text], [transcript.result()])
    return rows, clips
