"""Objective measures of synthetic speech, each from a well-kept library.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb`` (MCD, WER, speaker similarity) and
``notebooks/03_melgan_vocoder.ipynb`` (PESQ, STOI).

- :func:`mel_cepstral_distortion`: spectral distance in dB after DTW alignment, on
  WORLD mel-cepstra (``pyworld``); lower is better, ~4-6 dB is typical of good TTS.
- :class:`Transcriber` + :func:`word_error_rate`: intelligibility judged by the
  ``pocketsphinx`` English recognizer (it ships its model) and scored with ``jiwer``.
  Its WER on synthetic speech is only meaningful next to its WER on the real
  recordings of the same sentences: report the ratio.
- :func:`speaker_similarity`: cosine similarity of ``resemblyzer`` speaker embeddings
  (it ships its weights; needs ``torch``).
- :func:`pesq_wb`, :func:`stoi`: perceptual quality and intelligibility of a signal
  against its time-aligned reference (``pesq``, ``pystoi``).
"""

from __future__ import annotations

import functools
import re

import numpy as np

from voicelab.errors import ParameterError

_JUDGE_SR = 16000


def _check_audio(y: np.ndarray, name: str) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"{name} must be 1-D mono audio, got shape {y.shape}")
    if y.size == 0:
        raise ParameterError(f"{name} is empty")
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{name} contains NaN or infinite samples")
    return y


def _to_judge_rate(y: np.ndarray, sr: int) -> np.ndarray:
    if sr == _JUDGE_SR:
        return y
    import soxr

    return soxr.resample(y, sr, _JUDGE_SR).astype(np.float32)


def mel_cepstra(y: np.ndarray, *, sr: int, n_mcep: int = 25, frame_period: float = 5.0) -> np.ndarray:
    """WORLD mel-cepstra ``[frames, n_mcep]`` of ``y`` (c0, the energy term, included)."""
    import pyworld

    x = _check_audio(y, "y").astype(np.float64)
    f0, times = pyworld.dio(x, sr, frame_period=frame_period)
    f0 = pyworld.stonemask(x, f0, times, sr)
    envelope = pyworld.cheaptrick(x, f0, times, sr)
    return pyworld.code_spectral_envelope(envelope, sr, n_mcep)


def speech_frames(y: np.ndarray, *, sr: int, frame_period: float = 5.0, top_db: float = 40.0) -> np.ndarray:
    """Boolean mask of the WORLD frames (``frame_period`` ms apart) that hold speech.

    A frame is speech when its RMS level is within ``top_db`` dB of the loudest frame
    (librosa's ``feature.rms`` on windows of twice the frame period).

    Example
    -------
    >>> y = np.r_[np.zeros(1600), np.sin(np.arange(3200) * 0.3), np.zeros(1600)].astype("float32")
    >>> mask = speech_frames(y, sr=16000)
    >>> bool(mask[:15].any()), bool(mask[45:55].all()), bool(mask[-15:].any())
    (False, True, False)
    """
    import librosa

    hop = int(round(sr * frame_period / 1000))
    n_frames = len(y) // hop + 1                     # pyworld.dio's frame count
    rms = librosa.feature.rms(y=np.asarray(y, np.float32), frame_length=2 * hop, hop_length=hop, center=True)[0]
    rms = np.pad(rms, (0, max(n_frames - len(rms), 0)), mode="edge")[:n_frames]
    db = librosa.amplitude_to_db(rms, ref=np.max, top_db=None)
    return db > -top_db


def cepstral_analysis(y: np.ndarray, *, sr: int, n_mcep: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`mel_cepstral_distortion` needs of one signal: its mel-cepstra without c0
    ``[frames, n_mcep - 1]`` and the mask of its speech frames (:func:`speech_frames`).

    The WORLD analysis is the costly part of the MCD: a signal compared with several
    others (a recording against each conversion of it) is analysed once, and the pairs
    are scored with :func:`cepstral_distortion`.
    """
    return mel_cepstra(y, sr=sr, n_mcep=n_mcep)[:, 1:], speech_frames(y, sr=sr)


def cepstral_distortion(reference: tuple[np.ndarray, np.ndarray], estimate: tuple[np.ndarray, np.ndarray]) -> float:
    """Mel cepstral distortion in dB between two :func:`cepstral_analysis` results (see :func:`mel_cepstral_distortion`)."""
    import librosa

    (ref, ref_speech), (est, est_speech) = reference, estimate
    if ref_speech.any() and est_speech.any():    # a silent signal keeps all its frames
        ref, est = ref[ref_speech[: len(ref)]], est[est_speech[: len(est)]]
    _, path = librosa.sequence.dtw(X=ref.T, Y=est.T, metric="euclidean")
    diff = ref[path[:, 0]] - est[path[:, 1]]
    per_frame = np.sqrt(2.0 * np.sum(diff**2, axis=1))
    return round(float(10.0 / np.log(10.0) * per_frame.mean()), 6)


def mel_cepstral_distortion(reference: np.ndarray, estimate: np.ndarray, *, sr: int, n_mcep: int = 25) -> float:
    """Mel cepstral distortion in dB between two renditions of one sentence, over speech only.

    Both signals are analysed with WORLD; silent frames (more than 40 dB below the
    signal's loudest, :func:`speech_frames`) are dropped from each, so pauses of other
    lengths (a TTS's, a conversion's) are not scored as spectral error; the remaining
    mel-cepstra (without c0, so loudness does not count) are aligned by dynamic time
    warping, and

    ``MCD = 10 / ln(10) * sqrt(2 * sum_d (c_d - c'_d)^2)``, averaged over aligned frames.

    Example
    -------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> y = np.sin(2 * np.pi * 150 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    >>> mel_cepstral_distortion(y, y, sr=16000)
    0.0
    """
    return cepstral_distortion(cepstral_analysis(reference, sr=sr, n_mcep=n_mcep),
                               cepstral_analysis(estimate, sr=sr, n_mcep=n_mcep))


def normalize_transcript(text: str) -> str:
    """Lower-case words only, numbers spelled out: the form the recognizer writes."""
    from voicelab.text import normalize_text

    if not text.strip():  # a recognizer that heard nothing
        return ""
    words = re.sub(r"[^a-z' ]+", " ", normalize_text(text).lower())
    return " ".join(w.strip("'") for w in words.split() if w.strip("'"))


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Word error rate of ``hypotheses`` against ``references`` over a whole set.

    Both sides are normalised by :func:`normalize_transcript` first.

    Example
    -------
    >>> word_error_rate(["Call Anna at 5."], ["call anna at five"])
    0.0
    >>> word_error_rate(["set a timer"], ["set the timer"])
    0.3333333333333333
    """
    import jiwer

    if len(references) != len(hypotheses):
        raise ParameterError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not references:
        raise ParameterError("word_error_rate needs at least one sentence")
    refs = [normalize_transcript(r) for r in references]
    hyps = [normalize_transcript(h) for h in hypotheses]
    if not all(refs):
        raise ParameterError(f"references {[i for i, r in enumerate(refs) if not r]} have no words")
    return float(jiwer.wer(refs, hyps))


class Transcriber:
    """The offline English recognizer that judges intelligibility (pocketsphinx).

    Each call starts from the same state: pocketsphinx's front end otherwise carries
    its noise and level estimates from one utterance to the next, so a clip's
    transcript would depend on the clips decoded before it (measured: 1 of 8 test
    sentences changed when the order was reversed).

    Example
    -------
    >>> judge = Transcriber()          # doctest: +SKIP
    >>> judge(audio, sr=16000)         # doctest: +SKIP
    'please call stella'
    """

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoder = Decoder(samprate=_JUDGE_SR, loglevel="FATAL")

    def __call__(self, y: np.ndarray, *, sr: int) -> str:
        y = _to_judge_rate(_check_audio(y, "y"), sr)
        pcm = (np.clip(y, -1.0, 1.0) * 32767).astype(np.int16)
        self._decoder.reinit_feat()   # forget the previous utterances' noise and level estimates
        self._decoder.start_utt()
        self._decoder.process_raw(pcm.tobytes(), full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


@functools.lru_cache(maxsize=1)
def _voice_encoder():
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device="cpu", verbose=False)


def speaker_embedding(y: np.ndarray, *, sr: int) -> np.ndarray:
    """The 256-d resemblyzer speaker embedding (unit length) of an utterance."""
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(_check_audio(y, "y"), source_sr=sr)
    if wav.size < _JUDGE_SR // 4:
        raise ParameterError(f"too little speech for a speaker embedding: {wav.size / _JUDGE_SR:.2f} s after trimming")
    return _voice_encoder().embed_utterance(wav)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the angle between two vectors (e.g. speaker embeddings), in ``[-1, 1]``."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def speaker_similarity(a: np.ndarray, b: np.ndarray, *, sr: int) -> float:
    """Cosine similarity of two utterances' speaker embeddings, in ``[-1, 1]``."""
    return cosine_similarity(speaker_embedding(a, sr=sr), speaker_embedding(b, sr=sr))


def _aligned_pair(reference: np.ndarray, estimate: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    ref = _to_judge_rate(_check_audio(reference, "reference"), sr)
    est = _to_judge_rate(_check_audio(estimate, "estimate"), sr)
    n = min(ref.size, est.size)
    if max(ref.size, est.size) - n > 0.05 * max(ref.size, est.size):
        raise ParameterError(
            f"reference ({ref.size} samples) and estimate ({est.size}) differ in length by more than 5 %: "
            "PESQ and STOI need time-aligned signals"
        )
    return ref[:n], est[:n]


def pesq_wb(reference: np.ndarray, estimate: np.ndarray, *, sr: int) -> float:
    """Wide-band PESQ (ITU-T P.862.2) MOS-LQO, about 1.0 (bad) to 4.64 (transparent)."""
    from pesq import pesq

    ref, est = _aligned_pair(reference, estimate, sr)
    return float(pesq(_JUDGE_SR, ref, est, "wb"))


def stoi(reference: np.ndarray, estimate: np.ndarray, *, sr: int) -> float:
    """Short-time objective intelligibility, 0 to 1 (higher is better)."""
    from pystoi import stoi as _stoi

    ref, est = _aligned_pair(reference, estimate, sr)
    return float(_stoi(ref, est, _JUDGE_SR, extended=False))
