"""The pocketsphinx baseline of notebook 06: open vocabulary, or held to the command grammar.

:func:`transcribe_sphinx` decodes a clip with pocketsphinx's default US-English model
(it ships in the wheel): with its general language model, or, given a JSGF grammar
(:func:`voicelab.data.commands.to_jsgf`), searching only the sentences the grammar
accepts. A grammar word missing from pocketsphinx's dictionary is added with the kit's
pronunciation (:func:`voicelab.text.to_phonemes`, stress removed). One decoder per
grammar is built per process and kept.

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
import re

import numpy as np

from voicelab.errors import ParameterError
from voicelab.evaluation.metrics import Transcriber, _decode
from voicelab.text import PUNCTUATION, WORD_BOUNDARY, to_phonemes

SEARCH = "commands"


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


def _pronunciation(word: str) -> str:
    phones = [p.rstrip("012") for p in to_phonemes(word)[0] if p not in PUNCTUATION and p != WORD_BOUNDARY]
    return " ".join(phones)


@functools.lru_cache(maxsize=4)
def _decoder(jsgf: str | None):
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000, loglevel="FATAL")
    if jsgf is not None:
        for word in jsgf_words(jsgf):
            if decoder.lookup_word(word) is None:
                decoder.add_word(word, _pronunciation(word), True)
        decoder.add_jsgf_string(SEARCH, jsgf)
        decoder.activate_search(SEARCH)
    return decoder


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
    pcm = Transcriber._pcm(audio, int(sr))
    try:
        decoder = _decoder(jsgf)
    except RuntimeError as e:
        raise ParameterError(f"pocketsphinx rejects the grammar ({e}): {jsgf[:200]!r}") from e
    return " ".join(_decode(decoder, pcm).split())


def _transcribe_files(paths: list[str], jsgf: str | None) -> list[str]:
    from voicelab.dsp.audio import load

    return [transcribe_sphinx(load(p, sr=16000), sr=16000, jsgf=jsgf) for p in paths]


def evaluate_sphinx(clips, *, root, jsgf: str | None = None, grammar=None, workers: int = 1) -> dict:
    """Score pocketsphinx on ``clips`` (manifest rows of a command dataset) as the recogniser is scored.

    The transcript is pocketsphinx's (open vocabulary, or held to ``jsgf``); the intent and
    the slots are what the grammar's parser (:func:`voicelab.data.commands.parse`) reads in
    it, since pocketsphinx has no intent of its own. Returns ``{"intent_accuracy",
    "slot_f1", "wer", "n", "texts"}``; ``workers`` processes decode in parallel.
    """
    from pathlib import Path

    from joblib import Parallel, delayed

    from voicelab.data.commands import default_grammar, parse
    from voicelab.evaluation.metrics import word_error_rate

    grammar = grammar or default_grammar()
    clips = list(clips)
    if not clips:
        raise ParameterError("no clips to score")
    paths = [str(Path(root) / u.path) for u in clips]
    chunks = [paths[i::workers] for i in range(workers)]
    done = Parallel(n_jobs=workers)(delayed(_transcribe_files)(chunk, jsgf) for chunk in chunks)
    texts = [None] * len(paths)
    for i, chunk in enumerate(done):
        texts[i::workers] = chunk
    right = hits = guessed = wanted = 0
    for u, text in zip(clips, texts):
        intent, slots = parse(text, grammar) if text else (None, {})
        right += intent == u.meta["intent"]
        guess, truth = set(slots.items()), set(u.meta["slots"].items())
        hits, guessed, wanted = hits + len(guess & truth), guessed + len(guess), wanted + len(truth)
    return {"intent_accuracy": right / len(clips), "slot_f1": 2 * hits / (guessed + wanted) if guessed + wanted else 1.0,
            "wer": word_error_rate([u.text for u in clips], texts), "n": len(clips), "texts": texts}
