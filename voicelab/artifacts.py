"""What several notebooks share, in one place: the kit's trained models and speaker embeddings.

Every notebook that needs another notebook's model gets it here, and a missing one is
one :class:`MissingArtifact` error that says which notebook (or command) trains it:

- :func:`load_vocoder`: notebook 03's iSTFT vocoder (notebooks 02, 04, 05), else
  Griffin-Lim with a message;
- :func:`load_aligner`, :func:`load_tts`: notebook 02's aligner (notebooks 03, 04) and
  TTS models (notebook 03, ``python -m voicelab speak``);
- :func:`load_vqvae`: notebook 04's converter (``python -m voicelab convert``);
- :func:`train`: the artifacts that need only the corpus (the vocoder, the aligner),
  trained on their own through their notebook's recipe, into the run folder the
  notebook loads: ``python -m voicelab train vocoder``;
- :func:`embed_clips`, :func:`mean_embedding`: resemblyzer speaker embeddings of a
  corpus's clips, cached in ``DATA_DIR/cache/speaker-embeddings/`` (notebooks 04, 05).

The artifacts themselves are listed in :data:`voicelab.registry.ARTIFACTS`.

Example
-------
>>> import tempfile
>>> is_ready("vocoder", "smoke", data_dir=tempfile.mkdtemp())
False
>>> load_tts("smoke", data_dir=tempfile.mkdtemp())   # doctest: +ELLIPSIS
Traceback (most recent call last):
...
voicelab.artifacts.MissingArtifact: no TTS model ... run notebook 02 (make run ONLY=02 PROFILE=smoke)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from voicelab import registry
from voicelab.dsp.features import AudioConfig
from voicelab.errors import DatasetError, ParameterError
from voicelab.profiles import check_profile


class MissingArtifact(DatasetError, FileNotFoundError):
    """A model that another notebook trains is not in ``DATA_DIR/models`` yet."""


def how_to_make(name: str, profile: str) -> str:
    """The commands that make artifact ``name`` in ``profile``.

    >>> how_to_make("vocoder", "quick")
    'run notebook 03 (make run ONLY=03 PROFILE=quick), or train it alone: python -m voicelab train vocoder --profile quick'
    """
    entry = registry.artifact(name)
    text = f"run notebook {entry.notebook} (make run ONLY={entry.notebook} PROFILE={profile})"
    if entry.trainable_alone:
        text += f", or train it alone: python -m voicelab train {name} --profile {profile}"
    return text


def _missing(name: str, what: str, folder: Path, profile: str) -> MissingArtifact:
    return MissingArtifact(f"no {what} in {folder}: {how_to_make(name, profile)}")


# ---------------------------------------------------------------------- where each artifact lives
def _tts_recipe(profile: str, seed: int):
    from voicelab.recipes import tts

    return tts.recipe(profile, seed=seed)


def _vocoder_recipe(profile: str, seed: int, config: AudioConfig = AudioConfig()):
    from voicelab.recipes import vocoder

    return vocoder.recipe(profile, seed=seed, audio=config)


def folder(name: str, profile: str, *, data_dir: str | os.PathLike, seed: int = 0) -> Path:
    """The run folder of artifact ``name`` (``DATA_DIR/models/<run name>``)."""
    check_profile(profile)
    registry.artifact(name)
    if name == "vocoder":
        return _vocoder_recipe(profile, seed).run_folder("istft", data_dir)
    if name == "aligner":
        return _tts_recipe(profile, seed).run_folder("aligner", data_dir)
    if name == "tts":
        return _tts_recipe(profile, seed).run_folder("speaker", data_dir)
    if name == "recogniser":
        from voicelab.recipes import recogniser

        return recogniser.recipe(profile, seed=seed).run_folder("augmented", data_dir)
    from voicelab.recipes import conversion

    return conversion.recipe(profile, seed=seed).run_folder("speaker", data_dir)


def is_ready(name: str, profile: str, *, data_dir: str | os.PathLike, seed: int = 0) -> bool:
    """True when artifact ``name`` of ``profile`` is trained in ``data_dir``."""
    from voicelab.train import is_trained

    return is_trained(folder(name, profile, data_dir=data_dir, seed=seed))


def _load(name: str, what: str, profile: str, data_dir, *, model: str, r):
    from voicelab.train import is_trained, load_run

    where = r.run_folder(model, data_dir)
    if not is_trained(where):
        raise _missing(name, what, where, profile)
    return load_run(where, config={"recipe": r.defining_fields(model)})


# ---------------------------------------------------------------------- loading
def load_vocoder(profile: str, *, data_dir: str | os.PathLike, config: AudioConfig = AudioConfig(),
                 n_iter: int | None = None, quiet: bool = False, adapted: bool = False, seed: int = 0):
    """The kit's vocoder for ``profile``: notebook 03's trained iSTFT vocoder, else Griffin-Lim.

    When ``DATA_DIR/models/istft-<profile>/`` holds no finished run, it says so (unless
    ``quiet``) with the command that trains it, and returns Griffin-Lim with the recipe's
    ``gl_iters`` (or ``n_iter``). ``adapted=True`` asks for the one adapted to notebook
    02's mels, for text-to-speech (notebook 03's last section trains it); where there is
    none, it says so and goes on as without it.
    """
    from voicelab.train import is_trained, load_run
    from voicelab.vocoders import griffin_lim_vocoder, neural_vocoder

    r = _vocoder_recipe(profile, seed, config)
    candidates = ([("adapted", "iSTFT vocoder adapted to notebook 02's mels")] if adapted else []) + [
        ("istft", "iSTFT vocoder")]
    for model, what in candidates:
        where = r.run_folder(model, data_dir)
        if is_trained(where):
            run = load_run(where)
            if not quiet:
                print(f"vocoder: {what} from {where} ({run.info['steps']} steps, {run.seconds:.0f} s of training)")
            return neural_vocoder(run.model, config)
        if not quiet and model == "adapted":
            print(f"vocoder: no {what} in {where} (notebook 03's last section trains it)")
    iters = n_iter or r.gl_iters
    if not quiet:
        print(f"vocoder: Griffin-Lim, {iters} iterations. No trained neural vocoder in "
              f"{r.run_folder('istft', data_dir)}: {how_to_make('vocoder', profile)}")
    return griffin_lim_vocoder(config, n_iter=iters)


def load_aligner(profile: str, *, data_dir: str | os.PathLike, seed: int = 0):
    """Notebook 02's aligner of ``profile`` (a :class:`voicelab.train.Run`)."""
    r = _tts_recipe(profile, seed)
    return _load("aligner", "aligner", profile, data_dir, model="aligner", r=r)


def load_tts(profile: str, voice: str = "speaker", *, data_dir: str | os.PathLike, seed: int = 0,
             emotions: bool = False):
    """``(model, speakers, run)``: a TTS model of notebook 02 (``voice``: ``"speaker"`` or ``"reference"``).

    ``emotions=True``: the emotion model (every emotion, the variance adaptor).
    """
    r = _tts_recipe(profile, seed)
    r = r.emotion_variant() if emotions else r
    what = f"TTS model ({voice} voice{', emotions' if emotions else ''})"
    run = _load("tts", what, profile, data_dir, model=voice, r=r)
    return run.model, list(run.info["config"]["speakers"]), run


def load_vqvae(profile: str, voice: str = "speaker", *, data_dir: str | os.PathLike, seed: int = 0):
    """Notebook 04's VQ-VAE of ``profile`` with a ``"speaker"`` id or an ``"embedding"`` voice (a Run)."""
    from voicelab.recipes import conversion

    r = conversion.recipe(profile, seed=seed)
    return _load("vqvae", f"VQ-VAE ({voice} voice)", profile, data_dir, model=voice, r=r)


def load_recogniser(profile: str, which: str = "augmented", *, data_dir: str | os.PathLike, seed: int = 0):
    """Notebook 06's spoken-command recogniser of ``profile`` (a Run; ``run.model``).

    ``which``: the training set, ``"augmented"`` (synthetic speech with rooms and noise, the
    default), ``"synthetic"`` (clean synthetic speech) or ``"corpus_voices"``.
    """
    from voicelab.recipes import recogniser

    r = recogniser.recipe(profile, seed=seed)
    if which not in r.MODELS:
        raise ParameterError(f"which={which!r} is not one of {', '.join(r.MODELS)}")
    return _load("recogniser", f"recogniser ({which})", profile, data_dir, model=which, r=r)


# ---------------------------------------------------------------------- training alone
def train(name: str, profile: str, *, data_dir: str | os.PathLike, seed: int = 0, retrain: bool = False,
          verbose: int | str = 2):
    """Train artifact ``name`` without its notebook (only those that need just the corpus); returns its Run.

    The run goes into the folder the notebook loads (same recipe, same name), so the
    notebook finds it trained.
    """
    entry = registry.artifact(name)
    if not entry.trainable_alone:
        raise ParameterError(f"{name!r} is trained by notebook {entry.notebook} only: "
                             f"make run ONLY={entry.notebook} PROFILE={profile}")
    from voicelab.data import build_corpus, corpus_folder

    corpus = build_corpus(corpus_folder(data_dir, profile, seed=seed), profile=profile, seed=seed)
    models_dir = Path(data_dir) / "models"
    if name == "vocoder":
        from voicelab.recipes import vocoder

        r = vocoder.recipe(profile, seed=seed)
        return vocoder.train_or_load_istft(r, vocoder.training_clips(corpus), models_dir=models_dir,
                                           cache_dir=Path(data_dir) / "cache", retrain=retrain, verbose=verbose)
    from voicelab.recipes import tts

    r = tts.recipe(profile, seed=seed)
    data = tts.prepare(r, data_dir=data_dir, corpus=corpus)
    return tts.train_or_load_aligner(r, data, models_dir=models_dir, retrain=retrain, verbose=verbose)


# ---------------------------------------------------------------------- speaker embeddings
def embed_clips(utterances, features, *, cache_dir: str | os.PathLike, corpus_root: str | os.PathLike,
                progress: bool = False) -> dict[str, np.ndarray]:
    """Resemblyzer embeddings of ``utterances``, by id; every embedding stored for the corpus is returned.

    Kept in ``cache_dir/speaker-embeddings/<corpus folder>.npz``; only missing clips are
    embedded (notebooks 04 and 05 share the file of a corpus). ``features`` is the
    :class:`~voicelab.data.cache.FeatureCache` that loads each clip's audio.
    """
    from voicelab.evaluation import metrics

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


def mean_embedding(embeddings: dict[str, np.ndarray], ids, *, who: str = "") -> np.ndarray:
    """A voice: the unit-length mean of the embeddings of clips ``ids`` (those present).

    >>> v = mean_embedding({"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}, ["a", "b"])
    >>> [round(float(x), 3) for x in v]
    [0.707, 0.707]
    """
    vectors = [embeddings[i] for i in ids if i in embeddings]
    if not vectors:
        raise ParameterError(f"no speaker embeddings{' of ' + repr(who) if who else ''}: embed its clips first "
                             "(embed_clips)")
    mean = np.mean(vectors, axis=0)
    return (mean / np.linalg.norm(mean)).astype("float32")


__all__ = ["MissingArtifact", "embed_clips", "folder", "how_to_make", "is_ready", "load_aligner", "load_tts",
           "load_vocoder", "load_vqvae", "mean_embedding", "train"]
