"""The corpus's sentences: a weighted grammar and diphone-greedy read sentences.

Two kinds of text make up the corpus (:func:`corpus_sentences`):

- **prompts** (``kind`` "command", "question", "statement"): what people say to a
  voice assistant, sampled from a probabilistic grammar (:class:`Grammar`, rules in
  :data:`voicelab.data.sentences_data.ASSISTANT_RULES`);
- **read** sentences, phonetically varied: a large candidate pool (a read-style
  grammar plus hand-written sentences) from which sentences are picked greedily to
  cover as many diphones as possible, the way CMU ARCTIC's prompts were chosen.

Introduced in ``notebooks/01_audio_features.ipynb``; ``notebooks/06`` audits the grammar
with :meth:`Grammar.probability`.

Example
-------
>>> import numpy as np
>>> g = Grammar({"greeting": [(3, "hello {who}"), (1, "hi {who}")], "who": [(1, "Anna"), (1, "Ben")]})
>>> g.sample(np.random.default_rng(0), "greeting")
'hello Anna'
>>> g.probability("hello Anna", "greeting")  # 3/4 * 1/2
0.375
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from voicelab.data import sentences_data
from voicelab.errors import ParameterError
from voicelab.text import (
    CONSONANTS,
    PUNCTUATION,
    VOWELS,
    WORD_BOUNDARY,
    normalize_text,
    to_phonemes,
)

_SLOT = re.compile(r"\{([a-z_]+)\}")
MAX_DEPTH = 30


class Grammar:
    """A probabilistic grammar whose rules are data.

    Parameters
    ----------
    rules : mapping
        ``{slot: [(weight, template), ...]}``. A template is text with ``{slot}``
        references; an alternative is chosen with probability ``weight / sum(weights)``
        and its slots are expanded the same way, recursively.

    Raises
    ------
    ParameterError
        An empty rule, a weight that is not a positive number, or a reference to a slot
        that has no rule.
    """

    def __init__(self, rules: Mapping[str, Sequence[tuple[float, str]]]):
        self.rules: dict[str, tuple[tuple[float, str], ...]] = {}
        self._parts: dict[str, list[list[tuple[bool, str]]]] = {}
        self._cumulative: dict[str, list[float]] = {}
        for name, alternatives in rules.items():
            if not alternatives:
                raise ParameterError(f"rule {name!r} has no alternatives")
            for weight, template in alternatives:
                if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
                    raise ParameterError(
                        f"rule {name!r}: weight={weight!r} of {template!r} must be a positive number")
            self.rules[name] = tuple((float(w), t) for w, t in alternatives)
            self._parts[name] = [self._split(t) for _, t in alternatives]
            self._cumulative[name] = list(itertools.accumulate(float(w) for w, _ in alternatives))
        for name, alternatives in self.rules.items():
            for _, template in alternatives:
                missing = [s for s in _SLOT.findall(template) if s not in self.rules]
                if missing:
                    raise ParameterError(
                        f"rule {name!r}: template {template!r} refers to unknown slot(s) {missing}")

    @staticmethod
    def _split(template: str) -> list[tuple[bool, str]]:
        """``"call {contact}."`` -> ``[(False, "call "), (True, "contact"), (False, ".")]``."""
        pieces = _SLOT.split(template)  # literal, slot, literal, slot, ...
        return [(i % 2 == 1, p) for i, p in enumerate(pieces) if p or i % 2 == 1]

    def _check(self, symbol: str) -> None:
        if symbol not in self.rules:
            raise ParameterError(f"symbol={symbol!r} is not a rule; rules: {', '.join(sorted(self.rules))}")

    def weights(self, symbol: str) -> dict[str, float]:
        """Probability of each alternative of ``symbol`` (its weights, normalised)."""
        self._check(symbol)
        total = self._cumulative[symbol][-1]
        probs: dict[str, float] = {}
        for weight, template in self.rules[symbol]:
            probs[template] = probs.get(template, 0.0) + weight / total
        return probs

    def choose(self, rng: np.random.Generator, symbol: str) -> str:
        """One alternative of ``symbol`` (its template, unexpanded), drawn by weight."""
        self._check(symbol)
        cumulative = self._cumulative[symbol]
        index = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        return self.rules[symbol][min(index, len(cumulative) - 1)][1]

    def expand(self, rng: np.random.Generator, template: str, _depth: int = 0) -> str:
        """Fill every ``{slot}`` of ``template`` with a sample of that slot."""
        if _depth > MAX_DEPTH:
            raise ParameterError(f"grammar nests deeper than MAX_DEPTH={MAX_DEPTH} at {template!r}: "
                                 "a rule refers to itself")
        return _SLOT.sub(lambda m: self.expand(rng, self.choose(rng, m[1]), _depth + 1), template)

    def sample(self, rng: np.random.Generator, symbol: str) -> str:
        """A random sentence derived from ``symbol``."""
        return self.expand(rng, self.choose(rng, symbol))

    def probability(self, text: str, symbol: str) -> float:
        """Probability that :meth:`sample` returns ``text`` from ``symbol``.

        Sums over every derivation (a chart parse over character positions), so it is
        exact also when a sentence can be derived in several ways. The first letter is
        matched without case, since :func:`corpus_sentences` capitalises it.
        """
        self._check(symbol)
        variants = {text, text[:1].swapcase() + text[1:]}
        return sum(self._parse(variant, symbol) for variant in variants)

    def _parse(self, text: str, symbol: str) -> float:
        chart: dict[tuple[str, int], dict[int, float]] = {}  # (slot, start) -> {end: probability}

        def ends(name: str, start: int, stack: frozenset) -> dict[int, float]:
            key = (name, start)
            if key in chart:
                return chart[key]
            if key in stack:
                raise ParameterError(f"rule {name!r} is left-recursive; probability() cannot parse it")
            total, out = self._cumulative[name][-1], {}
            for (weight, _), parts in zip(self.rules[name], self._parts[name]):
                states = {start: weight / total}
                for is_slot, piece in parts:
                    nxt: dict[int, float] = {}
                    for pos, p in states.items():
                        if is_slot:
                            for end, q in ends(piece, pos, stack | {key}).items():
                                nxt[end] = nxt.get(end, 0.0) + p * q
                        elif text.startswith(piece, pos):
                            nxt[pos + len(piece)] = nxt.get(pos + len(piece), 0.0) + p
                    states = nxt
                for end, p in states.items():
                    out[end] = out.get(end, 0.0) + p
            chart[key] = out
            return out

        return ends(symbol, 0, frozenset()).get(len(text), 0.0)


ASSISTANT_GRAMMAR = Grammar(sentences_data.ASSISTANT_RULES)
READ_GRAMMAR = Grammar(sentences_data.READ_RULES)
KINDS = ("command", "question", "statement", "read")
MIN_WORDS, MAX_WORDS = 3, 16


@dataclasses.dataclass(frozen=True)
class Sentence:
    """One corpus sentence: ``sentence_id`` (``"s0001"``), ``text`` as written, ``kind``
    (``"command"``, ``"question"``, ``"statement"`` or ``"read"``)."""

    sentence_id: str
    text: str
    kind: str


# ---------------------------------------------------------------- diphones
SILENCE = "sil"
DIPHONE_INVENTORY = (len(VOWELS) + len(CONSONANTS) + 1) ** 2 - 1
"""40 x 40 phone pairs (39 phones and silence) less silence-silence: 1599."""


def diphones(text: str) -> set[tuple[str, str]]:
    """Diphones of ``text``: pairs of successive phones, stress removed.

    Silence stands at both ends and at each punctuation mark; word boundaries are
    ignored (words run together in speech), so cross-word pairs count.

    >>> sorted(diphones("Hi."))
    [('AY', 'sil'), ('HH', 'AY'), ('sil', 'HH')]
    """
    seq = [SILENCE]
    for token in to_phonemes(text)[0]:
        if token in PUNCTUATION:
            token = SILENCE
        elif token == WORD_BOUNDARY:
            continue
        token = token.rstrip("012")
        if not (token == SILENCE and seq[-1] == SILENCE):
            seq.append(token)
    if seq[-1] != SILENCE:
        seq.append(SILENCE)
    return set(zip(seq, seq[1:]))


def diphone_coverage(texts: Iterable[str | Sentence]) -> float:
    """Fraction of the :data:`DIPHONE_INVENTORY` (1599 pairs) that ``texts`` contain.

    Many pairs never occur in English, so even a large corpus stays well below 1.
    """
    seen: set[tuple[str, str]] = set()
    for t in texts:
        seen |= diphones(t if isinstance(t, str) else t.text)
    return len(seen) / DIPHONE_INVENTORY


def select_by_coverage(candidates: Sequence[str], n: int, *, rarity: float = 0.1) -> list[int]:
    """Greedily pick ``n`` candidates that together cover the most diphones.

    Each step takes the sentence with the largest gain: a diphone not covered yet is
    worth 1, one already covered ``c`` times is worth ``rarity**c``, so new diphones
    come first and, once those run out, the rarest are repeated (balanced coverage).
    Gains only shrink as the selection grows, so a lazy heap finds each best
    sentence without rescoring them all. Ties go to the earlier candidate.

    Returns the indices of the chosen candidates, in the order they were chosen.
    """
    index: dict[tuple[str, str], int] = {}
    sets = [[index.setdefault(d, len(index)) for d in sorted(diphones(c))] for c in candidates]
    worth = [1.0] * len(index)  # rarity ** (times covered so far), per diphone

    def gain(i: int) -> float:
        return sum(map(worth.__getitem__, sets[i]))

    heap = [(-gain(i), i) for i in range(len(sets))]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and len(chosen) < n:
        _, i = heapq.heappop(heap)
        g = gain(i)
        if heap and g < -heap[0][0] - 1e-12:  # stale score: push back with the fresh one
            heapq.heappush(heap, (-g, i))
            continue
        chosen.append(i)
        for d in sets[i]:
            worth[d] *= rarity
    return chosen


# ---------------------------------------------------------------- the corpus
def _finish(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text[:1].upper() + text[1:]


def _word_count(text: str) -> int:
    return len(re.findall(r"[a-z']+", normalize_text(text)))


def _draw_distinct(n: int, draw, taken: set[str], what: str) -> list[tuple[str, str]]:
    """Draw ``(text, kind)`` pairs until ``n`` new ones of a good length are found."""
    out: list[tuple[str, str]] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ParameterError(f"the {what} grammar gave only {len(out)} distinct sentences in "
                                 f"{attempts - 1} draws; ask for fewer")
        text, kind = draw()
        key = normalize_text(text)
        if key not in taken and MIN_WORDS <= _word_count(text) <= MAX_WORDS:
            taken.add(key)
            out.append((text, kind))
    return out


def corpus_sentences(n: int, *, seed: int = 0, read_fraction: float = 0.5) -> list[Sentence]:
    """The corpus's ``n`` distinct sentences, the same for the same ``seed``.

    ``round(n * read_fraction)`` are read sentences picked for diphone coverage
    (:func:`select_by_coverage`) from a pool of at least ``3 n`` candidates (the
    read grammar plus :data:`~voicelab.data.sentences_data.HANDWRITTEN`); the rest are
    voice-assistant prompts from :data:`ASSISTANT_GRAMMAR`, whose kind is the
    ``prompt`` rule's choice. Every sentence has 3 to 16 words once normalised (about
    1 to 5 s of speech). The list is shuffled and numbered ``s0001, s0002, ...``.

    Example
    -------
    >>> sentences = corpus_sentences(4, seed=0)
    >>> [s.sentence_id for s in sentences], sorted({s.kind for s in sentences}) <= list(KINDS)
    (['s0001', 's0002', 's0003', 's0004'], True)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n={n!r} must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a non-negative integer")
    if not isinstance(read_fraction, (int, float)) or not 0 <= read_fraction <= 1:
        raise ParameterError(f"read_fraction={read_fraction!r} must be a number in [0, 1]")
    n_read = round(n * read_fraction)
    prompt_rng, read_rng, order_rng = (np.random.default_rng([seed, k]) for k in range(3))
    taken: set[str] = set()

    def draw_prompt() -> tuple[str, str]:
        kind = ASSISTANT_GRAMMAR.choose(prompt_rng, "prompt").strip("{}")
        return _finish(ASSISTANT_GRAMMAR.sample(prompt_rng, kind)), kind

    chosen = _draw_distinct(n - n_read, draw_prompt, taken, "assistant")
    if n_read:
        handwritten = [(t, "read") for t in sentences_data.HANDWRITTEN if normalize_text(t) not in taken]
        taken.update(normalize_text(t) for t, _ in handwritten)
        pool_size = max(3 * n_read, 600)
        pool = handwritten + _draw_distinct(
            pool_size, lambda: (_finish(READ_GRAMMAR.sample(read_rng, "read")), "read"), taken, "read")
        chosen += [pool[i] for i in select_by_coverage([t for t, _ in pool], n_read)]
    width = max(4, len(str(n)))
    order = order_rng.permutation(len(chosen))
    return [Sentence(f"s{k + 1:0{width}d}", *chosen[i]) for k, i in enumerate(order)]
