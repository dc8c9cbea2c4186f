"""Phoneme durations in a batch: what the TTS model trains on besides the mel.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``. The durations themselves come from
the aligner (``voicelab.models.align.durations_by_id``).
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np

from voicelab.errors import ParameterError


class DurationBatches(keras.utils.PyDataset):
    """A :class:`~voicelab.data.SpeechBatches` whose batches also carry ``durations [B, L]``.

    ``durations`` maps utterance id -> int array of frames per symbol (from the aligner:
    :func:`durations_by_id`); each must match its utterance's symbols and mel frames.
    """

    def __init__(self, batches, durations: Mapping[str, np.ndarray]):
        super().__init__()
        self.batches, self.durations = batches, durations

    def __len__(self) -> int:
        return len(self.batches)

    def on_epoch_end(self) -> None:
        self.batches.on_epoch_end()

    def __getitem__(self, index: int) -> dict:
        batch = dict(self.batches[index])
        utts = self.batches.utterances(index)
        missing = [u.id for u in utts if u.id not in self.durations]
        if missing:
            raise ParameterError(f"no durations for utterances {missing[:3]}")
        out = np.zeros(batch["tokens"].shape, np.int32)
        for row, u in enumerate(utts):
            d = np.asarray(self.durations[u.id])
            if len(d) != batch["token_length"][row] or d.sum() != batch["mel_length"][row]:
                raise ParameterError(f"durations of {u.id!r} ({len(d)} symbols, {d.sum()} frames) do not match "
                                     f"its {batch['token_length'][row]} symbols and {batch['mel_length'][row]} frames")
            out[row, :len(d)] = d
        batch["durations"] = out
        return batch
