"""Vocoders scored side by side against the recordings: PESQ-WB, STOI, MCD, spectral convergence.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``; ``benchmarks/evaluate_vocoder.py``
calls the same functions through ``voicelab.recipes.vocoder``.

Layouts: mel ``[frames, n_mels]`` (time-major natural-log mel), audio ``[samples]``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from voicelab.data.manifest import Manifest
from voicelab.data.pipeline import FeatureCache
from voicelab.dsp import features, griffin_lim
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics
from voicelab.evaluation.tables import mean_by
from voicelab.vocoders import Vocoder

METRICS = ("pesq_wb", "stoi", "mcd", "sc")
"""Metric names of :func:`evaluate_vocoders`: higher is better for the first two."""


def evaluate_vocoders(
    utterances: Manifest,
    systems: Mapping[str, Vocoder | None],
    *,
    config: AudioConfig = AudioConfig(),
    cache_dir: str | os.PathLike | None = None,
    return_audio: bool = False,
) -> list[dict] | tuple[list[dict], dict]:
    """Score each system on each utterance against the recording.

    Every system gets the recording's log-mel ``[frames, n_mels]`` and returns audio;
    it is trimmed or zero-padded to the recording's length, then judged with PESQ-WB,
    STOI, MCD (dB) and spectral convergence (of its STFT magnitude against the
    recording's). Include ``"ground truth": None`` among ``systems`` to score the
    recording itself (the metrics' ceiling).

    Returns
    -------
    rows : list of dict
        ``{"id", "speaker", "system", "pesq_wb", "stoi", "mcd", "sc"}`` per pair.
    audio : dict, only with ``return_audio``
        ``{utterance id: {system: audio}}``.
    """
    if not systems:
        raise ParameterError("systems is empty: give {name: mel -> audio}")
    cache = FeatureCache(utterances, config, cache_dir)
    rows, clips = [], {}
    for utt in utterances:
        y, mel = cache.load(utt)
        utt_rows, clips[utt.id] = _score(y, mel, systems, config=config, id=utt.id, speaker=utt.speaker)
        rows += utt_rows
    return (rows, clips) if return_audio else rows


def evaluate_vocoders_on_audio(
    recordings: Mapping[str, tuple[str, np.ndarray]],
    systems: Mapping[str, Vocoder | None],
    *,
    config: AudioConfig = AudioConfig(),
    return_audio: bool = False,
) -> list[dict] | tuple[list[dict], dict]:
    """:func:`evaluate_vocoders` for recordings that are in no manifest: ``{id: (speaker, audio)}``.

    Each recording (float32 at ``config.sr``) gets its log-mel computed here
    (``voicelab.dsp.features.log_melspectrogram``), as a corpus's would be. Notebook 03
    uses it on voices the vocoders never heard (:func:`voicelab.data.speakers.speak`).
    """
    if not systems:
        raise ParameterError("systems is empty: give {name: mel -> audio}")
    rows, clips = [], {}
    for clip_id, (speaker, y) in recordings.items():
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or len(y) < config.n_fft:
            raise ParameterError(f"recording {clip_id!r} of shape {y.shape}: need mono audio of at least "
                                 f"n_fft={config.n_fft} samples")
        mel = features.log_melspectrogram(y, config=config)
        clip_rows, clips[clip_id] = _score(y, mel, systems, config=config, id=clip_id, speaker=speaker)
        rows += clip_rows
    return (rows, clips) if return_audio else rows


def _score(y, mel, systems, *, config: AudioConfig, **keys) -> tuple[list[dict], dict]:
    """Each system's audio from ``mel``, fitted to ``len(y)``, and its row of metrics against ``y``."""
    from librosa.util import fix_length

    reference = features.magnitude(y, config=config)
    rows, clips = [], {}
    for system, vocode in systems.items():
        est = y if vocode is None else np.asarray(vocode(mel), dtype=np.float32).ravel()
        est = fix_length(est, size=len(y))
        clips[system] = est
        rows.append({
            **keys, "system": system,
            "pesq_wb": metrics.pesq_wb(y, est, sr=config.sr),
            "stoi": metrics.stoi(y, est, sr=config.sr),
            "mcd": metrics.mel_cepstral_distortion(y, est, sr=config.sr),
            "sc": float(griffin_lim.spectral_convergence_from_audio(est, reference, config=config)),
        })
    return rows, clips


def metric_table(rows: Sequence[Mapping], *, by: Sequence[str] = ("system",)) -> list[dict]:
    """Mean of every metric per group (``by`` keys), in first-seen order, with ``n``.

    Example
    -------
    >>> metric_table([{"system": "a", "pesq_wb": 2.0, "stoi": 0.8, "mcd": 5.0, "sc": 0.2},
    ...               {"system": "a", "pesq_wb": 3.0, "stoi": 0.9, "mcd": 4.0, "sc": 0.1}])
    [{'system': 'a', 'n': 2, 'pesq_wb': 2.5, 'stoi': 0.85, 'mcd': 4.5, 'sc': 0.15}]
    """
    return mean_by(rows, by=by, metrics=METRICS)
