"""Phoneme durations in a batch: what the TTS model trains on besides the mel.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``. The durations themselves come from
the aligner (``voicelab.models.align.durations_by_id``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from voicelab.data.pipeline import ExtendedBatches
from voicelab.errors import ParameterError


class DurationBatches(ExtendedBatches):
    """A :class:`~voicelab.data.SpeechBatches` whose batches also carry ``durations [B, L]``.

    ``durations`` maps utterance id -> int array of frames per symbol (from the aligner:
    ``voicelab.models.align.durations_by_id``); each must match its utterance's symbols
    and mel frames. With ``f0=True`` the batches also carry ``f0 [B, F]``, the f0 in Hz
    of every mel frame (0 where unvoiced and in the padding), for the variance adaptor.
    """

    def __init__(self, batches, durations: Mapping[str, np.ndarray], *, f0: bool = False):
        super().__init__(batches)
        self.durations, self.with_f0 = durations, f0

    def extend(self, batch: dict, utts: list) -> dict:
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
        if self.with_f0:
            f0 = np.zeros(batch["mel"].shape[:2], np.float32)
            for row, u in enumerate(utts):
                hz = self.batches.features.f0(u)[: batch["mel_length"][row]]
                f0[row, : len(hz)] = hz
            batch["f0"] = f0
        return batch
