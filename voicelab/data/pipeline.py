"""From a manifest to padded batches a Keras model trains on.

:class:`SpeechBatches` serves whole utterances (phoneme ids, log-mel, audio, speaker
and emotion ids) for acoustic models; :class:`AudioSegments` serves short, aligned
(audio, mel) windows for vocoders. Both are :class:`keras.utils.PyDataset` subclasses,
so ``model.fit(batches)`` works on the TensorFlow and PyTorch backends alike, and both
yield plain dicts of numpy arrays: pass ``map_fn`` to turn a dict into the
``(inputs, targets)`` a model's ``fit`` expects.

Layout (time-major, as everywhere in voicelab):

=================  =========  ==================  ====================================
key                dtype      shape               padding
=================  =========  ==================  ====================================
``tokens``         int32      ``[B, L]``          0 (``<pad>``)
``token_length``   int32      ``[B]``
``mel``            float32    ``[B, F, n_mels]``  ``log(1e-5)`` (:data:`MEL_PAD`)
``mel_length``     int32      ``[B]``
``audio``          float32    ``[B, T]``          0.0
``audio_length``   int32      ``[B]``
``speaker``        int32      ``[B]``             index in ``speaker_ids``
``emotion``        int32      ``[B]``             index in ``emotion_ids``
=================  =========  ==================  ====================================

Features are computed from the audio resampled to ``config.sr``. With ``cache_dir``,
each utterance's log-mel is saved once as ``.npy`` (in a folder named after a hash of
the :class:`~voicelab.dsp.features.AudioConfig`, so changing a setting never reads stale
features), and so is its resampled audio when the file's rate differs from
``config.sr``; later epochs and runs read them back.

Example
-------
>>> batches = SpeechBatches(manifest, batch_size=8, cache_dir="cache",   # doctest: +SKIP
...                         map_fn=lambda b: ((b["tokens"], b["speaker"]), b["mel"]))
>>> model.fit(batches, epochs=10)                                          # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np

from voicelab.data.cache import FeatureCache, config_key
from voicelab.data.manifest import Manifest, Utterance
from voicelab.dsp.features import MEL_FLOOR, AudioConfig
from voicelab.errors import DatasetError, ParameterError

__all__ = ["MEL_PAD", "AudioSegments", "ExtendedBatches", "FeatureCache", "SpeechBatches", "config_key", "pad_batch",
           "vary_first_two"]

MEL_PAD = float(np.log(MEL_FLOOR))
"""Value of padded log-mel frames: ``log(1e-5)``, the log of silence."""

BUCKET_BATCHES = 32
"""With bucketing, utterances are sorted by duration within shuffled chunks of this many batches."""

Batch = dict[str, np.ndarray]


def pad_batch(
    arrays: Sequence[np.ndarray], *, value: float = 0.0, dtype=None
) -> tuple[np.ndarray, np.ndarray]:
    """Stack arrays of different lengths (first axis) into one padded array.

    Returns ``(batch, lengths)``: ``batch`` has shape ``[B, max_len, ...]``, filled
    with ``value`` past each array's length; ``lengths`` is int32 ``[B]``.

    >>> batch, lengths = pad_batch([np.ones(2), np.ones(3)], value=-1.0)
    >>> batch.tolist(), lengths.tolist()
    ([[1.0, 1.0, -1.0], [1.0, 1.0, 1.0]], [2, 3])
    """
    lengths = np.array([len(a) for a in arrays], dtype=np.int32)
    dtype = dtype or arrays[0].dtype
    out = np.full((len(arrays), int(lengths.max()), *arrays[0].shape[1:]), value, dtype=dtype)
    for row, a in enumerate(arrays):
        out[row, : len(a)] = a
    return out, lengths


# --------------------------------------------------------------------------- datasets


def vary_first_two(batches: list[np.ndarray], padded: Callable[[np.ndarray], tuple[int, ...]]) -> list[np.ndarray]:
    """Move a batch whose padded lengths differ from batch 0's into position 1.

    On the TensorFlow backend, Keras infers a :class:`keras.utils.PyDataset`'s signature
    from its first two batches and fixes every dimension they agree on: two batches
    padded to the same length would freeze that length, and the next longer batch would
    fail. ``batches`` are arrays of row indices; ``padded(batch)`` gives the padded sizes
    of a batch (e.g. frames and tokens). Swapping batch 1 with a later one keeps the
    order deterministic and the epoch's content unchanged.

    >>> lengths = [5, 5, 5, 5, 7, 7]
    >>> batches = vary_first_two([np.array([0, 1]), np.array([2, 3]), np.array([4, 5])],
    ...                          lambda rows: (max(lengths[i] for i in rows),))
    >>> [b.tolist() for b in batches]
    [[0, 1], [4, 5], [2, 3]]
    """
    if len(batches) > 2:
        first = padded(batches[0])
        if any(a == b for a, b in zip(first, padded(batches[1]))):
            for j in range(2, len(batches)):
                if all(a != b for a, b in zip(first, padded(batches[j]))):
                    batches[1], batches[j] = batches[j], batches[1]
                    break
    return batches


class _ManifestDataset(keras.utils.PyDataset):
    """What both datasets share: vocabularies, filtering, the epoch's batch order."""

    def __init__(
        self,
        manifest: Manifest,
        *,
        config: AudioConfig,
        batch_size: int,
        shuffle: bool,
        seed: int,
        max_seconds: float | None,
        cache_dir: str | os.PathLike | None,
        map_fn: Callable[[Batch], object] | None,
        speakers: Sequence[str] | None,
        emotions: Sequence[str] | None,
        drop_remainder: bool,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ParameterError(f"batch_size={batch_size!r} must be a positive integer")
        if max_seconds is not None and max_seconds <= 0:
            raise ParameterError(f"max_seconds={max_seconds!r} must be positive or None")
        if not isinstance(config, AudioConfig):
            raise ParameterError(f"config={config!r} must be a voicelab.dsp.features.AudioConfig")
        self.config = config
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.map_fn = map_fn
        self.drop_remainder = drop_remainder
        self.speaker_ids = {s: i for i, s in enumerate(manifest.speakers if speakers is None else speakers)}
        self.emotion_ids = {e: i for i, e in enumerate(manifest.emotions if emotions is None else emotions)}
        for utt in manifest:
            if utt.speaker not in self.speaker_ids or utt.emotion not in self.emotion_ids:
                raise ParameterError(
                    f"utterance {utt.id!r} has speaker {utt.speaker!r} / emotion {utt.emotion!r}, "
                    f"not in speakers={list(self.speaker_ids)} / emotions={list(self.emotion_ids)}"
                )
        kept = [u for u in manifest if max_seconds is None or u.duration <= max_seconds]
        if len(kept) < (batch_size if drop_remainder else 1):
            raise DatasetError(
                f"{len(kept)} of {len(manifest)} utterances are at most max_seconds={max_seconds}: "
                f"too few for one batch of {batch_size}"
            )
        self.manifest = Manifest(kept, manifest.root)
        self.features = FeatureCache(self.manifest, config, cache_dir)
        self.epoch = 0
        self._batches = self._plan(0)

    def _order(self, rng: np.random.Generator | None) -> np.ndarray:
        n = len(self.manifest)
        return np.arange(n) if rng is None else rng.permutation(n)

    def _plan(self, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, epoch]) if self.shuffle else None
        order = self._order(rng)
        n = len(order)
        n_batches = n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)
        batches = [order[i * self.batch_size : (i + 1) * self.batch_size] for i in range(n_batches)]
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return self._vary_first_two(batches)

    def _vary_first_two(self, batches: list[np.ndarray]) -> list[np.ndarray]:
        def padded(batch: np.ndarray) -> tuple[int, int]:
            utts = [self.manifest[int(i)] for i in batch]
            frames = max(int(u.duration * self.config.sr) // self.config.hop_length for u in utts)
            tokens = max(len(u.phonemes.split()) for u in utts)
            return frames, tokens

        return vary_first_two(batches, padded)

    def __len__(self) -> int:
        return len(self._batches)

    def on_epoch_end(self) -> None:
        """Draw the next epoch's order (deterministic: it depends on ``seed`` and the epoch)."""
        self.epoch += 1
        self._batches = self._plan(self.epoch)

    def utterances(self, index: int) -> list[Utterance]:
        """The utterances of batch ``index`` in this epoch, in batch order (to listen, plot, debug)."""
        return [self.manifest[int(i)] for i in self._batches[index]]

    def _ids(self, utts: list[Utterance]) -> Batch:
        return {
            "speaker": np.array([self.speaker_ids[u.speaker] for u in utts], dtype=np.int32),
            "emotion": np.array([self.emotion_ids[u.emotion] for u in utts], dtype=np.int32),
        }

    def _out(self, batch: Batch):
        return batch if self.map_fn is None else self.map_fn(batch)


class SpeechBatches(_ManifestDataset):
    """Padded batches of whole utterances: phoneme ids, log-mel, audio, speaker, emotion.

    Parameters
    ----------
    manifest : Manifest
        The utterances, e.g. ``corpus.filter(split="train")``.
    config : AudioConfig
        Sample rate and mel settings; audio at another rate is resampled.
    batch_size : int
        Utterances per batch (the last batch may be smaller unless ``drop_remainder``).
    shuffle : bool
        New order every epoch, drawn from ``seed`` and the epoch number (the count of
        ``on_epoch_end`` calls): the same seed gives the same batches, run after run.
        ``model.fit`` also shuffles the order of whole batches unless given
        ``shuffle=False``; seed it with ``keras.utils.set_random_seed``.
    seed : int
        Seed of the order.
    max_seconds : float, optional
        Leave out utterances longer than this (memory grows with the longest one).
    bucket : bool
        Sort by duration within shuffled chunks of :data:`BUCKET_BATCHES` batches
        (without ``shuffle``: over the whole manifest), so a batch holds utterances of
        similar length and little padding.
    cache_dir : path-like, optional
        Where log-mels (and resampled audio) are kept between epochs and runs.
    map_fn : callable, optional
        ``map_fn(batch_dict)`` returns what the model's ``fit`` takes, e.g.
        ``lambda b: ((b["tokens"], b["speaker"]), b["mel"])``.
    speakers, emotions : sequence of str, optional
        Vocabularies for the ids (default: the manifest's sorted ones). Pass the full
        corpus's to give a train and a valid set the same ids.
    with_audio : bool
        Include ``audio`` and ``audio_length``; ``False`` reads no audio at all once
        the mels are cached (acoustic models need none).
    drop_remainder : bool
        Leave out the last, smaller batch.
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size`` of
        :class:`keras.utils.PyDataset`.

    Attributes
    ----------
    speaker_ids, emotion_ids : dict
        Label -> id, the ids in the ``speaker`` and ``emotion`` arrays.

    Example
    -------
    >>> batches = SpeechBatches(corpus, batch_size=4)      # doctest: +SKIP
    >>> {k: v.shape for k, v in batches[0].items()}         # doctest: +SKIP
    {'tokens': (4, 41), 'token_length': (4,), 'mel': (4, 187, 80), ...}
    """

    def __init__(
        self,
        manifest: Manifest,
        *,
        config: AudioConfig = AudioConfig(),
        batch_size: int = 16,
        shuffle: bool = True,
        seed: int = 0,
        max_seconds: float | None = None,
        bucket: bool = True,
        cache_dir: str | os.PathLike | None = None,
        map_fn: Callable[[Batch], object] | None = None,
        speakers: Sequence[str] | None = None,
        emotions: Sequence[str] | None = None,
        with_audio: bool = True,
        drop_remainder: bool = False,
        **kwargs,
    ):
        from voicelab.text import phonemes_to_ids

        self.bucket = bucket
        self.with_audio = with_audio
        super().__init__(
            manifest, config=config, batch_size=batch_size, shuffle=shuffle, seed=seed,
            max_seconds=max_seconds, cache_dir=cache_dir, map_fn=map_fn, speakers=speakers,
            emotions=emotions, drop_remainder=drop_remainder, **kwargs,
        )  # fmt: skip
        self._tokens = []
        for utt in self.manifest:
            if not utt.phonemes:
                raise DatasetError(f"utterance {utt.id!r} has no phonemes: SpeechBatches needs them")
            self._tokens.append(phonemes_to_ids(utt.phonemes))

    def _order(self, rng: np.random.Generator | None) -> np.ndarray:
        order = super()._order(rng)
        if not self.bucket:
            return order
        durations = np.array([u.duration for u in self.manifest])
        chunk = len(order) if rng is None else self.batch_size * BUCKET_BATCHES
        for start in range(0, len(order), chunk):
            part = order[start : start + chunk]
            order[start : start + chunk] = part[np.argsort(durations[part], kind="stable")]
        return order

    def __getitem__(self, index: int):
        rows = self._batches[index]
        utts = self.utterances(index)
        loaded = [self.features.load(u, audio=self.with_audio) for u in utts]
        batch: Batch = {}
        tokens = [self._tokens[int(i)] for i in rows]
        batch["tokens"], batch["token_length"] = pad_batch(tokens, value=0, dtype=np.int32)
        mels = [mel for _, mel in loaded]
        batch["mel"], batch["mel_length"] = pad_batch(mels, value=MEL_PAD, dtype=np.float32)
        if self.with_audio:
            batch["audio"], batch["audio_length"] = pad_batch([y for y, _ in loaded], dtype=np.float32)
        batch.update(self._ids(utts))
        return self._out(batch)


class AudioSegments(_ManifestDataset):
    """Random fixed-length, aligned (audio, mel) windows for vocoder training.

    Each epoch, every utterance gives one window of ``segment_frames`` mel frames
    starting at a random frame ``s``, and the audio it covers:
    ``audio[s * hop : (s + segment_frames) * hop]`` with ``mel[s : s + segment_frames]``
    (centred frames: frame ``t`` is centred on sample ``t * hop``). Utterances shorter
    than a window are padded (audio with 0, mel with :data:`MEL_PAD`). The start is
    drawn from ``seed``, the epoch and the utterance, so it is reproducible.

    Batches are dicts: ``audio`` float32 ``[B, segment_frames * hop_length]``, ``mel``
    float32 ``[B, segment_frames, n_mels]``, ``speaker`` and ``emotion`` int32 ``[B]``.

    ``mels`` (utterance id -> ``[frames, n_mels]``) pairs each utterance's audio with
    another mel of the same frames instead of its own, e.g. an acoustic model's
    teacher-forced prediction (``voicelab.recipes.tts.teacher_forced_mels``), to adapt a
    vocoder to what it will be given at synthesis time. Every utterance needs one. The
    other parameters are those of :class:`SpeechBatches`.

    Example
    -------
    >>> segments = AudioSegments(corpus, segment_frames=32, batch_size=16)  # doctest: +SKIP
    >>> segments[0]["audio"].shape, segments[0]["mel"].shape                # doctest: +SKIP
    ((16, 8192), (16, 32, 80))
    """

    def __init__(
        self,
        manifest: Manifest,
        *,
        config: AudioConfig = AudioConfig(),
        segment_frames: int = 32,
        batch_size: int = 16,
        shuffle: bool = True,
        seed: int = 0,
        max_seconds: float | None = None,
        cache_dir: str | os.PathLike | None = None,
        map_fn: Callable[[Batch], object] | None = None,
        speakers: Sequence[str] | None = None,
        emotions: Sequence[str] | None = None,
        drop_remainder: bool = False,
        mels: Mapping[str, np.ndarray] | None = None,
        **kwargs,
    ):
        if isinstance(segment_frames, bool) or not isinstance(segment_frames, int) or segment_frames < 1:
            raise ParameterError(f"segment_frames={segment_frames!r} must be a positive integer")
        self.segment_frames = segment_frames
        super().__init__(
            manifest, config=config, batch_size=batch_size, shuffle=shuffle, seed=seed,
            max_seconds=max_seconds, cache_dir=cache_dir, map_fn=map_fn, speakers=speakers,
            emotions=emotions, drop_remainder=drop_remainder, **kwargs,
        )  # fmt: skip
        missing = [u.id for u in self.manifest if u.id not in mels] if mels is not None else []
        if missing:
            raise ParameterError(f"mels has no mel for {len(missing)} utterances, e.g. {missing[:3]}")
        self.mels = mels

    def segment(self, row: int, *, epoch: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """``(audio, mel, start_frame)``: the window of ``self.manifest[row]`` in ``epoch`` (default: this one)."""
        n, hop = self.segment_frames, self.config.hop_length
        utt = self.manifest[row]
        y, mel = self.features.load(utt)
        if self.mels is not None:
            own, mel = len(mel), np.asarray(self.mels[utt.id], dtype=np.float32)
            if mel.shape != (own, self.config.n_mels):
                raise ParameterError(f"mels[{utt.id!r}] has shape {mel.shape}: the recording has {own} frames "
                                     f"of {self.config.n_mels} mels")
        rng = np.random.default_rng([self.seed, self.epoch if epoch is None else epoch, row])
        start = int(rng.integers(0, max(len(mel) - n, 0) + 1))
        mel = mel[start : start + n]
        y = y[start * hop : (start + n) * hop]
        mel = np.concatenate([mel, np.full((n - len(mel), mel.shape[1]), MEL_PAD, np.float32)])
        y = np.concatenate([y, np.zeros(n * hop - len(y), np.float32)])
        return y, mel, start

    def __getitem__(self, index: int):
        rows = self._batches[index]
        pairs = [self.segment(int(i)) for i in rows]
        batch: Batch = {
            "audio": np.stack([y for y, _, _ in pairs]),
            "mel": np.stack([mel for _, mel, _ in pairs]),
        }
        batch.update(self._ids(self.utterances(index)))
        return self._out(batch)


class ExtendedBatches(keras.utils.PyDataset):
    """:class:`SpeechBatches` with more keys in every batch: subclasses write :meth:`extend`.

    The order, the epochs and the length are the wrapped batches'; ``extend(batch,
    utterances)`` receives a copy of each batch dict and its utterances and returns it
    with the new keys (phoneme durations for the TTS, speaker embeddings for the VQ-VAE).
    """

    def __init__(self, batches: SpeechBatches):
        super().__init__()
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def on_epoch_end(self) -> None:
        self.batches.on_epoch_end()

    def __getitem__(self, index: int) -> Batch:
        return self.extend(dict(self.batches[index]), self.batches.utterances(index))

    def extend(self, batch: Batch, utterances: list[Utterance]) -> Batch:
        raise NotImplementedError
