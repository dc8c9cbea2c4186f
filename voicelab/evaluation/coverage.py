"""How well a set of spoken commands covers its grammar: slot values, phrases, sounds.

A command dataset teaches what it shows. :func:`coverage_report` counts, over a list
of :class:`~voicelab.data.commands.Command`:

- **intent x value**: how often each slot value occurs with each intent that can take
  it. A shared-pool value seen with one intent only ("anna" only after "call") lets a
  model read the intent off the name;
- **carrier x value**: how often each value occurs with each carrier phrase; a value
  seen with one phrase only is tied to it. The balance of each (intent, slot) is its
  min/max count ratio and a chi-square test against uniform use of its values;
- **sounds**: the share of the 39 ARPAbet phonemes and the distinct diphones
  (:func:`voicelab.data.grammar.diphones`) the sentences contain.

:meth:`CoverageReport.violations` lists what falls short in plain words, and
:func:`coverage_curve` shows how coverage grows with the number of sentences.

Introduced in ``notebooks/06_spoken_command_data.ipynb``.

Example
-------
>>> from voicelab.data.commands import default_grammar, plan
>>> g = default_grammar()
>>> train = [c for c, split in plan(g, 300, seed=0) if split == "train"]
>>> report = coverage_report(train, g)
>>> report.summary()["pairs_covered"]
1.0
>>> report.violations(1)[0]
"play_music x room='bedroom': seen with carrier phrase play_music/2 only"
>>> report.summary()["phoneme_coverage"] > 0.9
True
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from voicelab.data.commands import Command, CommandGrammar, default_grammar
from voicelab.data.grammar import DIPHONE_INVENTORY, diphones
from voicelab.errors import ParameterError
from voicelab.text import CONSONANTS, VOWELS

PHONEMES = VOWELS + CONSONANTS
"""The 39 ARPAbet phonemes, stress removed."""


def _sounds(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    pairs = diphones(text)
    return {p for pair in pairs for p in pair if p in PHONEMES}, pairs


@dataclasses.dataclass(frozen=True)
class CoverageReport:
    """Counts of a set of commands against their grammar (see the module's docstring).

    Attributes
    ----------
    n : int
        Number of commands.
    intent_value : Counter
        ``{(intent, slot, value): count}`` for every pair the grammar allows (zeros included).
    carrier_value : Counter
        ``{(template_id, slot, value): count}`` as observed.
    balance : dict
        ``{"intent/slot": {"min", "max", "ratio", "p"}}``: value counts' min, max, min/max
        and the chi-square p-value against equal counts (1 = perfectly even).
    phonemes, diphones : frozenset
        Phonemes (stress removed) and diphones the sentences contain.
    shared : dict
        ``{value: intents}`` for values the grammar lets several intents use.
    """

    n: int
    intent_value: Counter
    carrier_value: Counter
    balance: dict
    phonemes: frozenset
    diphones: frozenset
    shared: dict

    @property
    def phoneme_coverage(self) -> float:
        """Share of the 39 ARPAbet phonemes the sentences contain."""
        return len(self.phonemes) / len(PHONEMES)

    @property
    def diphone_coverage(self) -> float:
        """Share of the 1599 possible diphones the sentences contain."""
        return len(self.diphones) / DIPHONE_INVENTORY

    def violations(self, k: int = 1) -> list[str]:
        """What falls short, in plain words: (intent, value) pairs seen fewer than ``k`` times,
        values seen with one carrier phrase only, shared-pool values seen with one intent only."""
        out = [f"{intent} x {slot}={value!r}: {n} time{'s' * (n != 1)}, fewer than {k}"
               for (intent, slot, value), n in sorted(self.intent_value.items()) if n < k]
        carriers: dict[tuple[str, str, str], set[str]] = {}
        for (tid, slot, value), n in self.carrier_value.items():
            carriers.setdefault((tid.split("/")[0], slot, value), set()).add(tid)
        out += [f"{intent} x {slot}={value!r}: seen with carrier phrase {next(iter(ts))} only"
                for (intent, slot, value), ts in sorted(carriers.items()) if len(ts) == 1
                and self.intent_value[(intent, slot, value)] > 1]
        for value, intents in sorted(self.shared.items()):
            seen = sorted({i for (i, _, v), n in self.intent_value.items() if v == value and n})
            if len(seen) == 1:
                out.append(f"{value!r} (shared by {', '.join(intents)}) seen with {seen[0]} only")
        return out

    def summary(self) -> dict[str, float]:
        """A few numbers: sentences, pairs covered, worst balance, sound coverage."""
        counts = np.array(list(self.intent_value.values()) or [0])
        return {"sentences": self.n, "pairs": len(counts), "pairs_covered": float(np.mean(counts > 0)),
                "min_pair_count": int(counts.min()), "worst_ratio": min(
                    (b["ratio"] for b in self.balance.values()), default=float("nan")),
                "phoneme_coverage": self.phoneme_coverage, "diphones": len(self.diphones),
                "diphone_coverage": self.diphone_coverage}


def _check_commands(commands: Iterable) -> list[Command]:
    commands = [c[0] if isinstance(c, tuple) else c for c in commands]
    bad = [c for c in commands if not isinstance(c, Command)]
    if bad:
        raise ParameterError(f"expected Command objects (or (command, split) pairs), got {bad[0]!r}")
    return commands


def _pairs(grammar: CommandGrammar, values: str) -> list[tuple[str, str, str]]:
    return [(intent, slot, v) for intent, w in grammar.intents.items() if w > 0
            for slot in grammar.slots_of(intent) for v in grammar.values_of(slot, values)]


def coverage_report(commands: Iterable[Command], grammar: CommandGrammar | None = None, *,
                    values: str = "train") -> CoverageReport:
    """Count ``commands`` (or ``(command, split)`` pairs) against ``grammar``.

    ``values="train"`` expects the training values only (a training set); ``"all"``
    every value. Observed pairs outside the expected ones are counted too.
    """
    grammar = default_grammar() if grammar is None else grammar
    if values not in ("train", "all"):
        raise ParameterError(f"values={values!r} must be 'train' or 'all'")
    commands = _check_commands(commands)
    intent_value = Counter(dict.fromkeys(_pairs(grammar, values), 0))
    carrier_value: Counter = Counter()
    phonemes, pairs = set(), set()
    for c in commands:
        for s in c.slots:
            intent_value[(c.intent, s.name, s.value)] += 1
            carrier_value[(c.template, s.name, s.value)] += 1
        ph, di = _sounds(c.text)
        phonemes |= ph
        pairs |= di
    balance = {}
    for intent in grammar.intents:
        for slot in grammar.slots_of(intent):
            counts = np.array([n for (i, s, _), n in intent_value.items() if (i, s) == (intent, slot)])
            if counts.size and counts.sum():
                from scipy.stats import chisquare

                p = float(chisquare(counts).pvalue) if counts.size > 1 else 1.0
                balance[f"{intent}/{slot}"] = {"min": int(counts.min()), "max": int(counts.max()),
                                               "ratio": float(counts.min() / counts.max()), "p": p}
    owners: dict[str, set[str]] = {}
    for intent, slot, v in _pairs(grammar, values):
        owners.setdefault(v, set()).add(intent)
    shared = {v: tuple(sorted(i)) for v, i in owners.items() if len(i) > 1}
    return CoverageReport(len(commands), intent_value, carrier_value, balance,
                          frozenset(phonemes), frozenset(pairs), shared)


@dataclasses.dataclass(frozen=True)
class CoverageCurve:
    """Coverage after the first ``sizes[i]`` sentences: distinct diphones and (intent, value) pairs."""

    sizes: np.ndarray
    diphones: np.ndarray
    pairs: np.ndarray
    total_pairs: int


def coverage_curve(commands: Sequence[Command], sizes: Sequence[int],
                   grammar: CommandGrammar | None = None, *, values: str = "train") -> CoverageCurve:
    """Distinct diphones and covered (intent, value) pairs among the first ``n`` commands, per ``n`` in ``sizes``.

    >>> from voicelab.data.commands import default_grammar, plan
    >>> cmds = [c for c, _ in plan(default_grammar(), 100, seed=0)]
    >>> curve = coverage_curve(cmds, [10, 100])
    >>> bool(curve.pairs[1] > curve.pairs[0])
    True
    """
    grammar = default_grammar() if grammar is None else grammar
    commands = _check_commands(commands)
    sizes = np.asarray(sizes, dtype=int)
    if sizes.ndim != 1 or sizes.size == 0 or (sizes < 0).any() or (sizes > len(commands)).any():
        raise ParameterError(f"sizes={sizes.tolist()} must be counts between 0 and {len(commands)}")
    expected = set(_pairs(grammar, values))
    marks = set(sizes.tolist())
    seen_d, seen_p = set(), set()
    table = {0: (0, 0)}
    for n, c in enumerate(commands[: sizes.max()], start=1):
        seen_d |= _sounds(c.text)[1]
        seen_p |= {(c.intent, s.name, s.value) for s in c.slots}
        if n in marks:
            table[n] = (len(seen_d), len(seen_p & expected))
    return CoverageCurve(sizes, np.array([table[n][0] for n in sizes]),
                         np.array([table[n][1] for n in sizes]), len(expected))
