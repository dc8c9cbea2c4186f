"""Spoken-command datasets of any size: sentences, voices, noise, shards on Dask, a card.

Introduced in ``notebooks/06_spoken_command_data.ipynb``; ``python -m voicelab synth-data``
and ``benchmarks/synthetic_data.py`` call the same :func:`build_dataset`.

How a dataset is made, in order:

1. **sentences**: the command grammar's coverage-designed plan
   (:func:`voicelab.data.commands.plan`), each with its split;
2. **voices**: each clip's voice drawn from its own seed (:mod:`voicelab.data.command_voices`);
   the ``test_voices`` split's held-out voices and engines take turns, so that each is there;
3. **augmentation**: each clip's room, noise, gain and band limits drawn from its own seed,
   derived from its id (:func:`voicelab.data.augment.sample_augmentation`; the
   ``test_noise`` split from the held-out noise and rooms), babble made from the
   dataset's own training clips;
4. **shards** of about a hundred clips rendered on Dask distributed (a ``LocalCluster`` of
   ``workers`` single-threaded processes, or the cluster at ``scheduler``): each shard writes
   its audio, then its rows to ``shards/NNNN.jsonl`` atomically, so a killed run resumes
   with the shards that are not there, and the dataset is the same bit for bit whatever
   the number of workers (every clip depends on its own seed only);
5. the **manifest** (``manifest.jsonl``, the kit's format with the command in ``meta``),
   the coverage report, the audit of the augmentation's randomness, and a **dataset
   card** (``card.md``, after Gebru et al.'s "Datasheets for Datasets").

Layout of a dataset folder::

    DIR/spec.json        what was asked (a rerun with another spec is refused)
    DIR/clean/NNNN/*.flac, DIR/noisy/NNNN/*.flac     16 kHz, 16-bit FLAC
    DIR/babble/*.flac    the babble bank: clean training clips of the dataset
    DIR/shards/NNNN.jsonl   a finished shard's rows
    DIR/manifest.jsonl, DIR/card.md, DIR/figures/*.png    when every shard is done

Example
-------
>>> s = dataset_spec("quick")
>>> s.size, s.shard_size, s.k
(5000, 100, 3)
>>> dataset_spec("smoke", size=0)
Traceback (most recent call last):
...
voicelab.errors.ParameterError: size=0 must be a positive number of clips
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from voicelab.data.augment import AugmentationSpec, BabbleBank, apply_augmentation, sample_augmentation
from voicelab.data.command_voices import MODEL_ENGINES, VOICEGAN_VOICES, Voice, VoicePool, render, voice_pool
from voicelab.data.commands import Command, CommandGrammar, default_grammar, grammar_rules, min_size_for, plan
from voicelab.data.manifest import Manifest, Utterance, read_manifest, write_manifest
from voicelab.data.speakers import speak as speak_with
from voicelab.errors import DatasetError, ParameterError
from voicelab.evaluation.audit import clip_labels
from voicelab.profiles import check_profile, default_workers, pick
from voicelab.text import to_phonemes

SR = 16000
BABBLE_SPLIT = "train"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """What a command dataset is made of (the dataset's recipe).

    Attributes
    ----------
    profile : str
        Sizes; the kit's TTS of this profile speaks the ``kit-tts`` voices.
    size : int
        Clips, every split together.
    seed : int
        Sentences, voices and augmentation all derive from it.
    k : int
        Coverage: every (intent, training slot value) pair at least ``k`` times in training.
    shard_size : int
        Clips per shard (a task on a Dask worker, a unit of resume).
    babble_clips : int
        Training clips whose clean audio makes the babble bank.
    n_world : int
        WORLD-derived training voices.
    kit_tts : bool or None
        Speak some sentences with notebook 02's TTS: ``None`` where it is trained.
    voicegan : bool or None
        Speak some sentences in notebook 05's VoiceGAN voices: ``None`` where VoiceGAN and
        SpeechSplit are trained.
    engines : tuple of str
        Keep only these training engines (``("kit-tts",)``); empty: every engine there is.
    augmentation : AugmentationSpec
        The declared distributions of every augmentation parameter.
    """

    profile: str
    size: int
    seed: int = 0
    k: int
    shard_size: int
    babble_clips: int
    n_world: int = 8
    kit_tts: bool | None = None
    voicegan: bool | None = None
    engines: tuple[str, ...] = ()
    augmentation: AugmentationSpec = AugmentationSpec()

    def __post_init__(self) -> None:
        check_profile(self.profile)
        for name in ("size", "shard_size", "babble_clips", "k", "n_world"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive "
                                     f"{'number of clips' if name == 'size' else 'integer'}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"seed={self.seed!r} must be a non-negative integer")

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["augmentation"] = dataclasses.asdict(self.augmentation)
        return json.loads(json.dumps(out))


def dataset_spec(profile: str, **changes) -> DatasetSpec:
    """The dataset of ``profile``: ``smoke`` 48 clips, ``quick`` 5,000, ``full`` 50,000."""
    fields = dict(profile=profile,
                  size=pick(profile, smoke=48, quick=5000, full=50000),
                  k=pick(profile, smoke=1, quick=3, full=10),
                  shard_size=pick(profile, smoke=16, quick=100, full=100),
                  babble_clips=pick(profile, smoke=8, quick=64, full=200),
                  n_world=pick(profile, smoke=2, quick=8, full=16))
    unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(DatasetSpec)})
    if unknown:
        raise ParameterError(f"DatasetSpec has no field {unknown[0]!r}")
    return DatasetSpec(**{**fields, **changes})


# --------------------------------------------------------------------- the plan
@dataclasses.dataclass(frozen=True)
class ClipPlan:
    """One clip to make: its sentence, split, voice and augmentation."""

    id: str
    command: Command
    split: str
    voice: Voice
    augmentation: dict
    shard: int


def clip_rng(seed: int, clip_id: str, what: str) -> np.random.Generator:
    """A generator for one clip and one purpose, from ``seed`` and the clip's id only."""
    digest = hashlib.sha256(f"{seed}/{clip_id}/{what}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def labels_of(clip: ClipPlan) -> dict:
    """What the audit checks the augmentation against (:func:`voicelab.evaluation.audit.clip_labels`)."""
    return clip_labels(intent=clip.command.intent, slots=clip.command.slot_values, voice=clip.voice.name,
                       engine=clip.voice.engine, emotion=clip.voice.emotion)


def make_plan(spec: DatasetSpec, *, grammar: CommandGrammar | None = None, pool: VoicePool | None = None,
              babble: BabbleBank | None = None) -> list[ClipPlan]:
    """Every clip of the dataset, decided before any audio is made (deterministic from ``spec.seed``)."""
    grammar = grammar or default_grammar()
    pool = pool or voice_pool(seed=spec.seed, n_world=spec.n_world)
    held_noise = spec.augmentation.held_out()
    clips = []
    k = spec.k if spec.size >= min_size_for(grammar, spec.k) else None   # smoke: too few clips for any design
    # the held-out voices take turns (in an order drawn from the seed): every one of them is in test_voices
    rotation = [pool.held_out[i] for i in np.random.default_rng([spec.seed, 7]).permutation(len(pool.held_out))]
    turn = 0
    for i, (command, split) in enumerate(plan(grammar, spec.size, seed=spec.seed, k=k)):
        clip_id = f"c{i:06d}"
        if split == "test_voices":
            voice, turn = rotation[turn % len(rotation)], turn + 1
        else:
            voice = pool.draw(clip_rng(spec.seed, clip_id, "voice"))
        clip = ClipPlan(clip_id, command, split, voice, {}, i // spec.shard_size)
        if babble is not None:
            aug = held_noise if split == "test_noise" else spec.augmentation
            params = sample_augmentation(clip_id, seed=spec.seed, spec=aug, labels=labels_of(clip), bank=babble)
            clip = dataclasses.replace(clip, augmentation=params)
        clips.append(clip)
    return clips


# --------------------------------------------------------------------- one shard
@dataclasses.dataclass(frozen=True)
class ShardJob:
    """What a Dask worker needs to render one shard (all picklable)."""

    index: int
    out: str
    clips: tuple[ClipPlan, ...]
    babble: BabbleBank | None
    kit: tuple[str, str] | None      # (profile, data_dir) of the kit's TTS, if it speaks


def shard_path(out: Path, index: int) -> Path:
    return out / "shards" / f"{index:04d}.jsonl"


def _write_flac(path: Path, y: np.ndarray) -> None:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    sf.write(tmp, np.clip(y, -1, 1), SR, subtype="PCM_16", format="FLAC")
    os.replace(tmp, path)


def _peak_normalise(y: np.ndarray, peak: float = 0.9) -> np.ndarray:
    top = float(np.max(np.abs(y))) if len(y) else 0.0
    return (y * (peak / top)).astype(np.float32) if top > 0 else y.astype(np.float32)


def clean_audio(clip: ClipPlan, *, kit: tuple[str, str] | None = None) -> np.ndarray:
    """The clip's sentence in its voice, peak-normalised, before augmentation."""
    speaker = kit_speaker(*kit) if kit else None
    return _peak_normalise(render(clip.voice, clip.command.text, sr=SR, kit=speaker))


def render_shard(job: ShardJob) -> int:
    """Render one shard's clips, write their audio, then its rows (atomically); return how many."""
    out = Path(job.out)
    rows = []
    for clip in job.clips:
        y = clean_audio(clip, kit=job.kit)
        clean = f"clean/{job.index:04d}/{clip.id}.flac"
        _write_flac(out / clean, y)
        path, augmentation = clean, dict(clip.augmentation)
        if is_augmented(augmentation):
            noisy, info = apply_augmentation(y, augmentation, sr=SR, babble=job.babble, return_info=True)
            path = f"noisy/{job.index:04d}/{clip.id}.flac"
            _write_flac(out / path, noisy)
            augmentation["peak_scale"] = round(float(info["peak_scale"]), 6)
        meta = {**clip.command.to_meta(), "engine": clip.voice.engine, "voice": clip.voice.name,
                "voice_params": clip.voice.params(), "clean_path": clean, "augmentation": augmentation}
        rows.append(Utterance(id=clip.id, path=path, speaker=clip.voice.name, emotion=clip.voice.emotion,
                              text=clip.command.text, phonemes=_phonemes(clip.command.text)[0],
                              oov=_phonemes(clip.command.text)[1],
                              duration=round(len(y) / SR, 4), sr=SR, split=clip.split,
                              sentence_id=clip.command.template + ":" + clip.command.text,
                              source=clip.voice.params()["source"], meta=meta))
    target = shard_path(out, job.index)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(rows, target)
    return len(rows)


def is_augmented(params: dict) -> bool:
    """Whether any factor (noise, room, gain, band limit) is applied to a clip."""
    return bool(params) and (params.get("noise", "none") != "none" or bool(params.get("room"))
                             or params.get("gain_db") is not None or params.get("band_low") is not None)


_PHONEMES: dict[str, tuple[str, tuple[str, ...]]] = {}


def _phonemes(text: str) -> tuple[str, tuple[str, ...]]:
    """The manifest's phonemes and out-of-vocabulary words of ``text`` (cached: sentences repeat)."""
    if text not in _PHONEMES:
        phonemes, oov = to_phonemes(text)
        _PHONEMES[text] = " ".join(phonemes), tuple(oov)
    return _PHONEMES[text]


_KIT: dict[tuple[str, str], Callable] = {}


def _one_thread() -> None:
    """One backend thread in a worker process that speaks with the kit's TTS (a float sum in another
    order is another clip). Where the runtime has started (a notebook's own process), its threads stay."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:         # the runtime has started: keep its threads
            pass


@contextlib.contextmanager
def _deterministic_backend():
    """Deterministic kernels while the kit's models speak; the settings before are restored after, so a
    notebook that speaks a few sentences still trains at speed.

    The TTS model, SpeechSplit and the vocoder are compiled once for every length (``TTSModel.infer``,
    ``SpeechSplit.infer``, :func:`voicelab.vocoders.neural_vocoder`), so which sentences a worker spoke
    before does not change a sentence's bits either: the dataset is the same whatever the workers.
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config as tf_config   # disable_op_determinism is not public

        determinism = tf_config.is_op_determinism_enabled()
        tf_config.enable_op_determinism()
        try:
            yield
        finally:
            if not determinism:
                tf_config.disable_op_determinism()
    elif keras.backend.backend() == "torch":
        import torch

        threads, determinism = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(determinism)
    else:
        yield


def kit_speaker(profile: str, data_dir: str) -> Callable[[Voice, str, int], np.ndarray]:
    """``(voice, text, sr) -> audio`` for the voices that speak through the kit's models (loaded once a
    process, each when first needed): ``kit-tts`` through notebook 02's TTS and the kit's vocoder
    adapted to its mels, ``voicegan`` through notebook 05's SpeechSplit decoder in a VoiceGAN voice and the
    kit's vocoder."""
    if (profile, data_dir) not in _KIT:
        import librosa

        _one_thread()
        from voicelab.artifacts import load_tts, load_vocoder
        from voicelab.synthesis import synthesize

        loaded = {}

        def once(name, load):
            if name not in loaded:
                loaded[name] = load()
            return loaded[name]

        def tts(emotional: bool):
            m, speakers, run = load_tts(profile, data_dir=data_dir, emotions=emotional)
            return m, speakers, list(run.info["config"].get("emotions") or [])

        def voicegan():
            from voicelab.models.voicegan import sample_voices
            from voicelab.recipes import speechsplit

            r = speechsplit.recipe(profile)
            generator = speechsplit.load(r, "voicegan", data_dir=data_dir).model
            return (speechsplit.load(r, "speechsplit", data_dir=data_dir).model, r.audio,
                    sample_voices(generator, VOICEGAN_VOICES, seed=0),
                    load_vocoder(profile, data_dir=data_dir, config=r.audio, quiet=True))

        def speak(voice: Voice, text: str, sr: int) -> np.ndarray:
            if voice.engine == "voicegan":
                from voicelab.recipes.speechsplit_eval import respeak

                model, config, voices, vocoder = once("voicegan", voicegan)
                source = speak_with(voice.speaker, text, sr=config.sr)      # the flite voice it re-speaks
                with _deterministic_backend():
                    y = vocoder(respeak(model, source, embedding=voices[voice.generated], config=config))
                return librosa.resample(np.asarray(y, np.float32), orig_sr=config.sr, target_sr=sr)
            emotional = voice.emotion != "neutral"
            m, speakers, emotions = once(("tts", emotional), lambda: tts(emotional))
            vocoder = once("adapted vocoder", lambda: load_vocoder(profile, data_dir=data_dir, quiet=True,
                                                                   adapted=True))
            with _deterministic_backend():
                y, _, _ = synthesize(m, text, voice=voice.tts_speaker, speakers=speakers, config=m.audio_config,
                                     speed=voice.rate, vocoder=vocoder, emotion=voice.emotion if emotional else None,
                                     emotions=emotions or None)
            return librosa.resample(np.asarray(y, np.float32), orig_sr=m.audio_config.sr, target_sr=sr)

        _KIT[(profile, data_dir)] = speak
    return _KIT[(profile, data_dir)]


# --------------------------------------------------------------------- the whole dataset
def _tts_voices(spec: DatasetSpec, data_dir: str | os.PathLike) -> tuple[list[str], list[str]]:
    """The kit's TTS speakers and emotions, where notebook 02 trained them (``spec.kit_tts``)."""
    if spec.kit_tts is False:
        return [], []
    from voicelab.recipes import tts
    from voicelab.train import is_trained

    r = tts.recipe(spec.profile)
    folder, emotional = r.run_folder("speaker", data_dir), r.emotion_variant().run_folder("speaker", data_dir)
    if not is_trained(folder):
        if spec.kit_tts:
            from voicelab.artifacts import how_to_make
            raise ParameterError(f"kit_tts=True but no TTS model in {folder}: {how_to_make('tts', spec.profile)}")
        return [], []
    speakers = json.loads((folder / "run.json").read_text())["config"]["speakers"]
    emotions = json.loads((emotional / "run.json").read_text())["config"]["emotions"] if is_trained(emotional) else []
    return list(speakers), list(emotions)


def _voicegan_trained(spec: DatasetSpec, data_dir: str | os.PathLike) -> bool:
    """Whether notebook 05's VoiceGAN and SpeechSplit of ``spec.profile`` are trained (``spec.voicegan``)."""
    if spec.voicegan is False:
        return False
    from voicelab.recipes import speechsplit
    from voicelab.train import is_trained

    r = speechsplit.recipe(spec.profile)
    missing = [folder for folder in (r.run_folder(m, data_dir) for m in ("voicegan", "speechsplit"))
               if not is_trained(folder)]
    if missing and spec.voicegan:
        raise ParameterError(f"voicegan=True but no trained model in {missing[0]}: run notebook 05 first "
                             f"(make run ONLY=05 PROFILE={spec.profile})")
    return not missing


def dataset_voices(spec: DatasetSpec, data_dir: str | os.PathLike) -> VoicePool:
    """The voices of ``spec``'s dataset: every engine, the kit's models where they are trained (and
    ``spec.kit_tts``, ``spec.voicegan`` allow them), only ``spec.engines`` where it names some."""
    speakers, emotions = _tts_voices(spec, data_dir)
    pool = voice_pool(seed=spec.seed, n_world=spec.n_world, tts_speakers=speakers, tts_emotions=emotions,
                      voicegan=_voicegan_trained(spec, data_dir))
    return pool.only(spec.engines) if spec.engines else pool


def spec_record(spec: DatasetSpec, grammar: CommandGrammar) -> dict:
    """What ``spec.json`` holds: the spec, and the grammar's rules."""
    return {**spec.to_json(), "grammar": grammar_rules(grammar)}


def check_output(out: str | os.PathLike, spec: DatasetSpec, grammar: CommandGrammar | None = None) -> Path:
    """``out`` as a folder that is free for ``spec`` and ``grammar``, or a clear error (nothing is written)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file: give a folder for the dataset")
    saved = out / "spec.json"
    if saved.is_file() and json.loads(saved.read_text()) != spec_record(spec, grammar or default_grammar()):
        raise ParameterError(f"{out} holds a dataset made with another spec ({saved}): "
                             "choose another folder, or delete this one to remake it")
    if out.is_dir() and not saved.is_file() and any(out.iterdir()):
        raise ParameterError(f"{out} is a folder that is not empty and holds no dataset: choose another folder")
    return out


def _cluster(workers: int, scheduler: str | None):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    threads = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "VOICELAB_WORKERS")}
    env = {**threads, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR, env=env)
    return Client(cluster), cluster


def _babble_bank(out: Path, clips: Sequence[ClipPlan], n: int, kit) -> BabbleBank:
    """The first ``n`` training clips, clean, saved in ``out/babble`` and read back from there."""
    import soundfile as sf

    # system voices where there are some: the bank is made in this process, whose backend may
    # already run multi-threaded (a notebook's); a dataset of the kit's voices only uses them
    train = [c for c in clips if c.split == BABBLE_SPLIT]
    chosen = ([c for c in train if c.voice.engine not in MODEL_ENGINES] or train)[:n]
    audio = []
    for clip in chosen:
        path = out / "babble" / f"{clip.id}.flac"
        if not path.is_file():
            _write_flac(path, clean_audio(clip, kit=kit))
        audio.append((clip.id, sf.read(path, dtype="float32")[0]))
    return BabbleBank(audio)


def build_dataset(out: str | os.PathLike, spec: DatasetSpec, *, workers: int | None = None,
                  scheduler: str | None = None, data_dir: str | os.PathLike = "data",
                  grammar: CommandGrammar | None = None, progress: bool = True,
                  report: bool = True) -> Manifest:
    """Make (or finish, or open) the dataset of ``spec`` in ``out``; its manifest.

    Parameters
    ----------
    out : path
        The dataset folder (layout in the module docstring). A finished one is opened and
        nothing is made; an unfinished one is finished (its done shards are kept).
    spec : DatasetSpec
    workers : int, optional
        Processes of the ``LocalCluster`` (default :func:`voicelab.profiles.default_workers`).
    scheduler : str, optional
        A Dask scheduler's address (``tcp://host:8786``): the shards run on that cluster,
        whose workers must see ``out`` and have voicelab installed.
    data_dir : path
        Where the kit's trained models are (notebook 02's TTS speaks where it is trained).
    grammar : CommandGrammar, optional
        Default :func:`voicelab.data.commands.default_grammar`.
    report : bool
        Write the coverage report, the audit and the card (``card.md``, ``figures/``).

    Raises
    ------
    ParameterError
        ``out`` is a file, a non-empty folder without a dataset, or a dataset of another
        spec; a bad grammar. Nothing is written then.
    """
    grammar = grammar or default_grammar()
    out = check_output(out, spec, grammar)
    pool = dataset_voices(spec, data_dir)
    clips = make_plan(spec, grammar=grammar, pool=pool)          # checks the grammar before anything is written
    if (out / "manifest.jsonl").is_file() and (out / "card.md").is_file():
        return read_manifest(out / "manifest.jsonl")
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "spec.json", spec_record(spec, grammar))
    kit = (spec.profile, str(Path(data_dir).resolve())) if any(v.engine in MODEL_ENGINES for v in pool.train) else None
    babble = _babble_bank(out, clips, spec.babble_clips, kit)
    clips = make_plan(spec, grammar=grammar, pool=pool, babble=babble)
    shards: dict[int, list[ClipPlan]] = {}
    for clip in clips:
        shards.setdefault(clip.shard, []).append(clip)
    jobs = [ShardJob(i, str(out.resolve()), tuple(c), babble, kit) for i, c in shards.items()
            if not shard_path(out, i).is_file()]
    if jobs:
        run_shards(jobs, workers=workers or default_workers(), scheduler=scheduler, progress=progress,
                   done=len(shards) - len(jobs), total=len(shards))
    rows = [line for i in sorted(shards) for line in shard_path(out, i).read_text(encoding="utf-8").splitlines()]
    ids = [json.loads(r)["id"] for r in rows]
    if len(set(ids)) != len(ids) or len(ids) != len(clips):
        raise DatasetError(f"{out}/shards: {len(ids)} rows for {len(clips)} clips ({len(ids) - len(set(ids))} "
                           "duplicate ids): delete the shards folder to remake them")
    tmp = out / "manifest.jsonl.part"
    tmp.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, out / "manifest.jsonl")
    manifest = read_manifest(out / "manifest.jsonl")
    if report:
        from voicelab.recipes.dataset_card import write_card

        write_card(out, manifest, spec, grammar=grammar, pool=pool)
    return manifest


def run_shards(jobs: Sequence[ShardJob], *, workers: int, scheduler: str | None, progress: bool = True,
               done: int = 0, total: int | None = None) -> None:
    """Render ``jobs`` on Dask (a progress bar counts shards); the first failure is raised."""
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    client, cluster = _cluster(workers, scheduler)
    try:
        futures = client.map(render_shard, list(jobs), pure=False)
        with tqdm(total=total or len(jobs), initial=done, unit="shard", disable=not progress,
                  desc=f"clips in shards of {len(jobs[0].clips)}") as bar:
            for future in as_completed(futures):
                future.result()
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _write_json(path: Path, value) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
