"""Each utterance's features, computed once and kept on disk: resampled audio, log-mel, f0.

:class:`FeatureCache` serves the features a data set, a recipe or an evaluation reads
clip by clip, computing what is missing. Its :meth:`FeatureCache.fill` computes the
missing entries of many clips at once in worker processes: on a machine with many cores
(the GPU machine has 16), the mels and f0 of a full corpus (tens of thousands of clips)
take a fraction of the time one process needs, and the first epoch then reads them from
disk like every later one.

This module imports no Keras, so the worker processes start in about a second.

Example
-------
>>> cache = FeatureCache(manifest, AudioConfig(), cache_dir="data/cache")   # doctest: +SKIP
>>> cache.fill(manifest, kinds=("mel", "f0"), progress=True)                 # doctest: +SKIP
>>> cache.mel(manifest[0]).shape                                             # doctest: +SKIP
(188, 80)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from voicelab.data.manifest import Manifest, Utterance
from voicelab.dsp.features import MEL_FLOOR, AudioConfig, log_melspectrogram
from voicelab.errors import ParameterError
from voicelab.profiles import default_workers

__all__ = ["FEATURE_KINDS", "FeatureCache", "config_key"]


def config_key(config: AudioConfig) -> str:
    """A short hash of every field of ``config`` (and of the log floor), naming its cache."""
    fields = dataclasses.asdict(config) | {"log_floor": MEL_FLOOR, "version": 1}
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def _save_atomic(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mel(y: np.ndarray, config: AudioConfig) -> np.ndarray:
    return log_melspectrogram(y, config=config)


def _f0(y: np.ndarray, config: AudioConfig) -> np.ndarray:
    from voicelab.dsp.features import f0

    hz, _ = f0(y, config=config)
    return hz.astype(np.float32)


_COMPUTE: dict[str, Callable[[np.ndarray, AudioConfig], np.ndarray]] = {"mel": _mel, "f0": _f0}

FEATURE_KINDS = tuple(_COMPUTE)
"""What :meth:`FeatureCache.fill` computes: ``"mel"`` (log-mel) and ``"f0"`` (Hz per frame)."""


def _stored(entry: Path | None, compute: Callable[[], np.ndarray]) -> tuple[np.ndarray, bool]:
    """``(array, hit)``: the array stored at ``entry``, or ``compute()``'s, then stored there (with an entry)."""
    if entry is not None and entry.is_file():
        try:
            return np.load(entry), True
        except (OSError, ValueError):  # not a complete .npy: recompute and replace it
            pass
    array = compute()
    if entry is not None:
        _save_atomic(entry, array)
    return array, False


def _fill_clips(config: AudioConfig, clips: list[tuple[Path, Path | None, dict[str, Path]]]) -> int:
    """Worker: compute and store ``{kind: entry}`` of each clip (its audio from ``audio_entry`` when the clip
    is resampled); return how many clips."""
    from voicelab.dsp.audio import load

    for path, audio_entry, entries in clips:
        y, _ = _stored(audio_entry, lambda: load(path, sr=config.sr))
        for kind, entry in entries.items():
            _save_atomic(entry, _COMPUTE[kind](y, config))
    return len(clips)


class FeatureCache:
    """Audio (resampled to ``config.sr``), log-mel and f0 of each utterance, optionally on disk.

    Without ``cache_dir`` everything is computed on each call. With it, the log-mel of
    an utterance is stored in ``cache_dir/logmel-<config hash>/`` (f0 in ``f0-<config
    hash>/``) and resampled audio in ``cache_dir/audio-<sr>/``, under a name that also
    hashes the audio file's path, size and modification time, so a re-recorded file is
    never served stale. Writes are atomic (temporary file, then rename): parallel
    workers and interrupted runs never leave a half-written entry.
    """

    def __init__(self, manifest: Manifest, config: AudioConfig, cache_dir: str | os.PathLike | None = None):
        self.manifest = manifest
        self.config = config
        self.root = None if cache_dir is None else Path(cache_dir).expanduser()
        self._folders = {"mel": f"logmel-{config_key(config)}", "audio": f"audio-{config.sr}",
                         "f0": f"f0-{config_key(config)}"}
        self.hits = self.misses = 0

    def _entries(self, utt: Utterance, kinds: Iterable[str]) -> dict[str, Path]:
        """The cache files of ``utt``'s ``kinds`` (the audio file read and hashed once)."""
        path = self.manifest.audio_path(utt)
        stat = path.stat()
        stamp = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:10]
        name = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', utt.id)}-{stamp}.npy"
        return {kind: self.root / self._folders[kind] / name for kind in kinds}

    def _entry(self, utt: Utterance, kind: str) -> Path | None:
        return None if self.root is None else self._entries(utt, (kind,))[kind]

    def _cached(self, entry: Path | None, compute: Callable[[], np.ndarray]) -> np.ndarray:
        array, hit = _stored(entry, compute)
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        return array

    def audio(self, utt: Utterance) -> np.ndarray:
        """float32 samples at ``config.sr`` (cached only when resampling was needed)."""
        from voicelab.dsp.audio import load

        path = self.manifest.audio_path(utt)
        if utt.sr == self.config.sr:
            return load(path, sr=self.config.sr)
        return self._cached(self._entry(utt, "audio"), lambda: load(path, sr=self.config.sr))

    def mel(self, utt: Utterance, audio: np.ndarray | None = None) -> np.ndarray:
        """float32 log-mel ``[frames, n_mels]``; ``audio`` saves a reload on a cache miss."""
        return self._cached(self._entry(utt, "mel"),
                            lambda: _mel(self.audio(utt) if audio is None else audio, self.config))

    def f0(self, utt: Utterance) -> np.ndarray:
        """float32 f0 in Hz per mel frame ``[frames]``, 0 where unvoiced (WORLD's DIO, cached).

        Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb`` (the variance adaptor's pitch).
        """
        return self._cached(self._entry(utt, "f0"), lambda: _f0(self.audio(utt), self.config))

    def load(self, utt: Utterance, *, audio: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
        """``(audio or None, log-mel)``; with ``audio=False`` and a cached mel, no file is read."""
        y = self.audio(utt) if audio else None
        return y, self.mel(utt, y)

    def fill(self, utterances: Iterable[Utterance], *, kinds: Iterable[str] = ("mel",), workers: int | None = None,
             progress: bool = False) -> int:
        """Compute and store the missing ``kinds`` of ``utterances`` in ``workers`` processes.

        Returns how many clips had something missing. The entries are the ones
        :meth:`mel` and :meth:`f0` would write, with the same values up to float32
        rounding (a worker's BLAS may sum in another order: log-mels differ by about
        1e-6); those already stored are left alone, so an interrupted fill resumes
        where it stopped.

        Parameters
        ----------
        utterances : iterable of Utterance
            Clips of this cache's manifest.
        kinds : iterable of str
            Any of :data:`FEATURE_KINDS`.
        workers : int, optional
            Processes (default :func:`voicelab.profiles.default_workers`: ``$VOICELAB_WORKERS``
            or one per core); 1 computes here, in this process.
        progress : bool
            Show a progress bar when there is work.
        """
        kinds = tuple(kinds)
        unknown = [k for k in kinds if k not in _COMPUTE]
        if unknown or not kinds:
            raise ParameterError(f"kinds={kinds!r}: each must be one of {', '.join(FEATURE_KINDS)}")
        workers = default_workers() if workers is None else workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ParameterError(f"workers={workers!r} must be a whole number of processes, at least 1")
        if self.root is None:
            raise ParameterError("fill() stores features on disk: make the FeatureCache with a cache_dir")
        clips = []
        for utt in utterances:
            entries = self._entries(utt, (*kinds, "audio"))
            audio_entry = entries.pop("audio") if utt.sr != self.config.sr else None   # resampled audio is kept
            missing = {kind: entry for kind, entry in entries.items() if kind != "audio" and not entry.is_file()}
            if missing:
                clips.append((self.manifest.audio_path(utt), audio_entry, missing))
        if not clips:
            return 0
        from tqdm.auto import tqdm

        bar = tqdm(total=len(clips), desc=f"{' and '.join(kinds)} of {len(clips)} clips ({workers} workers)",
                   unit="clip", disable=not progress)
        with bar:
            if workers == 1 or len(clips) < 4 * workers:
                for clip in clips:
                    bar.update(_fill_clips(self.config, [clip]))
            else:
                from joblib import Parallel, delayed

                size = max(1, min(32, len(clips) // (8 * workers)))   # a few chunks per worker, at most 32 clips each
                chunks = [clips[i:i + size] for i in range(0, len(clips), size)]
                parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
                for done in parallel(delayed(_fill_clips)(self.config, chunk) for chunk in chunks):
                    bar.update(done)
        return len(clips)
