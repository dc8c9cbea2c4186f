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
    pending_truth = {}       # transcripts still being decoded, by utterance id
    rows: dict[str, dict[str, list]] = {}
    items = list(manifest)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc="evaluating")
    try:
        for utt in items:
            if utt.speaker not in speakers:
                raise ParameterError(f"utterance {utt.id!r} has speaker {utt.speaker!r}, not in {list(speakers)}")
            voice = utt.speaker if model.config.voice == "speaker" else (references or {})[utt.speaker]
            emotion = utt.emotion if model.config.n_emotions > 1 else None
            y_syn, _, _ = synthesize(model, utt.text, voice=voice, config=config, n_iter=n_iter, speakers=speakers,
                                     vocoder=vocoder, emotion=emotion, emotions=emotions)
            y_true = vl_audio.load(manifest.audio_path(utt), sr=config.sr)
            r = rows.setdefault(utt.speaker, {k: [] for k in ("mcd", "sim", "ref", "hyp", "truth")})
            # the recognizer's processes decode while this process makes and measures the next clips
            r["hyp"].append(metrics.transcribe_later(judge, y_syn, sr=config.sr))
            if utt.id not in truth_transcripts and utt.id not in pending_truth:
                pending_truth[utt.id] = metrics.transcribe_later(judge, y_true, sr=config.sr)
            r["truth"].append(utt.id)
            r["mcd"].append(metrics.mel_cepstral_distortion(y_true, y_syn, sr=config.sr))
            try:
                r["sim"].append(metrics.speaker_similarity(y_true, y_syn, sr=config.sr))
            except ParameterError:  # the synthetic clip is (nearly) silent: no voice to compare
                r["sim"].append(float("nan"))
            r["ref"].append(utt.text)
        truth_transcripts.update({i: t.result() for i, t in pending_truth.items()})
        for r in rows.values():
            r["hyp"] = [t.result() for t in r["hyp"]]
            r["truth"] = [truth_transcripts[i] for i in r["truth"]]
    finally:
        if transcriber is None:
            judge.close()
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
    # a column with no number at all (no clip long enough to embed) averages to NaN, without a warning
    columns = {k: np.array([r[k] for r in rows]) for k in RESULT_COLUMNS}
    mean = {k: round(float(np.nanmean(v)), 6) if not np.isnan(v).all() else float("nan") for k, v in columns.items()}
    mean["wer_ratio"] = round(mean["wer_synth"] / mean["wer_truth"], 6) if mean["wer_truth"] > 0 else float("inf")
    return rows + [{"speaker": "average", "n": sum(r["n"] for r in rows), **mean}]


def format_results(results: Mapping[str, Mapping[str, float]], *, title: str = "") -> str:
    """A fixed-width table of :func:`evaluate_voices`'s results, with an average row last."""
    return format_table(results_table(results), title=title, digits=3)


def _prosody(y: np.ndarray, config: AudioConfig) -> dict[str, float]:
    """Median f0 (Hz) over voiced frames and the speech duration (s, silence trimmed at 40 dB)."""
    from voicelab.dsp.features import f0

    hz, _ = f0(y, config=config)
    voiced = hz[hz > 0]
    trimmed = vl_audio.trim_silence(y, sr=config.sr, top_db=40, frame_length=2048, hop_length=512)
    return {"f0": float(np.median(voiced)) if len(voiced) else float("nan"), "duration": len(trimmed) / config.sr}


def emotion_prosody(model, manifest, *, speakers: Sequence[str], emotions: Sequence[str],
                    config: AudioConfig = AudioConfig(), n_iter: int = 32, vocoder: Vocoder | None = None,
                    progress: bool = False) -> list[dict]:
    """The f0 and duration of a speaker-id model with an emotion input against the recordings, clip by clip.

    For every utterance of ``manifest`` (e.g. the test sentences in every emotion), the
    model speaks its text in its speaker's voice and its emotion; both the synthetic clip
    and the recording are measured. Returns one row per clip and ``source`` (``"tts"`` or
    ``"recording"``): ``speaker``, ``emotion``, ``sentence_id``, ``f0`` (median Hz over
    voiced frames) and ``duration`` (s of speech, silence trimmed). :func:`emotion_shifts`
    turns them into shifts from neutral.
    """
    if model.config.n_emotions <= 1 or model.config.voice != "speaker":
        raise ParameterError("emotion_prosody needs a speaker-id model trained with an emotion input "
                             f"(n_emotions > 1), got voice={model.config.voice!r}, n_emotions={model.config.n_emotions}")
    rows = []
    items = list(manifest)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc="emotions")
    for utt in items:
        y_syn, _, _ = synthesize(model, utt.text, voice=utt.speaker, config=config, n_iter=n_iter,
                                 speakers=speakers, vocoder=vocoder, emotion=utt.emotion, emotions=emotions)
        y_true = vl_audio.load(manifest.audio_path(utt), sr=config.sr)
        for source, y in (("tts", y_syn), ("recording", y_true)):
            rows.append({"speaker": utt.speaker, "emotion": utt.emotion, "sentence_id": utt.sentence_id,
                         "source": source, **_prosody(y, config)})
    return rows


def emotion_shifts(rows: Sequence[Mapping], *, neutral: str = "neutral") -> list[dict]:
    """Each emotion's f0 shift (semitones) and duration ratio against the same clip in ``neutral``.

    ``rows`` are :func:`emotion_prosody`'s. Each clip is compared with the clip of the
    same speaker, sentence and source in ``neutral``; the table has one row per emotion
    with the mean shift of the TTS and of the recordings side by side.

    Example
    -------
    >>> rows = [{"speaker": "a", "sentence_id": 1, "source": s, "emotion": e, "f0": f, "duration": d}
    ...         for s, e, f, d in [("tts", "neutral", 100.0, 2.0), ("tts", "sad", 100.0, 2.4),
    ...                            ("recording", "neutral", 100.0, 2.0), ("recording", "sad", 200.0, 3.0)]]
    >>> emotion_shifts(rows)
    [{'emotion': 'sad', 'n': 1, 'f0_tts': 0.0, 'f0_recording': 12.0, 'duration_tts': 1.2, 'duration_recording': 1.5}]
    """
    base = {(r["speaker"], r["sentence_id"], r["source"]): r for r in rows if r["emotion"] == neutral}
    if not base:
        raise ParameterError(f"no {neutral!r} clips in rows: nothing to measure the shifts from")
    shifts: dict[str, dict[str, list]] = {}
    for r in rows:
        ref = base.get((r["speaker"], r["sentence_id"], r["source"]))
        if r["emotion"] == neutral or ref is None:
            continue
        s = shifts.setdefault(r["emotion"], {k: [] for k in ("f0_tts", "f0_recording", "duration_tts",
                                                              "duration_recording")})
        s[f"f0_{r['source']}"].append(12 * np.log2(r["f0"] / ref["f0"]))
        s[f"duration_{r['source']}"].append(r["duration"] / ref["duration"])
    return [{"emotion": e, "n": len(s["f0_tts"]),
             **{k: round(float(np.nanmean(v)), 3) if v else float("nan") for k, v in s.items()}}
            for e, s in sorted(shifts.items())]
