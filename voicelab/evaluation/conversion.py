"""Voice conversion scored against the parallel ground truth, and what a code sequence means.

Introduced in ``notebooks/04_vqvae_voice_conversion.ipynb``.

The corpus is parallel: every speaker says every sentence, so converting speaker A's
rendition of a sentence into voice B can be compared with B's own recording of it.
For each (source utterance, target voice) :func:`evaluate_conversions` measures:

- **voice**: resemblyzer cosine of the converted speech to the target's recording of
  the sentence (``sim_target``) and to the source recording (``sim_source``); a
  conversion is ``closer_to_target`` when the first is larger (a conversion with too
  little speech to embed gets NaN similarities and counts as not closer);
- **words**: pocketsphinx WER of the converted speech (``wer``), next to the WER of the
  source mel through the same vocoder (``source_wer``): the vocoder's own damage is not
  blamed on the conversion;
- **spectrum**: mel cepstral distortion (DTW, speech frames) to the target's recording
  (``mcd_target``), next to the distortion between the source and target recordings
  themselves (``mcd_source_target``): a conversion that does not move the voice keeps
  the second figure.

Rows with the source's own voice as target are ``reconstruction``; the others
``conversion``. :func:`pair_table` averages per ordered pair and overall.
:func:`codes_vs_phonemes` measures how much a code sequence says about the phonemes
(normalised mutual information, purity).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from voicelab.errors import ParameterError
from voicelab.evaluation import metrics
from voicelab.evaluation.tables import mean_by

METRICS = ("sim_target", "sim_source", "closer_to_target", "wer", "source_wer", "mcd_target", "mcd_source_target")
"""Columns of :func:`evaluate_conversions`' rows and of :func:`pair_table`."""


@dataclasses.dataclass
class Source:
    """One utterance to convert: its speaker, sentence, text, audio and log-mel ``[F, n_mels]``."""

    id: str
    speaker: str
    sentence: str
    text: str
    audio: np.ndarray
    mel: np.ndarray


def evaluate_conversions(
    sources: Sequence[Source],
    targets: Mapping[str, Mapping[str, np.ndarray]],
    convert: Callable[[np.ndarray, str], np.ndarray],
    vocoder: Callable[[np.ndarray], np.ndarray],
    *,
    sr: int,
    transcriber=None,
    progress: bool = False,
    return_audio: bool = False,
):
    """Convert every source into every target voice and score it (module docstring).

    Parameters
    ----------
    sources : sequence of Source
    targets : mapping
        ``{target voice: {sentence: recording}}``: the target's own rendition of each
        source's sentence (the ground truth). A source whose sentence a target lacks is
        an error.
    convert : callable
        ``(mel [F, n_mels], target voice) -> mel``.
    vocoder : callable
        ``mel -> audio`` at ``sr``, used for the conversions and for the sources.
    transcriber : callable, optional
        ``(audio, sr=) -> text``; default :class:`voicelab.evaluation.metrics.Transcriber`.
    return_audio : bool
        Also return ``{(source id, target): converted audio}``.

    Returns
    -------
    rows : list of dict
        ``{"source_id", "source", "target", "kind", **METRICS}`` per conversion.
    """
    if not sources or not targets:
        raise ParameterError(f"need sources and targets, got {len(sources)} and {len(targets)}")
    for s in sources:
        missing = [t for t, clips in targets.items() if s.sentence not in clips]
        if missing:
            raise ParameterError(f"targets {missing} have no recording of sentence {s.sentence!r} ({s.id})")
    judge = transcriber or metrics.Transcriber()
    embeddings: dict = {}
    analyses: dict = {}     # each recording is embedded and WORLD-analysed once, however many pairs it is in

    def embed(key, audio):
        if key not in embeddings:
            embeddings[key] = metrics.speaker_embedding(audio, sr=sr)
        return embeddings[key]

    def analyse(key, audio):
        if key not in analyses:
            analyses[key] = metrics.cepstral_analysis(audio, sr=sr)
        return analyses[key]

    work = [(s, t) for s in sources for t in targets]
    if progress:
        from tqdm.auto import tqdm

        work = tqdm(work, desc="converting and scoring")
    rows, clips, source_transcripts, transcripts = [], {}, {}, []
    try:
        for s, target in work:
            if s.id not in source_transcripts:   # the recognizer's processes decode while the next clip is made
                source_transcripts[s.id] = metrics.transcribe_later(judge, vocoder(s.mel), sr=sr)
            audio = vocoder(convert(s.mel, target))
            transcripts.append((s, metrics.transcribe_later(judge, audio, sr=sr)))
            reference = targets[target][s.sentence]
            try:
                e = metrics.speaker_embedding(audio, sr=sr)
                sim_target = metrics.cosine_similarity(e, embed((target, s.sentence), reference))
                sim_source = metrics.cosine_similarity(e, embed(("source", s.id), s.audio))
            except ParameterError:        # too little speech to embed: no voice, and not the target's
                sim_target = sim_source = float("nan")
            rows.append({
                "source_id": s.id, "source": s.speaker, "target": target,
                "kind": "reconstruction" if target == s.speaker else "conversion",
                "sim_target": sim_target, "sim_source": sim_source,
                "closer_to_target": float(sim_target > sim_source),
                "wer": None, "source_wer": None,
                "mcd_target": metrics.cepstral_distortion(analyse((target, s.sentence), reference),
                                                          metrics.cepstral_analysis(audio, sr=sr)),
                "mcd_source_target": metrics.cepstral_distortion(analyse((target, s.sentence), reference),
                                                                 analyse(("source", s.id), s.audio)),
            })
            if return_audio:
                clips[(s.id, target)] = audio
        source_wer = {s.id: metrics.word_error_rate([s.text], [source_transcripts[s.id].result()])
                      for s in sources}
        for row, (s, transcript) in zip(rows, transcripts):
            row["wer"] = metrics.word_error_rate([s.text], [transcript.result()])
            row["source_wer"] = source_wer[s.id]
    finally:
        if transcriber is None:
            judge.close()
    return (rows, clips) if return_audio else rows


def pair_table(rows: Sequence[Mapping], *, kind: str | None = "conversion") -> list[dict]:
    """Mean figures per ordered (source, target) pair, then an ``average`` row over the pairs.

    ``kind`` keeps only ``"conversion"`` (default) or ``"reconstruction"`` rows; ``None`` keeps both.
    """
    rows = [r for r in rows if kind is None or r["kind"] == kind]
    if not rows:
        return []
    table = mean_by(rows, by=("source", "target"), metrics=METRICS)
    average = {"source": "average", "target": "", "n": sum(r["n"] for r in table)}
    average |= {m: round(float(np.nanmean([r[m] for r in table])), 4) for m in METRICS}
    return [*table, average]


def pair_matrix(rows: Sequence[Mapping], metric: str, *, sources: Sequence[str],
                targets: Sequence[str]) -> np.ndarray:
    """``[len(sources), len(targets)]`` mean of ``metric`` per (source, target); NaN where none."""
    if metric not in METRICS:
        raise ParameterError(f"metric={metric!r} is not one of {METRICS}")
    out = np.full((len(sources), len(targets)), np.nan)
    for i, s in enumerate(sources):
        for j, t in enumerate(targets):
            values = [r[metric] for r in rows if r["source"] == s and r["target"] == t]
            if values:
                out[i, j] = float(np.mean(values))
    return out


def frame_labels(codes: np.ndarray, downsample: int, n_frames: int) -> np.ndarray:
    """Codes at the frame rate: each code repeated ``downsample`` times, cut to ``n_frames``.

    >>> frame_labels(np.array([3, 5]), 2, 3).tolist()
    [3, 3, 5]
    """
    codes = np.asarray(codes).reshape(-1)
    if len(codes) * downsample < n_frames:
        raise ParameterError(f"{len(codes)} codes x {downsample} frames cannot cover {n_frames} frames")
    return np.repeat(codes, downsample)[:n_frames]


def codes_vs_phonemes(codes: np.ndarray, phonemes: np.ndarray) -> dict[str, float]:
    """How much frame-level ``codes`` tell about frame-level ``phonemes`` (two label arrays).

    - ``nmi``: mutual information over the mean of the two entropies (0: independent,
      1: one determines the other);
    - ``code_purity``: the share of frames whose phoneme is their code's most common
      one (1 when every code stands for one phoneme);
    - ``phoneme_purity``: the same the other way round (1 when each phoneme has one code);
    - ``codes_used``, ``phonemes``: distinct labels of each.

    Example
    -------
    >>> r = codes_vs_phonemes(np.array([0, 0, 1, 1]), np.array([7, 7, 9, 9]))
    >>> r["nmi"], r["code_purity"], r["phoneme_purity"]
    (1.0, 1.0, 1.0)
    """
    codes, phonemes = np.asarray(codes).reshape(-1), np.asarray(phonemes).reshape(-1)
    if codes.shape != phonemes.shape or codes.size == 0:
        raise ParameterError(f"codes {codes.shape} and phonemes {phonemes.shape} must be equal, non-empty label arrays")
    _, c = np.unique(codes, return_inverse=True)
    _, p = np.unique(phonemes, return_inverse=True)
    joint = np.zeros((c.max() + 1, p.max() + 1))
    np.add.at(joint, (c, p), 1.0)
    joint /= joint.sum()
    pc, pp = joint.sum(1), joint.sum(0)

    def entropy(q):
        q = q[q > 0]
        return float(-(q * np.log(q)).sum())

    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / np.outer(pc, pp)[nz])).sum())
    h = (entropy(pc) + entropy(pp)) / 2
    nmi = mi / h if h > 0 else 1.0
    return {"nmi": round(min(max(nmi, 0.0), 1.0), 4), "code_purity": round(float(joint.max(1).sum()), 4),
            "phoneme_purity": round(float(joint.max(0).sum()), 4), "codes_used": int(len(pc)),
            "phonemes": int(len(pp))}
