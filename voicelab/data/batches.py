"""Data sets the later models train on, built on :class:`~voicelab.data.pipeline.SpeechBatches`.

- :class:`EmbeddingBatches`: speech batches with each clip's speaker embedding (the
  VQ-VAE with a voice embedding, ``notebooks/04_vqvae_voice_conversion.ipynb``);
- :class:`SplitBatches`: what SpeechSplit trains on, the mel and the pitch contour
  randomly resampled together, and the speaker's voice
  (``notebooks/05_emotional_voice_cloning.ipynb``);
- :class:`VoiceSamples`: batches of real speaker embeddings (VoiceGAN, notebook 05);
- :class:`ProsodyCodes`, :class:`CodeBatches`: utterances' rhythm and pitch codes,
  padded into batches (CodeGAN, notebook 05).

Every order is seeded and changes each epoch the same way on every rerun.

Example
-------
>>> samples = VoiceSamples(np.eye(4, dtype="float32"), batch_size=2, seed=0)
>>> len(samples), samples[0].shape
(2, (2, 4))
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from voicelab.data.manifest import Utterance
from voicelab.data.pipeline import ExtendedBatches, SpeechBatches, pad_batch, vary_first_two
from voicelab.dsp.prosody import normalize_log_f0, quantize_f0, random_resample, stretch_to
from voicelab.errors import ParameterError


class EmbeddingBatches(ExtendedBatches):
    """:class:`SpeechBatches` whose batches also carry ``embedding [B, D]``, each clip's own."""

    def __init__(self, batches: SpeechBatches, embeddings: dict[str, np.ndarray]):
        super().__init__(batches)
        self.embeddings = embeddings

    def extend(self, batch: dict, utts: list) -> dict:
        missing = [u.id for u in utts if u.id not in self.embeddings]
        if missing:
            raise ParameterError(f"no speaker embeddings for {missing[:3]}: embed the clips first "
                                 "(voicelab.artifacts.embed_clips)")
        batch["embedding"] = np.stack([self.embeddings[u.id] for u in utts]).astype("float32")
        return batch


def normalized_f0(features, f0_stats: dict[str, tuple[float, float]], utt: Utterance) -> np.ndarray:
    """The utterance's log-f0 normalised by its speaker's ``(mean, std)`` (NaN unvoiced)."""
    mean, std = f0_stats[utt.speaker]
    return normalize_log_f0(features.f0(utt), mean=mean, std=std)


class SplitBatches(ExtendedBatches):
    """Batches of :class:`SpeechBatches` plus ``content_mel``, ``pitch`` and ``embedding``.

    Each utterance's mel and normalised log-f0 (its speaker's ``f0_stats``) are randomly
    resampled together (:func:`voicelab.dsp.prosody.random_resample`), then stretched
    uniformly back to the utterance's length, so every frame axis of a batch has one
    length while the local timing the content and pitch encoders see is scrambled. The
    draw depends on the seed, the epoch and the batch: reruns are identical.
    ``resample=False`` gives the unresampled inputs (validation). ``voices`` maps each
    speaker to its voice embedding.
    """

    def __init__(self, batches: SpeechBatches, *, f0_stats: dict, voices: dict[str, np.ndarray], seed: int = 0,
                 resample: bool = True):
        super().__init__(batches)
        self.f0_stats, self.voices, self.seed, self.resample, self.epoch = f0_stats, voices, seed, resample, 0

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        self.epoch += 1

    def extend(self, batch: dict, utts: list) -> dict:
        missing = [u.speaker for u in utts if u.speaker not in self.voices]
        if missing:
            raise ParameterError(f"no voices for {sorted(set(missing))}: embed the speakers first")
        rng = np.random.default_rng((self.seed, self.epoch, int(batch["mel_length"].sum())))
        content = np.array(batch["mel"], copy=True)
        pitch = np.zeros(batch["mel"].shape[:2], "int32")
        for row, u in enumerate(utts):
            n = int(batch["mel_length"][row])
            mel, f0 = batch["mel"][row, :n], normalized_f0(self.batches.features, self.f0_stats, u)[:n]
            f0 = np.pad(f0, (0, n - len(f0)), constant_values=np.nan)
            if self.resample:
                mel, f0 = (stretch_to(a, n) for a in random_resample(mel, f0, rng=rng))
            content[row, :n] = mel
            pitch[row, :n] = quantize_f0(f0)
        batch["content_mel"], batch["pitch"] = content, pitch
        batch["embedding"] = np.stack([self.voices[u.speaker] for u in utts])
        return batch


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
