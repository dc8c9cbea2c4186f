"""Decoding held to a grammar: the sentence of the grammar that a CTC output makes likeliest.

Introduced in ``notebooks/06_spoken_command_data.ipynb``. Best-path decoding
(:func:`voicelab.models.recogniser.greedy_decode`) may write any string: "wether in
paris". pocketsphinx given a JSGF grammar can only say the grammar's sentences, and its
word error rate on grammar sentences is then the error of *choosing* a sentence, not of
spelling one. To compare like with like, the recogniser can be held to the same grammar:

1. **The candidates**: every sentence the grammar can make
   (:meth:`voicelab.data.commands.CommandGrammar.sentences`, 2,231 for the default
   grammar, held-out phrasings and values included, as in pocketsphinx's JSGF).
2. **A shortlist**: the ``shortlist`` sentences nearest the best-path transcript in
   edit distance (rapidfuzz), so that only a few need the forward algorithm.
3. **The score**: each candidate's CTC log-likelihood ``log p(sentence | audio)``, the sum
   over every frame alignment of the sentence (Graves et al., 2006), by the forward
   algorithm of :func:`ctc_log_likelihood`, written here in NumPy for every candidate at
   once.

The shortlist is an approximation: where the best path is far from the spoken sentence,
the spoken sentence may not be on it. ``shortlist=None`` scores every sentence (about 0.2 s
a clip for the default grammar).

Example
-------
>>> from voicelab.models.recogniser import ALPHABET, encode_text
>>> blank = len(ALPHABET)
>>> path = [blank if ch == "-" else int(encode_text(ch)[0]) for ch in "call-l  an-naa"]   # one frame each
>>> log_probs = np.log(np.full((len(path), blank + 1), 0.01) + 0.9 * np.eye(blank + 1)[path])
>>> decoder = GrammarDecoder(["call anna", "call hanna", "play jazz"])
>>> decoder.decode(log_probs)[0]
'call anna'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voicelab.errors import ParameterError
from voicelab.models.recogniser import ALPHABET, encode_text, greedy_decode


def ctc_log_likelihood(log_probs, labels, lengths, blank: int) -> np.ndarray:
    """``log p(labels[k] | log_probs)`` under CTC for each of ``K`` label sequences, ``[K]``.

    ``log_probs`` ``[T, C]`` (log-softmax of one clip's real frames), ``labels`` ``[K, L]``
    int (right padded), ``lengths`` ``[K]``. The forward algorithm over the extended
    sequence ``- l1 - l2 - ... - lL -`` (``-`` the blank): a path stays, moves one state,
    or skips a blank between two different labels. ``-inf`` where ``T`` frames are too
    few for the labels.

    >>> lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))       # classes: "a", blank
    >>> float(np.exp(ctc_log_likelihood(lp, np.array([[0]]), np.array([1]), blank=1))[0]).__round__(2)
    0.84
    """
    log_probs = np.asarray(log_probs, "float64")
    labels, lengths = np.asarray(labels, "int64"), np.asarray(lengths, "int64")
    if log_probs.ndim != 2 or labels.ndim != 2 or lengths.shape != labels.shape[:1]:
        raise ParameterError(f"need log_probs [T, C], labels [K, L] and lengths [K], got "
                             f"{log_probs.shape}, {labels.shape}, {lengths.shape}")
    n, width = labels.shape
    extended = np.full((n, 2 * width + 1), blank, "int64")
    extended[:, 1::2] = labels
    states = extended.shape[1]
    skip = np.zeros((n, states), bool)  # a label may be reached from two states back
    skip[:, 3::2] = labels[:, 1:] != labels[:, :-1]
    alpha = np.full((n, states), -np.inf)
    alpha[:, 0] = log_probs[0, blank]
    if width:
        alpha[:, 1] = np.where(lengths > 0, log_probs[0, extended[:, 1]], -np.inf)
    for t in range(1, len(log_probs)):
        one = np.concatenate([np.full((n, 1), -np.inf), alpha[:, :-1]], axis=1)
        two = np.concatenate([np.full((n, 2), -np.inf), alpha[:, :-2]], axis=1)
        two = np.where(skip, two, -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, one), two) + log_probs[t, extended]
    rows = np.arange(n)
    last = alpha[rows, 2 * lengths]
    before = np.where(lengths > 0, alpha[rows, np.maximum(2 * lengths - 1, 0)], -np.inf)
    return np.logaddexp(last, before)


class GrammarDecoder:
    """Picks, for a clip's CTC output, the likeliest of a fixed list of sentences.

    Parameters
    ----------
    sentences : sequence of str or of :class:`~voicelab.data.commands.Command`
        The sentences the decoder may answer (commands keep their intent and slots).
    alphabet : str
        The recogniser's characters; CTC's blank is class ``len(alphabet)``.
    shortlist : int or None
        Score only this many sentences, the nearest the best-path transcript in edit
        distance; ``None``: all of them.
    """

    def __init__(self, sentences: Sequence, alphabet: str = ALPHABET, *, shortlist: int | None = 64):
        if shortlist is not None and (isinstance(shortlist, bool) or not isinstance(shortlist, int) or shortlist < 1):
            raise ParameterError(f"shortlist={shortlist!r} must be a positive integer or None")
        self.items = list(sentences)
        self.texts = [getattr(s, "text", s) for s in self.items]
        if not self.texts or not all(isinstance(t, str) and t.strip() for t in self.texts):
            raise ParameterError("a GrammarDecoder needs at least one sentence, each a non-empty string")
        self.alphabet, self.shortlist = alphabet, shortlist
        encoded = [encode_text(t, alphabet) for t in self.texts]
        self.lengths = np.array([len(e) for e in encoded], "int64")
        self.labels = np.zeros((len(encoded), self.lengths.max()), "int64")
        for i, e in enumerate(encoded):
            self.labels[i, : len(e)] = e

    @classmethod
    def from_grammar(cls, grammar=None, *, phrasings: str = "all", values: str = "all", alphabet: str = ALPHABET,
                     shortlist: int | None = 64) -> GrammarDecoder:
        """Every sentence of ``grammar`` (default: :func:`~voicelab.data.commands.default_grammar`)."""
        from voicelab.data.commands import default_grammar

        grammar = default_grammar() if grammar is None else grammar
        return cls(grammar.sentences(phrasings=phrasings, values=values), alphabet, shortlist=shortlist)

    def __len__(self) -> int:
        return len(self.texts)

    def candidates(self, hint: str) -> np.ndarray:
        """Indices of the sentences to score for a clip whose best path reads ``hint``."""
        if self.shortlist is None or self.shortlist >= len(self.texts):
            return np.arange(len(self.texts))
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        found = process.extract(hint, self.texts, scorer=Levenshtein.distance, limit=self.shortlist)
        return np.array([index for _, _, index in found], "int64")  # nearest first

    def scores(self, log_probs, indices) -> np.ndarray:
        """CTC log-likelihood of sentences ``indices`` given ``log_probs`` ``[T, len(alphabet) + 1]``."""
        indices = np.asarray(indices, "int64")
        width = max(int(self.lengths[indices].max()), 1)
        return ctc_log_likelihood(log_probs, self.labels[indices, :width], self.lengths[indices], len(self.alphabet))

    def decode(self, log_probs) -> tuple[str, object, float]:
        """``(text, sentence, log-likelihood)`` of the likeliest sentence for one clip.

        ``log_probs`` ``[T, len(alphabet) + 1]``: the log-softmax of the clip's real frames;
        ``sentence`` is the item given (a :class:`~voicelab.data.commands.Command` keeps its labels).
        """
        log_probs = np.asarray(log_probs, "float64")
        if log_probs.ndim != 2 or log_probs.shape[1] != len(self.alphabet) + 1 or len(log_probs) < 1:
            raise ParameterError(f"log_probs must be [frames, {len(self.alphabet) + 1}], got {log_probs.shape}")
        hint = greedy_decode(log_probs[None], [len(log_probs)], self.alphabet)[0]
        indices = self.candidates(hint)
        scores = self.scores(log_probs, indices)
        best = int(indices[int(np.argmax(scores))])  # ties (all -inf: too few frames): the nearest
        return self.texts[best], self.items[best], float(scores.max())
