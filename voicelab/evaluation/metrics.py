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

import concurrent.futures
import functools
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import weakref
from pathlib import Path

import numpy as np

from voicelab.errors import ParameterError
from voicelab.profiles import default_workers

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


def jsgf_words(jsgf: str) -> list[str]:
    """The words of a JSGF grammar's rules (rule names, header and operators left out).

    >>> jsgf_words("#JSGF V1.0;\\ngrammar g;\\npublic <a> = call <b> | ring <b>;\\n<b> = anna;")
    ['anna', 'call', 'ring']
    """
    words = set()
    for statement in re.sub(r"(?m)^\s*#.*$", "", jsgf).split(";"):
        if "=" not in statement:   # grammar name, imports
            continue
        body = re.sub(r"<[^>]*>|/[^/]*/|\{[^}]*\}", " ", statement.split("=", 1)[1])
        words.update(w for w in re.split(r"[\s|()\[\]*+]+", body) if w)
    return sorted(words)


def _new_decoder(jsgf: str | None = None):
    """pocketsphinx's US-English decoder; with ``jsgf``, held to that grammar's sentences.

    A grammar word missing from pocketsphinx's dictionary is added with the kit's
    pronunciation (:func:`voicelab.text.to_phonemes`, stress removed).
    """
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=_JUDGE_SR, loglevel="FATAL")
    if jsgf:
        from voicelab.text import PUNCTUATION, WORD_BOUNDARY, to_phonemes

        for word in jsgf_words(jsgf):
            if decoder.lookup_word(word) is None:
                phones = [p.rstrip("012") for p in to_phonemes(word)[0] if p not in PUNCTUATION and p != WORD_BOUNDARY]
                decoder.add_word(word, " ".join(phones), True)
        try:
            decoder.add_jsgf_string("grammar", jsgf)
        except (RuntimeError, ValueError) as e:
            raise ParameterError(f"pocketsphinx rejects the grammar ({e}): {jsgf[:200]!r}") from e
        decoder.activate_search("grammar")
    return decoder


def _decode(decoder, pcm: bytes) -> str:
    decoder.reinit_feat()   # forget the previous utterances' noise and level estimates
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


def _frame(data: bytes) -> bytes:
    """``data`` as one message to or from a :class:`Transcriber` worker: a 4-byte little-endian length, then it."""
    return len(data).to_bytes(4, "little") + data


def _serve() -> None:
    """A :class:`Transcriber` worker process: read clips from stdin, write their transcripts to stdout.

    Each message is a 4-byte little-endian length and its bytes: the first is the JSGF
    grammar to hold the decoder to (empty: none), then 16-bit PCM at 16 kHz in, UTF-8
    text out. Stops at the end of its input.
    """
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    decoder = _new_decoder(stdin.read(int.from_bytes(stdin.read(4), "little")).decode() or None)
    while header := stdin.read(4):
        pcm = stdin.read(int.from_bytes(header, "little"))
        text = _decode(decoder, pcm).encode()
        stdout.write(_frame(text))
        stdout.flush()


class _WorkerPool:
    """``workers`` recognizer processes (:func:`_serve`), each fed by a thread from one queue of clips."""

    def __init__(self, workers: int, jsgf: str | None = None) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self._queue: queue.Queue = queue.Queue()
        # each process's messages go to a file, which a full pipe could not block, read if it dies
        self._logs = [tempfile.TemporaryFile() for _ in range(workers)]
        self._processes = [
            subprocess.Popen([sys.executable, "-c", "from voicelab.evaluation.metrics import _serve; _serve()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env)
            for log in self._logs]
        for p in self._processes:
            p.stdin.write(_frame((jsgf or "").encode()))
        self._threads = [threading.Thread(target=self._feed, args=(p, log), daemon=True)
                         for p, log in zip(self._processes, self._logs)]
        for t in self._threads:
            t.start()

    def submit(self, pcm: bytes) -> concurrent.futures.Future:
        future = concurrent.futures.Future()
        self._queue.put((pcm, future))
        return future

    def _feed(self, process: subprocess.Popen, log) -> None:
        while (item := self._queue.get()) is not None:
            pcm, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                try:
                    process.stdin.write(_frame(pcm))
                    process.stdin.flush()
                    header = process.stdout.read(4)
                except OSError:            # a broken pipe: the process has ended
                    header = b""
                if len(header) < 4:
                    process.wait()
                    log.seek(0)
                    raise RuntimeError(f"the recognizer process ended (exit status {process.returncode}): "
                                       + log.read().decode(errors="replace")[-2000:])
                future.set_result(process.stdout.read(int.from_bytes(header, "little")).decode())
            except Exception as error:  # noqa: BLE001 - handed to whoever waits for this clip
                future.set_exception(error)

    def close(self) -> None:
        """Cancel the clips not yet started (an interrupted evaluation does not wait for them), stop the processes."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].cancel()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join()
        for p in self._processes:
            try:
                p.stdin.close()
            except BrokenPipeError:    # the process had ended
                pass
            p.wait()
            p.stdout.close()
        for log in self._logs:
            log.close()


class Transcriber:
    """The offline English recognizer that judges intelligibility (pocketsphinx).

    Each call starts from the same state: pocketsphinx's front end otherwise carries
    its noise and level estimates from one utterance to the next, so a clip's
    transcript would depend on the clips decoded before it (measured: 1 of 8 test
    sentences changed when the order was reversed). So a clip's transcript is the same
    whichever process decodes it, and in whatever order.

    Decoding is the slow part of an evaluation (about 0.5 s a clip of clear speech on
    one core, 2 s of noise) and pocketsphinx holds Python's lock, so threads do not
    help. :meth:`submit` hands a clip to a pool of ``workers`` processes and returns at
    once, while the caller makes the next clip; ``workers=1`` decodes in this process.

    Parameters
    ----------
    workers : int, optional
        Decoding processes for :meth:`submit` (default: :func:`default_workers`, one
        per core). The pool starts at the first :meth:`submit`; :meth:`close` (or
        ``with``) stops it.
    jsgf : str, optional
        A JSGF grammar (:func:`voicelab.data.commands.to_jsgf`): the transcript is one of
        its sentences. ``None``: pocketsphinx's general language model, any English words.

    Example
    -------
    >>> judge = Transcriber()          # doctest: +SKIP
    >>> judge(audio, sr=16000)         # doctest: +SKIP
    'please call stella'
    >>> with Transcriber(workers=4) as judge:                          # doctest: +SKIP
    ...     pending = [judge.submit(clip, sr=16000) for clip in clips]
    ...     texts = [p.result() for p in pending]
    """

    def __init__(self, workers: int | None = None, *, jsgf: str | None = None) -> None:
        if workers is None:
            workers = default_workers()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ParameterError(f"workers={workers!r} must be a whole number of processes, at least 1")
        if jsgf is not None and not (isinstance(jsgf, str) and jsgf.strip()):
            raise ParameterError(f"jsgf must be a JSGF grammar's text, got {jsgf!r}")
        self.workers, self.jsgf = workers, jsgf
        # a grammar is checked here, where its error is readable, not in a worker process
        self._decoder = _new_decoder(jsgf) if jsgf else None
        self._pool = None

    @staticmethod
    def _pcm(y: np.ndarray, sr: int) -> bytes:
        y = _to_judge_rate(_check_audio(y, "y"), sr)
        return (np.clip(y, -1.0, 1.0) * 32767).astype(np.int16).tobytes()

    def __call__(self, y: np.ndarray, *, sr: int) -> str:
        """The transcript of ``y``, decoded in this process."""
        pcm = self._pcm(y, sr)
        if self._decoder is None:
            self._decoder = _new_decoder(self.jsgf)
        return _decode(self._decoder, pcm)

    def submit(self, y: np.ndarray, *, sr: int) -> concurrent.futures.Future:
        """Start decoding ``y``; the returned future's ``result()`` is its transcript.

        Bad audio is an error here, not in ``result()``. With ``workers=1`` the clip is
        decoded before this returns.
        """
        if self.workers == 1:
            return _done(self(y, sr=sr))
        pcm = self._pcm(y, sr)
        if self._pool is None:
            # fresh interpreters that import only this module and pocketsphinx: never a fork of a
            # process whose TensorFlow or PyTorch threads are running, nor a re-run of the caller's script
            self._pool = _WorkerPool(self.workers, self.jsgf)
            self._finalizer = weakref.finalize(self, self._pool.close)   # a transcriber dropped unclosed
        return self._pool.submit(pcm)

    def close(self) -> None:
        """Stop the worker processes (a later :meth:`submit` starts new ones)."""
        if self._pool is not None:
            self._finalizer()          # closes the pool, once
            self._pool = None

    def __enter__(self) -> Transcriber:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _done(value) -> concurrent.futures.Future:
    future = concurrent.futures.Future()
    future.set_result(value)
    return future


def transcribe_later(transcriber, y: np.ndarray, *, sr: int) -> concurrent.futures.Future:
    """``transcriber.submit(y, sr=sr)`` where it has one (a :class:`Transcriber`), else its transcript now, as a
    finished future: evaluations take any ``(audio, sr=) -> text`` callable as the judge.

    >>> transcribe_later(lambda y, sr: "hello", np.zeros(160), sr=16000).result()
    'hello'
    """
    submit = getattr(transcriber, "submit", None)
    return submit(y, sr=sr) if submit is not None else _done(transcriber(y, sr=sr))


@functools.lru_cache(maxsize=1)
def _voice_encoder():
    import torch
    from resemblyzer import VoiceEncoder

    # on a GPU machine the embeddings of a full corpus (tens of thousands of clips) run there
    return VoiceEncoder(device="cuda" if torch.cuda.is_available() else "cpu", verbose=False)


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
