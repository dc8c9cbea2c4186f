"""The pocketsphinx baseline of notebook 06: open vocabulary, or held to the command grammar.

:func:`transcribe_sphinx` decodes a clip with pocketsphinx's default US-English model
(it ships in the wheel): with its general language model, or, given a JSGF grammar
(:func:`voicelab.data.commands.to_jsgf`), searching only the sentences the grammar
accepts (:class:`voicelab.evaluation.metrics.Transcriber` with ``jsgf=``, whose pool of
recognizer processes also decodes :func:`evaluate_sphinx`'s clips). One transcriber per
grammar is kept per process.

Introduced in ``notebooks/06_spoken_command_data.ipynb``.

Example
-------
>>> from voicelab.data.commands import default_grammar, to_jsgf
>>> from voicelab.data.speakers import speak
>>> y = speak("slt", "turn on the lights in the kitchen")          # doctest: +SKIP
>>> transcribe_sphinx(y, sr=16000, jsgf=to_jsgf(default_grammar()))  # doctest: +SKIP
'turn on the lights in the kitchen'
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from voicelab.errors import ParameterError
from voicelab.evaluation.metrics import Transcriber, jsgf_words, word_error_rate

__all__ = ["evaluate_sphinx", "jsgf_words", "transcribe_sphinx"]


@functools.lru_cache(maxsize=4)
def _transcriber(jsgf: str | None) -> Transcriber:
    return Transcriber(workers=1, jsgf=jsgf)


def transcribe_sphinx(audio: np.ndarray, *, sr: int, jsgf: str | None = None) -> str:
    """pocketsphinx's transcript of ``audio`` (float32 mono, resampled to 16 kHz).

    Parameters
    ----------
    audio : np.ndarray
        ``[samples]`` in [-1, 1].
    sr : int
        Its sample rate in Hz.
    jsgf : str, optional
        A JSGF grammar whose public rule the transcript must match; ``None`` decodes with
        the default language model (any English words).

    Returns
    -------
    str
        Lower-case words; ``""`` when nothing was recognised.
    """
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive sample rate in Hz")
    return " ".join(_transcriber(jsgf)(audio, sr=int(sr)).split())


def evaluate_sphinx(clips, *, root, jsgf: str | None = None, grammar=None, workers: int = 1) -> dict:
    """Score pocketsphinx on ``clips`` (manifest rows of a command dataset) as the recogniser is scored.

    The transcript is pocketsphinx's (open vocabulary, or held to ``jsgf``); the intent and
    the slots are what the grammar's parser (:func:`voicelab.data.commands.parse`) reads in
    it, since pocketsphinx has no intent of its own. Returns ``{"intent_accuracy",
    "slot_f1", "wer", "n", "texts"}``; ``workers`` recognizer processes decode while the
    next clips are read.
    """
    from voicelab.data.commands import default_grammar, parse
    from voicelab.dsp.audio import load

    grammar = grammar or default_grammar()
    clips = list(clips)
    if not clips:
        raise ParameterError("no clips to score")
    with Transcriber(workers=workers, jsgf=jsgf) as judge:
        pending = [judge.submit(load(Path(root) / u.path, sr=16000), sr=16000) for u in clips]
        texts = [" ".join(p.result().split()) for p in pending]
    right = hits = guessed = wanted = 0
    for u, text in zip(clips, texts):
        intent, slots = parse(text, grammar) if text else (None, {})
        right += intent == u.meta["intent"]
        guess, truth = set(slots.items()), set(u.meta["slots"].items())
        hits, guessed, wanted = hits + len(guess & truth), guessed + len(guess), wanted + len(truth)
    return {"intent_accuracy": right / len(clips), "slot_f1": 2 * hits / (guessed + wanted) if guessed + wanted else 1.0,
            "wer": word_error_rate([u.text for u in clips], texts), "n": len(clips), "texts": texts}
