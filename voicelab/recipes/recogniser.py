"""Recipe of notebook 06: a recogniser of spoken commands, trained on three sets and scored on held-out ones.

Introduced in ``notebooks/06_spoken_command_data.ipynb``. The model is
:mod:`voicelab.models.recogniser` (CTC transcript + intent head); the dataset is a
folder ``DIR`` with ``manifest.jsonl`` (:mod:`voicelab.recipes.command_data` makes it).

- :class:`RecogniserRecipe` / :func:`recipe`: the features, sizes, learning rate and
  epochs of a profile;
- :func:`prepare`: the manifest, the log-mels of every clip's clean and augmented audio
  (cached under ``DIR/features``), the three training sets and their mel statistics;
- :func:`train_or_load_recogniser`: one model per training set, through
  :func:`voicelab.train.train_or_load` (resumes after ``kill -9``):

  - ``"corpus_voices"``: the training clips of the kit's corpus voices
    (:data:`voicelab.data.speakers.FLITE_SPEAKERS`, flite without warping), clean;
  - ``"synthetic"``: the training clips of every voice, clean;
  - ``"augmented"``: the same clips as they are in the manifest (noise, rooms, bands);

- :func:`evaluate`: intent accuracy, slot F1, word error rate and the intent confusion
  of a split, clean or noisy; :func:`recognise`: sound files -> transcript, intent, slots.

Run folders: ``DATA_DIR/models/asr-<set>-<profile>[-<variant>]/``.

Example
-------
>>> r = recipe("quick")
>>> r.time_stride, r.rnn_units, r.audio.hop_length, r.run_name("augmented")
(3, 96, 160, 'asr-augmented-quick')
>>> recipe("quick", rnn_units=128).run_name("synthetic")
'asr-synthetic-quick-u128'
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import keras
import numpy as np

from voicelab.data.cache import FeatureCache
from voicelab.data.manifest import Manifest, Utterance, read_manifest
from voicelab.data.speakers import FLITE_SPEAKERS
from voicelab.errors import DatasetError, ParameterError, VoicelabError
from voicelab.models.recogniser import (
    ALPHABET,
    RECOGNISER_AUDIO,
    RecogniserConfig,
    build_recogniser,
    ctc_fits,
    encode_text,
    padded_frames,
    predict,
)
from voicelab.profiles import pick
from voicelab.recipes.base import Recipe, RecipeData
from voicelab.train import Run
from voicelab.train import train_or_load as train_run

TRAINING_SETS = ("corpus_voices", "synthetic", "augmented")
CONDITIONS = ("clean", "noisy")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecogniserRecipe(Recipe):
    """Everything notebook 06 trains and measures in one profile.

    Attributes
    ----------
    epochs, batch_size : int
    learning_rate : float
    conv_channels : tuple of int
    conv_kernel, time_stride : int
        The front end; ``time_stride`` mel frames per encoder frame.
    rnn : str
        ``"gru"`` or ``"lstm"``.
    rnn_units, rnn_layers, intent_units : int
    dropout, intent_weight : float
    train_clips : int or None
        Train on this many of the set's training clips (a seeded draw; the first ``n`` of a
        larger draw are the ``n`` of a smaller one), for the curve of accuracy against the
        amount of data; ``None``: all.
    warm_start : bool
        The ``"augmented"`` model starts from the ``"synthetic"`` one's weights (trained
        first, on the same clips clean) and then trains its ``epochs`` on the noisy clips:
        CTC learns to spell on clean speech faster than in noise. The three trainings of
        the notebook take the same time either way.
    eval_batch_size : int
        Clips per batch when scoring (makes no model).
    audio : AudioConfig
        The features: 10 ms hop, 25 ms window, 40 mels (:data:`~voicelab.models.recogniser.RECOGNISER_AUDIO`).
    """

    NOTEBOOK = "06"
    MODELS = {"corpus_voices": "asr-corpus", "synthetic": "asr-synthetic", "augmented": "asr-augmented"}
    NOT_DEFINING = ("eval_batch_size",)
    OWN = {"augmented": ("warm_start",)}
    SHORT = {"epochs": "e", "batch_size": "b", "learning_rate": "lr", "time_stride": "s", "rnn": "",
             "rnn_units": "u", "rnn_layers": "l", "dropout": "d", "intent_weight": "iw", "train_clips": "n",
             "warm_start": "ws"}

    epochs: int
    batch_size: int
    learning_rate: float
    conv_channels: tuple
    time_stride: int
    rnn_units: int
    rnn_layers: int
    conv_kernel: int = 5
    rnn: str = "gru"
    intent_units: int = 64
    dropout: float = 0.1
    intent_weight: float = 1.0
    train_clips: int | None = None
    warm_start: bool = True
    eval_batch_size: int = 32

    @classmethod
    def for_profile(cls, profile: str) -> RecogniserRecipe:
        return recipe(profile)

    @property
    def n_mels(self) -> int:
        return self.audio.n_mels

    def model_config(self, data: RecogniserData, which: str) -> RecogniserConfig:
        """The model's sizes, the dataset's intents and the mel statistics of training set ``which``."""
        mean, std = data.stats[which]
        return RecogniserConfig(n_mels=self.audio.n_mels, alphabet=ALPHABET, intents=tuple(data.intents),
                                conv_channels=tuple(self.conv_channels), conv_kernel=self.conv_kernel,
                                time_stride=self.time_stride, rnn=self.rnn, rnn_units=self.rnn_units,
                                rnn_layers=self.rnn_layers, intent_units=self.intent_units, dropout=self.dropout,
                                intent_weight=self.intent_weight, mel_mean=mean, mel_std=std)


def recipe(profile: str, **changes) -> RecogniserRecipe:
    """Notebook 06's recipe for ``profile``; ``changes`` replace fields (``recipe("quick", rnn_units=128)``).

    ``smoke``: a tiny model, 2 epochs, seconds. ``quick``: stride 3 (33 encoder frames a
    second, about twice what CTC needs for synthetic speech), one convolution of 96,
    2 x 96 BiGRU (about 0.32 M parameters); on 2 shared cores with TensorFlow an epoch of
    4,000 clips of 2 s took 34 s (measured while other work ran), so 8 epochs of the
    two sets of every voice and of the smaller corpus-voices set fit about 15 minutes.
    The PyTorch backend runs the recurrent layers as a Python loop on a CPU, about 3 times
    slower. ``full``: stride 2, 2 x 128 BiGRU over two convolutions (0.63 M parameters),
    for one GPU (cuDNN: the layers use no Keras mask); not yet timed on a GPU.
    """
    r = RecogniserRecipe(
        profile=profile,
        audio=RECOGNISER_AUDIO,
        epochs=pick(profile, smoke=2, quick=11, full=30),
        batch_size=pick(profile, smoke=8, quick=32, full=64),
        learning_rate=pick(profile, smoke=3e-3, quick=2e-3, full=1e-3),
        conv_channels=pick(profile, smoke=(16,), quick=(96,), full=(128, 128)),
        time_stride=pick(profile, smoke=3, quick=3, full=2),
        rnn_units=pick(profile, smoke=16, quick=96, full=128),
        rnn_layers=pick(profile, smoke=1, quick=2, full=2),
        intent_units=pick(profile, smoke=16, quick=64, full=64),
    )
    return r.with_changes(**changes)


# ---------------------------------------------------------------------------- data
def is_corpus_voice(u: Utterance) -> bool:
    """True for a clip of one of the kit's corpus voices (flite ``awb``, ``rms``, ``slt``, ``kal16``, unwarped)."""
    if u.speaker in FLITE_SPEAKERS:
        return True
    params = u.meta.get("voice_params") or {}
    return (u.meta.get("engine") == "flite" and params.get("voice") in FLITE_SPEAKERS
            and float(params.get("alpha", 1.0)) == 1.0 and float(params.get("f0_scale", 1.0)) == 1.0)


def clean(u: Utterance) -> Utterance:
    """The clip with its clean audio (``meta["clean_path"]``; the clip itself when it is clean)."""
    path = u.meta.get("clean_path")
    return dataclasses.replace(u, path=path) if path and path != u.path else u


@dataclasses.dataclass(kw_only=True)
class RecogniserData(RecipeData):
    """The dataset, its training sets, their statistics, and the feature cache.

    Attributes (beyond :class:`~voicelab.recipes.base.RecipeData`'s; ``test`` holds
    every ``test_*`` split, ``mel_mean``/``mel_std`` are the ``"synthetic"`` set's)
    ----------
    intents : list of str
        Sorted; an intent's id is its index.
    clips : dict
        ``clips[which]["train" | "valid"]``: the clips a training set trains and
        validates on (clean ones point at the clean audio).
    stats : dict
        ``which -> (mel_mean, mel_std)`` of its training clips.
    counts : dict
        ``which -> {"train": n, "valid": n, "dropped": n}`` (dropped: no CTC path at ``time_stride``).
    cache : FeatureCache
        Log-mels of ``r.audio``, under ``cache_dir``.
    """

    intents: list[str]
    clips: dict
    stats: dict
    counts: dict
    cache: FeatureCache

    @property
    def features(self) -> FeatureCache:
        return self.cache

    def split(self, split: str, condition: str = "clean") -> list[Utterance]:
        """The clips of ``split`` (``"test_values"``, ...) as heard in ``condition`` (``"clean"`` or ``"noisy"``)."""
        if condition not in CONDITIONS:
            raise ParameterError(f"condition={condition!r} must be one of {CONDITIONS}")
        clips = list(self.corpus.filter(split=split))
        if not clips:
            raise ParameterError(f"split={split!r} has no clips in {self.corpus.root} (splits: "
                                 f"{sorted({u.split for u in self.corpus})})")
        return [clean(u) for u in clips] if condition == "clean" else clips


def prepare(r: RecogniserRecipe, dataset_dir: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
            progress: bool = True) -> RecogniserData:
    """Read ``dataset_dir/manifest.jsonl``, compute the missing log-mels (clean and augmented audio, a
    process per core, cached in ``cache_dir``, default ``dataset_dir/features``), and make the three
    training sets with their statistics. A rerun reads every feature from the cache."""
    dataset_dir = Path(dataset_dir)
    corpus = read_manifest(dataset_dir / "manifest.jsonl")
    for u in corpus:
        if "intent" not in u.meta:
            raise DatasetError(f"{dataset_dir / 'manifest.jsonl'}: clip {u.id!r} has no meta['intent']")
        try:
            encode_text(u.text, ALPHABET)
        except ParameterError as error:
            raise DatasetError(f"{dataset_dir / 'manifest.jsonl'}: clip {u.id!r}: {error}") from None
    cache_dir = dataset_dir / "features" if cache_dir is None else Path(cache_dir)
    cache = FeatureCache(corpus, r.audio, cache_dir=cache_dir)
    heard = {"train": corpus.filter(split="train"), "valid": corpus.filter(split="valid")}
    if not len(heard["train"]):
        raise DatasetError(f"{dataset_dir}: no training clips")
    clips = {
        "corpus_voices": {s: [clean(u) for u in m if is_corpus_voice(u)] for s, m in heard.items()},
        "synthetic": {s: [clean(u) for u in m] for s, m in heard.items()},
        "augmented": {s: list(m) for s, m in heard.items()},
    }
    everything = {(u.id, u.path): u for sets in clips.values() for m in sets.values() for u in m}
    everything.update({(u.id, u.path): u for u in corpus if u.split.startswith("test")}
                      | {(c.id, c.path): c for c in map(clean, corpus) if c.split.startswith("test")})
    cache.fill(everything.values(), kinds=("mel",), progress=progress)
    config = RecogniserConfig(n_mels=r.audio.n_mels, time_stride=r.time_stride)
    sums = {}
    for key, u in everything.items():
        if u.split in ("train", "valid"):
            mel = cache.mel(u).astype("float64")
            sums[key] = (len(mel), mel.sum(), np.square(mel).sum(), ctc_fits(u.text, len(mel), config))
    stats, counts = {}, {}
    for which, sets in clips.items():
        kept = {s: [u for u in m if sums[(u.id, u.path)][3]] for s, m in sets.items()}
        counts[which] = {"train": len(kept["train"]), "valid": len(kept["valid"]),
                         "dropped": sum(len(m) for m in sets.values()) - sum(len(m) for m in kept.values())}
        if not kept["train"]:
            raise DatasetError(f"{dataset_dir}: the {which!r} training set has no clips")
        n, s1, s2 = (sum(sums[(u.id, u.path)][i] for u in kept["train"]) for i in range(3))
        mean = s1 / (n * r.audio.n_mels)
        stats[which] = (float(mean), float(np.sqrt(max(s2 / (n * r.audio.n_mels) - mean ** 2, 1e-12))))
        clips[which] = kept
    intents = sorted({u.meta["intent"] for u in corpus})
    test = Manifest([u for u in corpus if u.split.startswith("test")], corpus.root)
    return RecogniserData(corpus=corpus, train=heard["train"], valid=heard["valid"], test=test,
                          speakers=corpus.speakers, batches={}, mel_mean=stats["synthetic"][0],
                          mel_std=stats["synthetic"][1], cache_dir=cache_dir, intents=intents, clips=clips,
                          stats=stats, counts=counts, cache=cache)


class CommandBatches(keras.utils.PyDataset):
    """Padded batches ``({"mel", "mel_length"}, {"labels", "label_length", "intent"})`` of similar length.

    Clips are sorted by duration (with a random jitter of up to ``jitter`` seconds a
    ``shuffle``-d epoch), cut into batches, and the batches are shuffled: little
    padding, and another grouping every epoch, drawn from ``seed`` and the epoch number.
    Labels are the transcript's character classes, padded with 0.
    """

    def __init__(self, clips, features: FeatureCache, *, intents, batch_size: int, shuffle: bool = True,
                 seed: int = 0, alphabet: str = ALPHABET, jitter: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ParameterError(f"batch_size={batch_size!r} must be a positive integer")
        self.clips, self.features, self.batch_size = list(clips), features, batch_size
        if not self.clips:
            raise ParameterError("CommandBatches needs at least one clip")
        self.shuffle, self.seed, self.jitter, self.epoch = shuffle, seed, jitter, 0
        self.labels = [encode_text(u.text, alphabet) for u in self.clips]
        self.intents = np.array([list(intents).index(u.meta["intent"]) for u in self.clips], "int32")
        self._batches = self._order()

    def _order(self) -> list[np.ndarray]:
        durations = np.array([u.duration for u in self.clips])
        rng = np.random.default_rng([self.seed, self.epoch]) if self.shuffle else None
        if rng is not None:
            durations = durations + rng.uniform(0, self.jitter, len(durations))
        order = np.argsort(durations, kind="stable")
        batches = [order[i: i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __len__(self) -> int:
        return math.ceil(len(self.clips) / self.batch_size)

    def __getitem__(self, index: int):
        rows = self._batches[index]
        mels = [self.features.mel(self.clips[i]) for i in rows]
        lengths = np.array([len(m) for m in mels], "int32")
        mel = np.zeros((len(rows), padded_frames(lengths.max()), mels[0].shape[1]), "float32")
        label_length = np.array([len(self.labels[i]) for i in rows], "int32")
        labels = np.zeros((len(rows), label_length.max()), "int32")
        for row, (i, m) in enumerate(zip(rows, mels)):
            mel[row, : len(m)] = m
            labels[row, : label_length[row]] = self.labels[i]
        return ({"mel": mel, "mel_length": lengths},
                {"labels": labels, "label_length": label_length, "intent": self.intents[rows]})

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._batches = self._order()


def batches(r: RecogniserRecipe, data: RecogniserData, which: str, split: str = "train") -> CommandBatches:
    """The batches training set ``which`` trains (``"train"``, shuffled) or validates (``"valid"``) on."""
    r._check_model(which)
    clips = data.clips[which][split]
    if split == "train" and r.train_clips is not None:
        if r.train_clips > len(clips):
            raise ParameterError(f"train_clips={r.train_clips} is more than the {len(clips)} training clips of {which!r}")
        order = np.random.default_rng(r.seed).permutation(len(clips))
        clips = [clips[i] for i in sorted(order[: r.train_clips])]
    return CommandBatches(clips, data.cache, intents=data.intents, batch_size=r.batch_size,
                          shuffle=(split == "train"), seed=r.seed)


def train_or_load_recogniser(r: RecogniserRecipe, data: RecogniserData, which: str, *,
                             models_dir: str | os.PathLike, retrain: bool = False, verbose: int | str = 2,
                             callbacks=(), clips=None, run_name: str | None = None, record=None) -> Run:
    """The recogniser of training set ``which`` (``models_dir/<r.run_name(which)>/``), trained or loaded.

    With ``r.warm_start``, a fresh ``"augmented"`` run starts from the ``"synthetic"``
    model of the same recipe (trained first where it is not on disk).

    ``clips``: train on these clips instead (no validation), with ``which``'s mel statistics,
    in the run folder ``run_name``; its ``run.json`` records the recipe and ``record``
    (:func:`voicelab.recipes.data_worth.recorded_equivalence` trains on "recorded" clips so).
    """
    r._check_model(which)
    config = r.model_config(data, which)
    if clips is None:
        train = batches(r, data, which, "train")
        valid = batches(r, data, which, "valid") if data.clips[which]["valid"] else None
        folder = Path(models_dir) / r.run_name(which)
        saved = {"recipe": r.defining_fields(which), "intents": data.intents, "clips": data.counts[which]}
    else:
        if not run_name:
            raise ParameterError("training on given clips needs a run_name of its own")
        train = CommandBatches(list(clips), data.cache, intents=data.intents, batch_size=r.batch_size, seed=r.seed)
        valid, folder = None, Path(models_dir) / run_name
        saved = {"recipe": r.defining_fields(which), **(record or {})}

    def build():
        start = None
        if which == "augmented" and r.warm_start and clips is None:
            start = train_or_load_recogniser(r, data, "synthetic", models_dir=models_dir, verbose=verbose).model
        keras.utils.set_random_seed(r.seed)
        model = build_recogniser(config, r.audio, learning_rate=r.learning_rate)
        if start is not None:
            model.set_weights(start.get_weights())
        return model

    return train_run(folder, build=build, train=train, valid=valid, epochs=r.epochs, retrain=retrain,
                     callbacks=callbacks, verbose=verbose, config=saved)


# ---------------------------------------------------------------------------- scoring
def _grammar(grammar):
    if grammar is not None:
        return grammar
    from voicelab.data.commands import default_grammar

    return default_grammar()


def slots_of(text: str, grammar) -> dict:
    """The slots the grammar's parser reads from ``text`` (``{}`` where it cannot parse it)."""
    from voicelab.data.commands import parse

    try:
        parsed = parse(text, grammar)
    except (VoicelabError, ValueError, KeyError):
        return {}
    slots = parsed[1] if parsed else {}
    return dict(slots or {})


def _pairs(slots: dict) -> set:
    return {(str(k), str(v)) for k, v in slots.items()}


def evaluate(model, data: RecogniserData, split: str, *, condition: str = "clean", grammar=None,
             batch_size: int = 32, decoder=None, limit: int | None = None) -> dict:
    """Score ``model`` on ``split`` heard ``condition``-ly: ``{"intent_accuracy", "slot_f1", "wer", "cer", "n",
    "confusion"}``.

    The intent is the model's head's; the slots are parsed from the transcript; slot F1 counts
    ``(slot, value)`` pairs over the split against ``meta["slots"]``. ``confusion[i, j]``:
    clips of intent ``model.config.intents[i]`` answered ``j``. ``decoder``: transcripts held
    to a grammar (:class:`~voicelab.models.grammar_decoder.GrammarDecoder`) instead of the
    best path. ``limit``: score only the split's first ``limit`` clips (pocketsphinx's subset).
    """
    import jiwer

    from voicelab.evaluation.metrics import word_error_rate

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ParameterError(f"limit={limit!r} must be a positive number of clips, or None for all")
    grammar = _grammar(grammar)
    clips = data.split(split, condition)[:limit]
    results = predict(model, [data.cache.mel(u) for u in clips], batch_size=batch_size, decoder=decoder)
    intents = list(model.config.intents)
    confusion = np.zeros((len(intents), len(intents)), "int64")
    hits = predicted = wanted = 0
    for u, (text, intent, _) in zip(clips, results):
        confusion[intents.index(u.meta["intent"]), intents.index(intent)] += 1
        guess, truth = _pairs(slots_of(text, grammar)), _pairs(u.meta.get("slots", {}))
        hits, predicted, wanted = hits + len(guess & truth), predicted + len(guess), wanted + len(truth)
    refs, hyps = [u.text for u in clips], [text for text, _, _ in results]
    return {"intent_accuracy": float(np.trace(confusion) / max(confusion.sum(), 1)),
            "slot_f1": float(2 * hits / (predicted + wanted)) if predicted + wanted else 1.0,
            "wer": word_error_rate(refs, hyps), "cer": float(jiwer.cer(refs, [h or " " for h in hyps])),
            "n": len(clips), "confusion": confusion}


def recognise(model, paths_or_audio, *, grammar=None, batch_size: int = 32,
              held_to_grammar: bool = False) -> list[dict]:
    """``[{"path", "text", "intent", "slots"}]`` of sound files (or float arrays at the model's rate).

    What ``python -m voicelab recognise`` prints. ``grammar``: the one whose parser reads
    the slots (default: :func:`voicelab.data.commands.default_grammar`);
    ``held_to_grammar``: the transcript is the grammar's likeliest sentence
    (:class:`~voicelab.models.grammar_decoder.GrammarDecoder`), not the best path.
    """
    from voicelab.dsp.audio import check_audio, load
    from voicelab.dsp.features import log_melspectrogram

    grammar = _grammar(grammar)
    items = [paths_or_audio] if isinstance(paths_or_audio, (str, os.PathLike, np.ndarray)) else list(paths_or_audio)
    config = model.audio_config
    mels, names = [], []
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)):
            y, name = load(item, sr=config.sr), os.fspath(item)
        else:
            y, name = check_audio(np.asarray(item, "float32"), name=f"paths_or_audio[{i}]"), None
        mels.append(log_melspectrogram(y, config=config))
        names.append(name)
    decoder = None
    if held_to_grammar:
        from voicelab.models.grammar_decoder import GrammarDecoder

        decoder = GrammarDecoder.from_grammar(grammar, alphabet=model.config.alphabet)
    return [{"path": name, "text": text, "intent": intent, "slots": slots_of(text, grammar)}
            for name, (text, intent, _) in zip(names, predict(model, mels, batch_size=batch_size, decoder=decoder))]
