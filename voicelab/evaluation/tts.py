"""A TTS model scored per speaker: MCD, ASR word error rates and speaker similarity.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``; ``benchmarks/evaluate_tts.py`` calls
the same functions through ``voicelab.recipes.tts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from voicelab.dsp import audio as vl_audio
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics
from voicelab.evaluation.tables import format_table
from voicelab.synthesis import synthesize
from voicelab.vocoders import Vocoder


def evaluate_voices(model, manifest, *, speakers: Sequence[str], references: Mapping[str, object] | None = None,
                    config: AudioConfig = AudioConfig(), n_iter: int = 32, transcriber=None,
                    progress: bool = False, truth_transcripts: dict | None = None,
                    vocoder: Vocoder | None = None,
                    emotions: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Score the model on ``manifest`` (e.g. the test split), per speaker.

    For each utterance: synthesise its text in its speaker's voice (by name, or with
    ``references[speaker]`` as the clip to clone), then MCD against the recording,
    pocketsphinx transcripts of both, and the resemblyzer similarity of the two.

    ``truth_transcripts`` (utterance id -> transcript of the recording) is filled and
    reused, so scoring a second model does not transcribe the recordings again.
    ``vocoder`` replaces Griffin-Lim (see :func:`voicelab.synthesis.synthesize`). A model
    with an emotion input speaks each sentence in its utterance's emotion (``emotions``:
    the model's emotion names in id order).

    Returns ``speaker -> {"n", "mcd", "wer_synth", "wer_truth", "wer_ratio", "similarity",
    "silent"}`` (``wer_ratio`` is ``wer_synth / wer_truth``, ``inf`` when the recordings
    score 0; ``similarity`` averages the clips with enough speech for an embedding, and
    ``silent`` counts the synthetic clips without: an untrained model's are).
    """
    judge = transcriber or metrics.Transcriber()
    truth_transcripts = {} if truth_transcripts is None else truth_transcripts
    rows: dict[str, dict[str, list]] = {}
    items = list(manifest)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc="evaluating")
    for utt in items:
        if utt.speaker not in speakers:
            raise ParameterError(f"utterance {utt.id!r} has speaker {utt.speaker!r}, not in {list(speakers)}")
        voice = utt.speaker if model.config.voice == "speaker" else (references or {})[utt.speaker]
        emotion = utt.emotion if model.config.n_emotions > 1 else None
        y_syn, _, _ = synthesize(model, utt.text, voice=voice, config=config, n_iter=n_iter, speakers=speakers,
                                 vocoder=vocoder, emotion=emotion, emotions=emotions)
        y_true = vl_audio.load(manifest.audio_path(utt), sr=config.sr)
        r = rows.setdefault(utt.speaker, {k: [] for k in ("mcd", "sim", "ref", "hyp", "truth")})
        r["mcd"].append(metrics.mel_cepstral_distortion(y_true, y_syn, sr=config.sr))
        try:
            r["sim"].append(metrics.speaker_similarity(y_true, y_syn, sr=config.sr))
        except ParameterError:  # the synthetic clip is (nearly) silent: no voice to compare
            r["sim"].append(float("nan"))
        r["ref"].append(utt.text)
        r["hyp"].append(judge(y_syn, sr=config.sr))
        if utt.id not in truth_transcripts:
            truth_transcripts[utt.id] = judge(y_true, sr=config.sr)
        r["truth"].append(truth_transcripts[utt.id])
    results = {}
    for speaker, r in rows.items():
        wer_s = metrics.word_error_rate(r["ref"], r["hyp"])
        wer_t = metrics.word_error_rate(r["ref"], r["truth"])
        results[speaker] = {"n": len(r["mcd"]), "mcd": float(np.mean(r["mcd"])), "wer_synth": wer_s,
                            "wer_truth": wer_t, "wer_ratio": wer_s / wer_t if wer_t > 0 else float("inf"),
                            "similarity": float(np.nanmean(r["sim"])) if not np.isnan(r["sim"]).all() else float("nan"),
                            "silent": int(np.isnan(r["sim"]).sum())}
    return results


RESULT_COLUMNS = ("mcd", "wer_synth", "wer_truth", "wer_ratio", "similarity")


def results_table(results: Mapping[str, Mapping[str, float]]) -> list[dict]:
    """:func:`evaluate_voices`'s results as table rows, one per speaker and an ``average`` row.

    The average's ``wer_ratio`` is the ratio of the average WERs, so one speaker whose
    recordings all pass (WER 0, ratio inf) does not make it infinite.

    Example
    -------
    >>> r = {"a": {"n": 2, "mcd": 6.0, "wer_synth": 0.4, "wer_truth": 0.2, "wer_ratio": 2.0, "similarity": 0.8},
    ...      "b": {"n": 2, "mcd": 8.0, "wer_synth": 0.2, "wer_truth": 0.0, "wer_ratio": float("inf"),
    ...            "similarity": 0.9}}
    >>> results_table(r)[-1]
    {'speaker': 'average', 'n': 4, 'mcd': 7.0, 'wer_synth': 0.3, 'wer_truth': 0.1, 'wer_ratio': 3.0, 'similarity': 0.85}
    """
    rows = [{"speaker": s, "n": int(r["n"]), **{k: float(r[k]) for k in RESULT_COLUMNS}}
            for s, r in results.items()]
    mean = {k: round(float(np.nanmean([r[k] for r in rows])), 6) for k in RESULT_COLUMNS}
    mean["wer_ratio"] = round(mean["wer_synth"] / mean["wer_truth"], 6) if mean["wer_truth"] > 0 else float("inf")
    return rows + [{"speaker": "average", "n": sum(r["n"] for r in rows), **mean}]


def format_results(results: Mapping[str, Mapping[str, float]], *, title: str = "") -> str:
    """A fixed-width table of :func:`evaluate_voices`'s results, with an average row last."""
    return format_table(results_table(results), title=title, digits=3)
