"""The recipe contract: what every notebook's recipe is and does, in one place.

Every recipe module (``voicelab.recipes.tts``, ``vocoder``, ``conversion``,
``speechsplit``, and those to come) follows it:

- a frozen dataclass subclassing :class:`Recipe`: every size, rate and budget of a
  profile, plus ``profile``, ``seed`` and ``audio``;
- ``recipe(profile, **changes)``: the profile's recipe with fields replaced in plain
  sight (an unknown field is a :class:`~voicelab.errors.ParameterError`);
- :meth:`Recipe.run_name` names every run the same way,
  ``<model>-<profile>[-<variant>][-seed<seed>]``, where the variant lists the fields that
  make this model and differ from the profile's defaults;
- :meth:`Recipe.defining_fields`: the fields that make one model, what its run records
  and is checked against (a field that only scores never retrains a model);
- ``prepare(r, data_dir=...)`` returns a :class:`RecipeData` (or a subclass): the
  corpus, its splits, the batches and the mel statistics;
- ``train_or_load_<model>(r, data, models_dir=...)`` trains through
  :func:`voicelab.train.train_or_load`; loading another notebook's model goes through
  :mod:`voicelab.artifacts`.

Example
-------
>>> from voicelab.recipes.conversion import recipe
>>> r = recipe("quick", n_codes=64)
>>> r.run_name("speaker"), recipe("quick", seed=2).run_name("speaker")
('vqvae-speaker-quick-k64', 'vqvae-speaker-quick-seed2')
>>> recipe("quick", n_kodes=64)   # doctest: +ELLIPSIS
Traceback (most recent call last):
...
voicelab.errors.ParameterError: ConversionRecipe has no field 'n_kodes' (its fields: ...)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np

from voicelab.data.manifest import Manifest
from voicelab.data.pipeline import SpeechBatches
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.profiles import check_profile

_ALWAYS = ("profile", "seed", "audio")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recipe:
    """Base of every recipe: a profile's configuration of one notebook.

    Subclasses declare, as class variables:

    - ``MODELS``: model key -> run-folder stem (``{"speaker": "tts-speaker"}``);
    - ``NOT_DEFINING``: fields that make no model (test sentences, Griffin-Lim
      iterations of a baseline, a budget another recipe reads);
    - ``OWN``: model key -> fields that make that model only (an aligner's epochs);
    - ``ONLY``: model key -> the whole list of fields that make it, where it depends on
      few (an aligner does not depend on the TTS model's width);
    - ``SHORT``: field -> its abbreviation in run names (``"n_codes": "k"``).

    and implement :meth:`for_profile`.
    """

    profile: str
    seed: int = 0
    audio: AudioConfig = AudioConfig()

    NOTEBOOK: ClassVar[str] = ""
    MODELS: ClassVar[Mapping[str, str]] = {}
    NOT_DEFINING: ClassVar[tuple[str, ...]] = ()
    OWN: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    ONLY: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    SHORT: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        check_profile(self.profile)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"seed={self.seed!r} must be a whole number, at least 0")

    # ------------------------------------------------------------------ construction
    @classmethod
    def for_profile(cls, profile: str) -> Recipe:
        """The recipe of ``profile`` with every field at its default."""
        raise NotImplementedError

    def with_changes(self, **changes) -> Recipe:
        """This recipe with ``changes`` replacing fields; an unknown field is a :class:`ParameterError`."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ParameterError(f"{type(self).__name__} has no field {unknown[0]!r} (its fields: {', '.join(names)})")
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ what makes a model
    def _check_model(self, model: str) -> None:
        if model not in self.MODELS:
            raise ParameterError(f"model={model!r}: {type(self).__name__} trains {', '.join(self.MODELS)}")

    def defining_fields(self, model: str) -> dict:
        """The fields that make ``model``: what its run records (``run.json``) and is checked against."""
        self._check_model(model)
        names = [f.name for f in dataclasses.fields(self)]
        if model in self.ONLY:
            keep = set(self.ONLY[model]) | set(_ALWAYS)
        else:
            others = {name for m, own in self.OWN.items() if m != model for name in own}
            keep = set(names) - set(self.NOT_DEFINING) - (others - set(self.OWN.get(model, ())))
        return {name: getattr(self, name) for name in names if name in keep}

    def variant(self, model: str) -> str:
        """The fields that make ``model`` and differ from the profile's defaults, short: ``""`` or ``"k64-x8"``.

        A field with an abbreviation in ``SHORT`` reads ``<abbreviation><value>``, in the
        order of ``SHORT``; any other change (a nested configuration) adds one short hash of the changed values.
        """
        default = type(self).for_profile(self.profile)
        base = default.defining_fields(model)
        mine = self.defining_fields(model)
        parts, unnamed = [], {}
        order = list(self.SHORT)        # the recipe's order of its abbreviations, then the fields' order
        for name, value in sorted(mine.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)):
            if name in _ALWAYS or value == base[name]:
                continue
            if name in self.SHORT and isinstance(value, (bool, int, float, str)):
                parts.append(_part(self.SHORT[name], value))
            else:
                unnamed[name] = value
        if unnamed:
            text = json.dumps({k: _jsonable(v) for k, v in unnamed.items()}, sort_keys=True)
            parts.append("h" + hashlib.sha1(text.encode()).hexdigest()[:6])
        if self.audio != default.audio:
            parts.append("a" + hashlib.sha1(repr(self.audio).encode()).hexdigest()[:6])
        return "-".join(parts)

    def run_name(self, model: str) -> str:
        """``<model>-<profile>[-<variant>][-seed<seed>]``: the run folder of ``model`` under ``DATA_DIR/models``."""
        self._check_model(model)
        parts = [self.MODELS[model], self.profile, self.variant(model), f"seed{self.seed}" if self.seed else ""]
        return "-".join(p for p in parts if p)

    def run_folder(self, model: str, data_dir: str | os.PathLike) -> Path:
        """``DATA_DIR/models/<run_name(model)>``."""
        return Path(data_dir) / "models" / self.run_name(model)


def _part(short: str, value) -> str:
    if isinstance(value, bool):
        return short if value else f"no-{short}"
    if isinstance(value, float):
        return f"{short}{value:g}"
    return f"{short}{value}"


def _jsonable(value):
    if dataclasses.is_dataclass(value):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------------- the data a recipe trains on
@dataclasses.dataclass(kw_only=True)
class RecipeData:
    """What ``prepare`` returns in every recipe: the corpus, its splits by sentence, batches, statistics.

    Attributes
    ----------
    corpus : Manifest
    train, valid, test : Manifest
        The clips trained on, validated on and scored on.
    speakers, emotions : list of str
        In id order (a speaker's id is its index).
    batches : dict
        ``"train"`` and ``"valid"`` :class:`~voicelab.data.pipeline.SpeechBatches`.
    mel_mean, mel_std : float
        Statistics of the training clips' log-mels (what models normalise with).
    cache_dir : Path
        ``DATA_DIR/cache``: features and speaker embeddings.
    """

    corpus: Manifest
    train: Manifest
    valid: Manifest
    test: Manifest
    speakers: list[str]
    batches: dict[str, SpeechBatches]
    mel_mean: float
    mel_std: float
    cache_dir: Path
    emotions: list[str] = dataclasses.field(default_factory=lambda: ["neutral"])

    @property
    def features(self):
        """The feature cache the batches read (:class:`voicelab.data.cache.FeatureCache`)."""
        return self.batches["train"].features


def split_and_batch(r: Recipe, corpus: Manifest, *, data_dir: str | os.PathLike, batch_size: int,
                    trained_on: Manifest | None = None, test: Manifest | None = None,
                    emotions: Iterable[str] = ("neutral",), kinds: tuple[str, ...] = ("mel",),
                    stats_of: Manifest | None = None, progress: bool = True) -> dict:
    """The fields every recipe's data shares, as keyword arguments of :class:`RecipeData`.

    ``trained_on`` (default: the corpus) is split by its ``split`` column into train and
    valid, batched (train shuffled); ``test`` defaults to its test split. The features
    ``kinds`` missing from ``DATA_DIR/cache`` are computed for train and valid in a
    process per core; the mel statistics are those of ``stats_of`` (default: train).
    """
    trained_on = corpus if trained_on is None else trained_on
    splits = {name: trained_on.filter(split=name) for name in ("train", "valid")}
    splits["test"] = trained_on.filter(split="test") if test is None else test
    if not len(splits["train"]):
        raise ParameterError(f"{corpus.root}: no training clips")
    cache_dir = Path(data_dir) / "cache"
    speakers, emotions = list(corpus.speakers), list(emotions)
    batches = {name: SpeechBatches(splits[name], config=r.audio, batch_size=batch_size, speakers=speakers,
                                   emotions=emotions, seed=r.seed, cache_dir=cache_dir, with_audio=False,
                                   shuffle=(name == "train"))
               for name in ("train", "valid")}
    features = batches["train"].features
    features.fill([*splits["train"], *splits["valid"]], kinds=kinds, progress=progress)
    mels = np.concatenate([features.mel(u) for u in (splits["train"] if stats_of is None else stats_of)])
    return dict(corpus=corpus, **splits, speakers=speakers, emotions=emotions, batches=batches,
                mel_mean=float(mels.mean()), mel_std=float(mels.std()), cache_dir=cache_dir)
