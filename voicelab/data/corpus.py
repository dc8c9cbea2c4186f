"""The offline corpus: every sentence, spoken by every speaker, in every emotion.

:func:`build_corpus` needs no download: the sentences come from a grammar
(:func:`voicelab.data.grammar.corpus_sentences`), the voices from flite and espeak-ng
(:mod:`voicelab.data.speakers`), the emotions from WORLD
(:mod:`voicelab.data.emotion`). The corpus is *parallel*: one ``sentence_id`` is shared
by all its renditions, so a conversion (speaker or emotion) can be scored against the
real target. Splits are drawn per sentence (about 80/10/10), so test sentences are
never heard in training, in any voice.

What a corpus folder holds::

    manifest.jsonl             one Utterance a line (voicelab.data.manifest)
    wav/<speaker>/<id>.wav     16 kHz mono 16-bit, id = <speaker>_<sentence_id>_<emotion>
    README.md                  speakers, emotions and their values, sizes, skipped clips
    build.json                 the exact parameters, counts and what was skipped

Neutral audio is the engine's own output (for derived speakers, one WORLD pass);
emotional audio is one WORLD analysis-synthesis of it. With ``world_neutral=True`` the
neutral clip of a flite or espeak-ng voice is one WORLD analysis-synthesis with
unchanged parameters too, so every clip has been through the vocoder exactly once and
a classifier cannot tell an emotion from neutral by vocoder artefacts. Each neutral
clip is trimmed to its speech plus :data:`PAD_SECONDS` of silence on each side and
normalised to :data:`TARGET_LUFS`; an emotion's loudness is set relative to its
neutral clip (``energy_db``), so "angry is louder" stays true in the files.

Rebuilding: a folder whose ``build.json`` has the same parameters is returned as it is
(in well under a second). A folder that holds anything else is never touched unless
``overwrite=True`` and it is a corpus (it has a ``build.json``); otherwise
:class:`~voicelab.errors.DatasetError` says which parameters differ. The corpus is
built in a hidden folder next to ``out`` and renamed into place only when complete, so
an interrupted build leaves no half corpus behind.

Introduced in ``notebooks/01_audio_features.ipynb``.

Example
-------
>>> manifest = build_corpus("data/corpus-smoke", profile="smoke")   # doctest: +SKIP
>>> manifest                                                          # doctest: +SKIP
Manifest(192 utterances, 4 speakers, 4 emotions, root='data/corpus-smoke')
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime
import json
import logging
import multiprocessing
import os
import shutil
import time
from pathlib import Path

import numpy as np

from voicelab import __version__
from voicelab.data.emotion import STYLES, EmotionStyle, analyze, apply_style, pyworld
from voicelab.data.grammar import Sentence, corpus_sentences
from voicelab.data.manifest import Manifest, Utterance, read_manifest, write_manifest
from voicelab.data.speakers import (
    FLITE_SPEAKERS,
    SPEAKERS,
    Speaker,
    check_speaker,
    derive,
    derived_speakers,
    engine_version,
    get_speaker,
    speak,
)
from voicelab.dsp.audio import check_audio, normalize_loudness, save, split_on_silence
from voicelab.errors import DatasetError, ParameterError, VoicelabError
from voicelab.profiles import check_profile, default_workers, pick
from voicelab.text import normalize_text, to_phonemes

__all__ = ["build_corpus", "read_build_info"]

log = logging.getLogger(__name__)

FORMAT = 1
"""Version of what the builder writes; bumped when the same parameters give other files."""
SR = 16000
PAD_SECONDS = 0.1
TOP_DB = 40.0
TARGET_LUFS = -23.0
MIN_SECONDS, MAX_SECONDS = 0.5, 20.0
MANIFEST, BUILD_INFO, README = "manifest.jsonl", "build.json", "README.md"


def _sizes(profile: str) -> tuple[tuple[str, ...], int]:
    """Default speakers and number of sentences of a profile."""
    return pick(profile, smoke=(FLITE_SPEAKERS, 12), quick=(FLITE_SPEAKERS, 150), full=(tuple(SPEAKERS), 600))


# ------------------------------------------------------------------ one (speaker, sentence)


@dataclasses.dataclass(frozen=True)
class _Job:
    speaker: Speaker
    sentence_id: str
    spoken: str  # the normalised text the engine reads
    styles: tuple[EmotionStyle, ...]
    folder: str  # the corpus being built
    world_neutral: bool = False


def _through_world(speaker: Speaker, style: EmotionStyle, world_neutral: bool) -> bool:
    """Whether ``style``'s clip is synthesised by WORLD from the neutral clip's analysis."""
    return not style.is_identity or (world_neutral and speaker.engine != "derived")


def _check_clip(y: np.ndarray, what: str) -> np.ndarray:
    """``y`` if it is usable corpus audio, else DatasetError saying why."""
    check_audio(y)  # empty, NaN or infinite: AudioError
    peak = float(np.max(np.abs(y)))
    if peak < 1e-3:
        raise DatasetError(f"{what}: silent output (peak {peak:.1e})")
    seconds = len(y) / SR
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise DatasetError(f"{what}: duration {seconds:.2f} s outside [{MIN_SECONDS}, {MAX_SECONDS}] s")
    return y


def _trim(y: np.ndarray, sr: int) -> np.ndarray:
    """Cut to the speech with exactly PAD_SECONDS before and after (zeros where missing)."""
    intervals = split_on_silence(y, sr=sr, top_db=TOP_DB)
    pad = int(PAD_SECONDS * sr)
    start, end = int(intervals[0, 0]), int(intervals[-1, 1])
    kept = y[max(start - pad, 0): end + pad]
    return np.pad(kept, (pad - min(start, pad), pad - min(len(y) - end, pad)))


def _neutral(job: _Job):
    """The neutral clip, and its WORLD analysis when the speaker is derived."""
    speaker = job.speaker
    base = get_speaker(speaker.voice) if speaker.engine == "derived" else speaker
    y = _trim(_check_clip(speak(base, job.spoken, sr=SR), base.source), SR)
    y = normalize_loudness(_check_clip(y, base.source), sr=SR, target_lufs=TARGET_LUFS)
    if speaker.engine != "derived":
        return y, None
    y, analysis = derive(y, sr=SR, speaker=speaker)
    return normalize_loudness(y, sr=SR, target_lufs=TARGET_LUFS), analysis


def _render(job: _Job) -> list[tuple[str, float | None, str]]:
    """Speak one sentence with one speaker in every style; write the files.

    Returns ``(emotion, duration, "")`` per clip written and ``(emotion, None, reason)``
    per clip skipped. Failures of the engines, of WORLD or of the checks are reported,
    never raised: one bad sentence must not stop a corpus.
    """
    expected = (VoicelabError, ValueError, RuntimeError, OSError)
    try:
        neutral, analysis = _neutral(job)
    except expected as err:
        return [(s.name, None, f"neutral synthesis failed: {err}") for s in job.styles]
    results = []
    for style in job.styles:
        try:
            if _through_world(job.speaker, style, job.world_neutral):
                analysis = analyze(neutral, sr=SR) if analysis is None else analysis
                y = apply_style(neutral, sr=SR, style=style, analysis=analysis)
            else:
                y = neutral
            _check_clip(y, f"WORLD {style.name}")
            save(Path(job.folder) / _path(job.speaker.name, job.sentence_id, style.name), y, sr=SR)
            results.append((style.name, round(len(y) / SR, 4), ""))
        except expected as err:
            results.append((style.name, None, str(err)))
    return results


def _utt_id(speaker: str, sentence_id: str, emotion: str) -> str:
    return f"{speaker}_{sentence_id}_{emotion}"


def _path(speaker: str, sentence_id: str, emotion: str) -> str:
    return f"wav/{speaker}/{_utt_id(speaker, sentence_id, emotion)}.wav"


# ------------------------------------------------------------------ parameters, splits


def _resolve(items, registry: dict, kind: type, what: str) -> list:
    resolved = []
    for item in items:
        if isinstance(item, kind):
            resolved.append(item)
        elif isinstance(item, str) and item in registry:
            resolved.append(registry[item])
        else:
            raise ParameterError(f"{what}={item!r} is not one of {', '.join(registry)} nor a {kind.__name__}")
    names = [r.name for r in resolved]
    if not names or len(set(names)) != len(names):
        raise ParameterError(f"{what}s={names} must be a non-empty list of distinct names")
    return resolved


def _versions(speakers: list[Speaker]) -> dict[str, str]:
    """Versions of the programs used: another version may speak differently."""
    engines = {get_speaker(s.voice).engine if s.engine == "derived" else s.engine for s in speakers}
    return {"pyworld": pyworld.__version__, **{e: engine_version(e) for e in sorted(engines)}}


def _splits(n: int, seed: int) -> list[str]:
    """Exactly round(10 %) valid and test sentences (at least one each from 3 sentences on).

    Counts are exact, not hashed per sentence (:func:`voicelab.data.readers.split_of`),
    so a 12-sentence smoke corpus still has a test sentence.
    """
    n_held = max(1, round(0.1 * n)) if n >= 3 else 0
    order = np.random.default_rng(seed).permutation(n)
    splits = ["train"] * n
    for rank, index in enumerate(order[: 2 * n_held]):
        splits[index] = "valid" if rank < n_held else "test"
    return splits


def read_build_info(folder: str | os.PathLike) -> dict:
    """The ``build.json`` of a corpus folder: parameters, counts, skipped clips, time."""
    path = Path(folder) / BUILD_INFO
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"not a voicelab corpus (no {BUILD_INFO}): {Path(folder)}") from None
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}: not valid JSON ({err.msg})") from None


def _existing(out: Path, params: dict, overwrite: bool) -> Manifest | None:
    """The corpus already in ``out`` if it was built with ``params``; None if ``out`` may be (re)built."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return None
    if not (out / BUILD_INFO).is_file():
        raise DatasetError(f"{out} exists and is not a voicelab corpus (no {BUILD_INFO}); choose another folder")
    old = read_build_info(out).get("params", {})
    # Program versions are recorded, not compared: an upgraded flite should not make
    # every notebook refuse the corpus a student already has. Say so, though.
    changed = sorted(k for k in set(old) | set(params) if k != "versions" and old.get(k) != params.get(k))
    if not changed and (out / MANIFEST).is_file():
        if old.get("versions") != params.get("versions"):
            log.warning("corpus in %s was built with %s; now installed: %s (rebuild with overwrite=True to use them)",
                        out, old.get("versions"), params.get("versions"))
        return read_manifest(out / MANIFEST)
    if overwrite:
        return None
    why = f"other parameters ({', '.join(changed)} differ)" if changed else f"no {MANIFEST}"
    raise DatasetError(
        f"{out} holds a corpus with {why}; choose another folder, delete it, or pass overwrite=True (--overwrite)"
    )


def _remove_stale_builds(out: Path) -> None:
    """Remove the hidden folders of ``out`` (``.building-<pid>``, ``.old-<pid>``) left by a killed build."""
    for folder in [*out.parent.glob(f".{out.name}.building-*"), *out.parent.glob(f".{out.name}.old-*")]:
        pid = folder.name.rsplit("-", 1)[-1]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


# ------------------------------------------------------------------ the build


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a non-negative integer")


def corpus_folder(data_dir: str | os.PathLike, profile: str, *, seed: int = 0, kind: str = "") -> Path:
    """Where the notebooks keep a profile's corpus: ``DATA_DIR/corpus-<profile>[-<kind>][-seed<seed>]``.

    Seed 0 is the kit's corpus; any other seed chooses other sentences and splits, so it
    gets a folder of its own (a sweep over ``SEED`` builds one corpus per seed instead of
    finding the seed-0 corpus in the way). ``kind`` names a variant (notebook 05's
    ``"emotional"``).

    Example
    -------
    >>> corpus_folder("data", "quick").as_posix(), corpus_folder("data", "quick", seed=2, kind="emotional").name
    ('data/corpus-quick', 'corpus-quick-emotional-seed2')
    """
    check_profile(profile)
    _check_seed(seed)
    parts = [f"corpus-{profile}", kind, f"seed{seed}" if seed else ""]
    return Path(data_dir) / "-".join(p for p in parts if p)


def build_corpus(
    out: str | os.PathLike,
    *,
    profile: str = "smoke",
    seed: int = 0,
    speakers: list[str | Speaker] | None = None,
    emotions: list[str | EmotionStyle] | None = None,
    n_sentences: int | None = None,
    derived: int = 0,
    world_neutral: bool = False,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> Manifest:
    """Build the offline parallel corpus into ``out`` (or return it if already built).

    Parameters
    ----------
    out : path-like
        The corpus folder; created, or an empty folder.
    profile : {"smoke", "quick", "full"}
        Default sizes, each sentence in every emotion: ``smoke`` 4 flite speakers x 12
        sentences (192 clips, ~10 min of audio, ~25 s of CPU time); ``quick`` 4 flite
        speakers x 150 sentences (2400 clips, 1.9 h, ~210 s of CPU time: under 2 min
        on 2 idle cores); ``full`` all 10 built-in speakers (flite, espeak-ng, derived)
        x 600 sentences (24000 clips, ~19 h, about 15-20 min on 2 cores).
    seed : int
        Chooses the sentences and the splits; the same seed gives the same files.
    speakers, emotions : list of names or Speaker / EmotionStyle, optional
        Override the profile's (default: every style in :data:`~voicelab.data.emotion.STYLES`).
    n_sentences : int, optional
        Override the profile's number of sentences.
    derived : int
        Add ``derived_speakers(derived, seed=seed)``
        (:func:`~voicelab.data.speakers.derived_speakers`: flite voices with random
        vocal-tract and F0 warps, named ``v00_awb``, ``v01_rms``, ...) to the speakers.
        Each costs about as much as a flite speaker with ``world_neutral=True`` (one
        WORLD synthesis per clip).
    world_neutral : bool
        Make the neutral clips of flite and espeak-ng speakers one WORLD
        analysis-synthesis with unchanged parameters, as every other clip already is
        (emotional clips are still made from the analysis of the engine's output, not
        of this clip). Costs one more WORLD synthesis per neutral clip (about 10 %
        more time).
    workers : int, optional
        Worker processes (default :func:`voicelab.profiles.default_workers`: ``$VOICELAB_WORKERS``,
        else one per available core); ``1`` builds in this process.
        Workers are started with ``spawn`` (safe in a notebook that already runs Keras
        threads), so in a script call this under ``if __name__ == "__main__":``.
    progress : bool
        Show a tqdm progress bar.
    overwrite : bool
        Replace a corpus in ``out`` built with other parameters (never a folder that is
        not a corpus).

    Returns
    -------
    Manifest
        The corpus's manifest, its root ``out``.

    Raises
    ------
    ParameterError
        A bad argument (unknown speaker or emotion, ``n_sentences < 1``, ``derived < 0``).
    AudioError
        An engine is missing (the message says what to install).
    DatasetError
        ``out`` holds something else, or no clip at all could be made.
    """
    started = time.perf_counter()
    out = Path(out).expanduser().absolute()
    default_speakers, default_n = _sizes(check_profile(profile))
    _check_seed(seed)
    n = default_n if n_sentences is None else n_sentences
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n_sentences={n_sentences!r} must be a positive integer")
    if isinstance(derived, bool) or not isinstance(derived, int) or derived < 0:
        raise ParameterError(f"derived={derived!r} must be a non-negative integer")
    if not isinstance(world_neutral, bool):
        raise ParameterError(f"world_neutral={world_neutral!r} must be True or False")
    extra = derived_speakers(derived, seed=seed) if derived else []
    speaker_list = _resolve([*(default_speakers if speakers is None else speakers), *extra], SPEAKERS, Speaker,
                            "speaker")
    styles = _resolve(list(STYLES) if emotions is None else emotions, STYLES, EmotionStyle, "emotion")
    if workers is None:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers={workers!r} must be a positive integer")

    params = json.loads(json.dumps({
        "format": FORMAT, "seed": seed, "n_sentences": n, "sr": SR,
        "speakers": [dataclasses.asdict(s) for s in speaker_list],
        "emotions": [dataclasses.asdict(s) for s in styles],
        "trim": {"top_db": TOP_DB, "pad_seconds": PAD_SECONDS}, "target_lufs": TARGET_LUFS,
        "duration_limits": [MIN_SECONDS, MAX_SECONDS],
        "versions": _versions(speaker_list),
        **({"world_neutral": True} if world_neutral else {}),  # absent when False: older corpora stay valid
    }))
    existing = _existing(out, params, overwrite)
    if existing is not None:
        log.info("corpus in %s is already built with these parameters", out)
        return existing
    for speaker in speaker_list:
        check_speaker(speaker)

    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(out)
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        rows, skipped, sentences = _build(tmp, speaker_list, styles, n, seed, workers, progress, world_neutral)
        info = {
            "params": params,
            "build": {"profile": profile, "workers": workers, "seconds": round(time.perf_counter() - started, 1),
                      "finished": datetime.datetime.now().isoformat(timespec="seconds"), "voicelab": __version__},
            "counts": _counts(rows, sentences),
            "skipped": skipped,
        }
        write_manifest(rows, tmp / MANIFEST)
        _write_readme(tmp / README, info, speaker_list, styles, profile, derived)
        (tmp / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if out.exists():  # an empty folder, or a corpus to overwrite
            trash = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, trash)
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read_manifest(out / MANIFEST)


def _build(folder: Path, speakers: list[Speaker], styles: list[EmotionStyle], n: int, seed: int,
           workers: int, progress: bool, world_neutral: bool) -> tuple[list[Utterance], list[dict], list[Sentence]]:
    """Render every (speaker, sentence) into ``folder``; the manifest rows and the skipped clips."""
    from tqdm.auto import tqdm

    sentences = corpus_sentences(n, seed=seed)
    splits = _splits(len(sentences), seed)
    skipped: list[dict] = []
    texts = {}
    for sentence in sentences:
        try:
            texts[sentence.sentence_id] = (normalize_text(sentence.text), *to_phonemes(sentence.text))
        except VoicelabError as err:
            skipped += [{"id": _utt_id(sp.name, sentence.sentence_id, st.name), "reason": f"text: {err}"}
                        for sp in speakers for st in styles]
    jobs = [_Job(sp, s.sentence_id, texts[s.sentence_id][0], tuple(styles), str(folder), world_neutral)
            for sp in speakers for s in sentences if s.sentence_id in texts]
    bar = tqdm(total=len(jobs), desc=f"corpus ({workers} workers)", unit="clip", unit_scale=len(styles),
               disable=not progress)
    results: dict[tuple[str, str], list] = {}
    if workers == 1:
        for job in jobs:
            results[job.speaker.name, job.sentence_id] = _render(job)
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context)
        try:
            futures = {pool.submit(_render, job): job for job in jobs}
            for future in cf.as_completed(futures):
                job = futures[future]
                results[job.speaker.name, job.sentence_id] = future.result()
                bar.update()
        finally:  # on an error or Ctrl-C, drop the jobs not started rather than wait for them
            pool.shutdown(cancel_futures=True)
    bar.close()

    by_name = {style.name: style for style in styles}
    rows = []
    for speaker in speakers:
        for sentence, split in zip(sentences, splits):
            for emotion, duration, reason in results.get((speaker.name, sentence.sentence_id), []):
                uid = _utt_id(speaker.name, sentence.sentence_id, emotion)
                if duration is None:
                    skipped.append({"id": uid, "reason": reason})
                    continue
                world = _through_world(speaker, by_name[emotion], world_neutral)
                source = f"world:{emotion}<-{speaker.source}" if world else speaker.source
                _, phonemes, oov = texts[sentence.sentence_id]
                rows.append(Utterance(
                    id=uid, path=_path(speaker.name, sentence.sentence_id, emotion), speaker=speaker.name,
                    emotion=emotion, text=sentence.text, phonemes=" ".join(phonemes), duration=duration, sr=SR,
                    split=split, sentence_id=sentence.sentence_id, oov=tuple(oov), source=source,
                ))
    for item in skipped:
        log.warning("corpus: skipped %s: %s", item["id"], item["reason"])
    if not rows:
        reasons = "; ".join(sorted({s["reason"] for s in skipped})[:3])
        raise DatasetError(f"no clip could be made ({len(skipped)} skipped): {reasons}")
    return rows, skipped, sentences


def speak_sentences(out: str | os.PathLike, texts, *, speakers: list[str | Speaker], split: str = "test",
                    progress: bool = True) -> Manifest:
    """Every speaker speaks every one of ``texts``, neutral, as the corpus's neutral clips: a manifest in ``out``.

    For text that no corpus holds (e.g. :data:`voicelab.data.sentences_data.HELD_OUT`):
    the same engines, trimming and loudness as :func:`build_corpus`, so a TTS can be
    scored against these clips with the same functions as against a test split. A
    sentence's id is a hash of its text, and clips already in ``out`` are kept, so a
    second call reads instead of speaking. The manifest (``out/manifest.jsonl``) lists
    exactly ``texts`` x ``speakers``, every clip in ``split`` (test material: never trained on).

    Raises
    ------
    DatasetError
        An engine fails or a clip is silent (the message names the speaker and text).
    ParameterError
        No text, or a text with nothing to say (``voicelab.text``).
    """
    import hashlib

    from tqdm.auto import tqdm

    from voicelab.dsp.audio import load

    texts, out = list(texts), Path(out)
    if not texts:
        raise ParameterError("texts is empty: nothing to speak")
    voices = _resolve(speakers, SPEAKERS, Speaker, "speaker")
    rows = []
    bar = tqdm(total=len(texts) * len(voices), desc="speaking", unit="clip", disable=not progress)
    for text in texts:
        spoken, (phonemes, oov) = normalize_text(text), to_phonemes(text)
        sentence_id = "t" + hashlib.sha1(text.encode()).hexdigest()[:10]
        for speaker in voices:
            path = _path(speaker.name, sentence_id, "neutral")
            if (out / path).exists():
                y = load(out / path, sr=SR)
            else:
                try:
                    y, _ = _neutral(_Job(speaker, sentence_id, spoken, (STYLES["neutral"],), str(out)))
                except (VoicelabError, ValueError, RuntimeError, OSError) as err:
                    raise DatasetError(f"{speaker.name} could not speak {text!r}: {err}") from err
                save(out / path, y, sr=SR)
            rows.append(Utterance(id=_utt_id(speaker.name, sentence_id, "neutral"), path=path, speaker=speaker.name,
                                  emotion="neutral", text=text, phonemes=" ".join(phonemes),
                                  duration=round(len(y) / SR, 4), sr=SR, split=split, sentence_id=sentence_id,
                                  oov=tuple(oov), source=speaker.source))
            bar.update()
    bar.close()
    write_manifest(rows, out / "manifest.jsonl")
    return Manifest(rows, out)


def _counts(rows: list[Utterance], sentences: list[Sentence]) -> dict:
    by_split = {s: sorted({u.sentence_id for u in rows if u.split == s}) for s in ("train", "valid", "test")}
    return {
        "utterances": len(rows), "sentences": len({u.sentence_id for u in rows}),
        "speakers": len({u.speaker for u in rows}), "emotions": len({u.emotion for u in rows}),
        "hours": round(sum(u.duration for u in rows) / 3600, 4),
        "sentences_per_split": {s: len(ids) for s, ids in by_split.items()},
        "kinds": {k: sum(s.kind == k for s in sentences) for k in sorted({s.kind for s in sentences})},
    }


def _world_caveat(world_neutral: bool) -> list[str]:
    """README lines on which clips went through the WORLD vocoder."""
    if world_neutral:
        return [
            "Each emotion is one WORLD analysis-synthesis of the engine's output (see",
            "`voicelab/data/emotion.py` for the values' grounds in the literature), and so is neutral,",
            "with unchanged parameters (derived speakers: with the speaker's warp): built with",
            "`world_neutral=True` (`--world-neutral`). Every clip went through the WORLD vocoder exactly",
            "once, so a classifier cannot tell an emotion from neutral by vocoder artefacts.",
        ]
    return [
        "Neutral is the engine's output; each other emotion is one WORLD analysis-synthesis of the",
        "neutral clip (see `voicelab/data/emotion.py` for the values' grounds in the literature).",
        "Caveat: emotional clips went through the WORLD vocoder and neutral ones did not (except",
        "for derived speakers), so a classifier can partly tell them apart by vocoder artefacts.",
        "Build with `world_neutral=True` (`--world-neutral`) to send every neutral clip through WORLD once too.",
    ]


def _write_readme(path: Path, info: dict, speakers: list[Speaker], styles: list[EmotionStyle], profile: str,
                  derived: int) -> None:
    """The corpus's own README: what is in it, how it was made, what was skipped."""
    p, c = info["params"], info["counts"]
    split_sizes = ", ".join(f"{k} {v}" for k, v in c["sentences_per_split"].items())
    options = (" --world-neutral" if p.get("world_neutral") else "") + (f" --derived {derived}" if derived else "")
    lines = [
        "# voicelab offline corpus",
        "",
        f"Built by voicelab {__version__} on {info['build']['finished']} in {info['build']['seconds']} s "
        f"({info['build']['workers']} workers), profile `{profile}`, seed {p['seed']}:",
        "",
        f"    python -m voicelab corpus --profile {profile} --seed {p['seed']}{options} --out <folder>",
        "",
        "(with the speakers, emotions and sentence count below when they are not the profile's).",
        "The exact parameters, including the program versions, are in `build.json`; the same",
        "parameters give the same files.",
        "",
        "## Contents",
        "",
        f"- {c['utterances']} clips, {c['hours'] * 60:.1f} minutes: {c['sentences']} sentences "
        f"({', '.join(f'{v} {k}' for k, v in c['kinds'].items())}) x {c['speakers']} speakers x "
        f"{c['emotions']} emotions, every sentence in every voice and emotion (parallel).",
        f"- Splits by sentence (sentences per split: {split_sizes}): a test sentence is never in "
        "training, in any voice or emotion.",
        f"- Audio: `wav/<speaker>/<id>.wav`, {p['sr']} Hz mono 16-bit; id is "
        "`<speaker>_<sentence_id>_<emotion>`. Trimmed to the speech plus "
        f"{p['trim']['pad_seconds']} s of silence each side (silence = {p['trim']['top_db']} dB below the "
        f"loudest frame); neutral clips at {p['target_lufs']} LUFS (ITU-R BS.1770), each emotion at "
        "its `energy_db` relative to its neutral clip.",
        "- `manifest.jsonl`: id, path, speaker, emotion, text, phonemes (ARPAbet, cmudict with a "
        "letter-to-sound fallback; `oov` lists the words it had to guess), duration, sr, split, "
        "sentence_id, source.",
        "",
        "## Speakers",
        "",
        "| speaker | engine | voice | gender | source | description |",
        "|---|---|---|---|---|---|",
        *[f"| {s.name} | {s.engine} | {s.voice} | {s.gender} | `{s.source}` | {s.description} |" for s in speakers],
        "",
        "## Emotions",
        "",
        *_world_caveat(bool(p.get("world_neutral"))),
        "",
        "| emotion | f0_scale | f0_range | rate | energy_db | tilt_db | breathiness |",
        "|---|---|---|---|---|---|---|",
        *[f"| {e.name} | {e.f0_scale:g} | {e.f0_range:g} | {e.rate:g} | {e.energy_db:+g} | {e.tilt_db:+g} | "
          f"{e.breathiness:g} |" for e in styles],
        "",
        "## Skipped clips",
        "",
        *([f"- `{s['id']}`: {s['reason']}" for s in info["skipped"]] or ["None."]),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
