"""Emotional renditions scored against the parallel ground truth: the judge, prosody, voice and words.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``.

The corpus is parallel across emotions: each speaker says each sentence neutrally and
in every emotion. So a rendition made from the neutral clip (e.g. its content and
voice, with the rhythm and pitch of the sad clip) can be compared with the real sad
clip of the same speaker and sentence. :func:`score_rendition` measures:

- **emotion**: the probabilities of an emotion classifier trained in the kit on the
  corpus (``judge``), its ``verdict`` and whether it is the ``target`` emotion;
- **prosody**: correlation and RMSE (in cents) of the rendition's f0 against the real
  target's over the frames voiced in both (the rendition is stretched to the target's
  length first), and the ``duration_ratio`` of their lengths (1.0: the target's tempo);
- **spectrum**: mel cepstral distortion (DTW, speech frames) to the real target;
- **voice**: resemblyzer cosine to the neutral source recording (``sim_source``);
- **words**: pocketsphinx WER against the sentence's text.

:func:`judge_table` gives the judge's accuracy per system and emotion, and
:func:`confusion` its confusion matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from voicelab.dsp.features import AudioConfig, f0
from voicelab.dsp.prosody import stretch_to
from voicelab.errors import ParameterError
from voicelab.evaluation import metrics

METRICS = ("correct", "p_target", "f0_corr", "f0_rmse_cents", "duration_ratio", "mcd", "sim_source", "wer")
"""Figures of :func:`score_rendition`, averaged by :func:`judge_table`."""


def f0_agreement(estimate: np.ndarray, reference: np.ndarray, *, config: AudioConfig = AudioConfig()) -> tuple[float, float]:
    """``(correlation, RMSE in cents)`` of two recordings' f0 over the frames voiced in both.

    ``estimate`` is stretched uniformly to ``reference``'s frames first. NaN when fewer than
    three frames are voiced in both.

    Example
    -------
    >>> t = np.arange(16000) / 16000
    >>> a = 0.3 * np.sin(2 * np.pi * (150 * t + 20 * t ** 2))
    >>> corr, cents = f0_agreement(a, a)
    >>> round(corr, 3), round(cents, 1)
    (1.0, 0.0)
    """
    f_est, _ = f0(estimate, config=config)
    f_ref, _ = f0(reference, config=config)
    f_est = stretch_to(f_est.astype(np.float64), len(f_ref))
    both = (f_est > 0) & (f_ref > 0)
    if both.sum() < 3:
        return float("nan"), float("nan")
    a, b = np.log2(f_est[both]), np.log2(f_ref[both])
    corr = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
    return corr, float(1200 * np.sqrt(np.mean((a - b) ** 2)))


def score_rendition(
    audio: np.ndarray,
    *,
    target: np.ndarray,
    source: np.ndarray,
    text: str,
    emotion: str,
    judge: Callable[[np.ndarray], np.ndarray],
    emotions: Sequence[str],
    sr: int,
    transcriber=None,
    config: AudioConfig = AudioConfig(),
) -> dict:
    """Score one rendition against the real ``target`` recording (module docstring).

    Parameters
    ----------
    audio : np.ndarray
        The rendition.
    target, source : np.ndarray
        The real recording in the target emotion, and the neutral source recording.
    text : str
        The sentence.
    emotion : str
        The target emotion, one of ``emotions``.
    judge : callable
        ``audio -> probabilities [len(emotions)]``.
    transcriber : callable, optional
        ``(audio, sr=) -> text``; ``None`` leaves ``wer`` NaN.
    """
    if emotion not in emotions:
        raise ParameterError(f"emotion={emotion!r} is not one of {list(emotions)}")
    p = np.asarray(judge(audio), dtype=np.float64)
    if p.shape != (len(emotions),):
        raise ParameterError(f"the judge returned shape {p.shape}, not ({len(emotions)},)")
    corr, cents = f0_agreement(audio, target, config=config)
    try:
        sim = metrics.speaker_similarity(audio, source, sr=sr)
    except ParameterError:            # too little speech to embed
        sim = float("nan")
    verdict = emotions[int(p.argmax())]
    return {
        "verdict": verdict, "correct": float(verdict == emotion), "p_target": float(p[list(emotions).index(emotion)]),
        "f0_corr": corr, "f0_rmse_cents": cents, "duration_ratio": len(audio) / len(target),
        "mcd": metrics.mel_cepstral_distortion(target, audio, sr=sr), "sim_source": sim,
        "wer": float("nan") if transcriber is None else metrics.word_error_rate([text], [transcriber(audio, sr=sr)]),
    }


def judge_table(rows: Sequence[Mapping], *, systems: Sequence[str], emotions: Sequence[str]) -> list[dict]:
    """One row per system: the judge's accuracy per target emotion and overall, and the mean figures.

    An emotion a system has no rows for is NaN in its row.
    """
    table = []
    for system in systems:
        mine = [r for r in rows if r["system"] == system]
        if not mine:
            continue
        row = {"system": system, "n": len(mine)}
        for e in emotions:
            hits = [r["correct"] for r in mine if r["emotion"] == e]
            row[e] = round(float(np.mean(hits)), 3) if hits else float("nan")
        for m in METRICS:
            values = [r[m] for r in mine if np.isfinite(r[m])]
            row[m] = round(float(np.mean(values)), 3) if values else float("nan")
        table.append(row)
    return table


def confusion(rows: Sequence[Mapping], emotions: Sequence[str], *, system: str) -> np.ndarray:
    """``[target emotion, verdict]`` counts of one system's rows.

    >>> confusion([{"system": "s", "emotion": "a", "verdict": "b"}], ["a", "b"], system="s").tolist()
    [[0, 1], [0, 0]]
    """
    out = np.zeros((len(emotions), len(emotions)), dtype=int)
    index = {e: i for i, e in enumerate(emotions)}
    for r in rows:
        if r["system"] == system:
            out[index[r["emotion"]], index[r["verdict"]]] += 1
    return out
