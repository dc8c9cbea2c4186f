"""Spoken commands for a home voice assistant: the grammar, the dataset plan and a parser.

The grammar is Python data (:func:`default_grammar`): six :data:`INTENTS` with weights;
per intent 5-7 carrier phrases (:class:`Template`, ``"call {contact}"``, id ``"call/0"``)
with weights; the values of each slot. Slot values live in **shared pools**: one list of
people fills ``contact`` and ``artist``, one list of rooms serves ``lights_on``,
``lights_off`` and ``play_music``. No value belongs to one intent or one carrier phrase,
so a model cannot learn "anna means call" (the "call Anna" problem).

Held-out design: a carrier phrase or two per intent (:attr:`CommandGrammar.test_phrasings`)
and ~20 % of the open classes' values (:attr:`CommandGrammar.test_values`: people, places,
durations, genres; days and rooms are too few) never occur in training.

:meth:`CommandGrammar.sample` draws the intent by weight, then a carrier phrase by weight,
then each slot's value uniformly: a phrase with many slot combinations is not drawn more
often (Chatito's "90/10" bug). :func:`plan` lays out a dataset's sentences and splits;
:func:`to_jsgf` writes the grammar for pocketsphinx; :func:`parse` reads intent and slots
back from a (possibly wrong) transcript.

Introduced in ``notebooks/06_spoken_command_data.ipynb``.

Example
-------
>>> import numpy as np
>>> g = default_grammar()
>>> c = g.sample(np.random.default_rng(0))
>>> c.text[c.slots[0].start:c.slots[0].end] == c.slots[0].value
True
>>> parse("turn off the lights in the kitchn", g)
('lights_off', {'room': 'kitchen'})
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import itertools
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np

from voicelab.errors import ParameterError

INTENTS = ("call", "set_timer", "weather", "play_music", "lights_on", "lights_off")
SLOTS = ("contact", "duration", "place", "day", "artist", "genre", "room")
SPLITS = ("train", "valid", "test_values", "test_phrasings", "test_voices", "test_noise")
DEFAULT_SHARES = {"valid": 0.05, "test_values": 0.05, "test_phrasings": 0.05,
                  "test_voices": 0.05, "test_noise": 0.05}
"""Share of a :func:`plan`'s sentences in each split but ``train`` (which gets the rest)."""
_SLOT = re.compile(r"\{([^{}]*)\}")
_WORDS = re.compile(r"[a-z']+( [a-z']+)*")
HELD = True  # marks a held-out carrier phrase in PHRASINGS

PEOPLE = tuple("anna ben maria david sarah james emma peter laura daniel lucy michael olivia "
               "thomas grace henry julia oscar nina victor rosa simon clara martin helen adam "
               "sophie leo ruth frank".split())
PLACES = tuple("paris london berlin rome madrid tokyo boston chicago dublin vienna lisbon "
               "prague oslo sydney toronto denver seattle miami athens cairo".split())
DAYS = ("today", "tomorrow", "tonight", "this weekend", "on monday", "on tuesday", "on wednesday",
        "on thursday", "on friday", "on saturday", "on sunday")
DURATIONS = ("thirty seconds", "one minute", "two minutes", "five minutes", "ten minutes",
             "fifteen minutes", "twenty minutes", "half an hour", "forty five minutes",
             "an hour", "an hour and a half", "two hours")
GENRES = ("jazz", "rock", "blues", "classical", "pop", "reggae", "country", "folk", "soul", "hip hop")
ROOMS = ("kitchen", "bedroom", "living room", "bathroom", "garage", "office", "hallway", "dining room")
VALUES = {"contact": PEOPLE, "artist": PEOPLE, "duration": DURATIONS, "place": PLACES,
          "day": DAYS, "genre": GENRES, "room": ROOMS}
TEST_VALUES = frozenset({"oscar", "nina", "victor", "clara", "ruth", "frank",   # 6 of 30 people
                         "lisbon", "oslo", "denver", "cairo",                   # 4 of 20 places
                         "fifteen minutes", "two hours", "reggae", "soul"})     # 2 of 12, 2 of 10
INTENT_WEIGHTS = {"call": 0.2, "set_timer": 0.15, "weather": 0.2, "play_music": 0.2,
                  "lights_on": 0.125, "lights_off": 0.125}
PHRASINGS = {  # intent: [(weight, carrier phrase[, HELD])]; ids are "<intent>/<index>"
    # Held-out carriers recombine the domain's words in frames no training sentence has
    # ("please turn off the {room} lights"): they test phrasing, not vocabulary. A carrier
    # whose content words no training sentence has ("make it dark in the {room}") would
    # test knowledge of English that no command grammar can teach, so those are trained on.
    "call": [(4, "call {contact}"), (2, "phone {contact}"), (1, "give {contact} a call"),
             (1, "please call {contact}"), (1, "ring {contact}"), (1, "make a call to {contact}"),
             (1, "i want to call {contact}", HELD)],
    "set_timer": [(4, "set a timer for {duration}"), (2, "start a timer for {duration}"),
                  (1, "timer for {duration}"), (1, "remind me in {duration}"),
                  (1, "count down {duration}"), (1, "wake me up in {duration}"),
                  (1, "please set a timer for {duration}", HELD)],
    "weather": [(3, "what is the weather in {place} {day}"), (2, "will it rain in {place} {day}"),
                (2, "how is the weather in {place}"), (1, "weather {day} in {place}"),
                (1, "do i need an umbrella {day}"), (1, "what will the weather be like in {place} {day}"),
                (1, "what is the weather like in {place} {day}", HELD)],
    "play_music": [(3, "play songs by {artist}"), (2, "play some {genre}"),
                   (2, "play {genre} music in the {room}"), (1, "put on {artist} in the {room}"),
                   (1, "i want to hear {artist}"), (1, "play {artist} in the {room}", HELD),
                   (1, "put on some {genre} in the {room}", HELD)],
    "lights_on": [(3, "turn on the lights in the {room}"), (2, "switch on the {room} lights"),
                  (1, "lights on in the {room}"), (1, "turn the {room} lights on"),
                  (1, "make it bright in the {room}"), (1, "please turn on the {room} lights", HELD)],
    "lights_off": [(3, "turn off the lights in the {room}"), (2, "switch off the {room} lights"),
                   (1, "lights off in the {room}"), (1, "turn the {room} lights off"),
                   (1, "make it dark in the {room}"), (1, "please turn off the {room} lights", HELD)],
}


@dataclasses.dataclass(frozen=True)
class SlotSpan:
    """A slot's value and its character span ``text[start:end]`` in the command."""

    name: str
    value: str
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class Command:
    """One sentence with its labels: intent, slot spans and the carrier phrase's id."""

    text: str
    intent: str
    slots: tuple[SlotSpan, ...]
    template: str

    @property
    def slot_values(self) -> dict[str, str]:
        """``{slot: value}``, e.g. ``{"contact": "anna"}``."""
        return {s.name: s.value for s in self.slots}

    def to_meta(self) -> dict:
        """The manifest's ``meta`` keys ``intent``, ``slots``, ``spans`` and ``template``."""
        return {"intent": self.intent, "slots": self.slot_values,
                "spans": [[s.name, s.start, s.end] for s in self.slots], "template": self.template}

    @classmethod
    def from_meta(cls, text: str, meta: Mapping) -> Command:
        """The command an utterance's ``text`` and ``meta`` describe (the inverse of :meth:`to_meta`)."""
        spans = tuple(SlotSpan(n, text[a:b], a, b) for n, a, b in meta["spans"])
        return cls(text, meta["intent"], spans, meta["template"])


@dataclasses.dataclass(frozen=True)
class Template:
    """A carrier phrase: text with ``{slot}`` references, its weight within its intent."""

    id: str
    intent: str
    text: str
    weight: float = 1.0
    held_out: bool = False

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(_SLOT.findall(self.text))

    def render(self, values: Mapping[str, str]) -> Command:
        """The command with each ``{slot}`` replaced by ``values[slot]``, spans exact."""
        pieces = _SLOT.split(self.text)  # literal, slot, literal, slot, ..., literal
        text, spans = pieces[0], []
        for name, literal in zip(pieces[1::2], pieces[2::2]):
            spans.append(SlotSpan(name, values[name], len(text), len(text) + len(values[name])))
            text += values[name] + literal
        return Command(text, self.intent, tuple(spans), self.id)


def _check_mode(value: str, name: str, modes=("train", "held_out")) -> str:
    if value not in modes:
        raise ParameterError(f"{name}={value!r} must be one of {', '.join(map(repr, modes))}")
    return value


def _check_weight(weight: float, what: str) -> float:
    if not np.isfinite(weight) or weight < 0:
        raise ParameterError(f"{what} has weight {weight!r}: weights must be finite and >= 0")
    return float(weight)


@dataclasses.dataclass(frozen=True, eq=False)
class CommandGrammar:
    """Intents, carrier phrases and slot values, with weights and a held-out design.

    Parameters
    ----------
    intents : mapping
        ``{intent: weight}``; an intent is drawn with probability ``weight / sum``.
    templates : tuple of Template
        Carrier phrases; within its intent a phrase is drawn with ``weight / sum``.
    values : mapping
        ``{slot: (value, ...)}``; lists may be shared between slots (one pool of people).
    test_values : frozenset
        Values held out of training (of every slot that lists them).
    seed : int
        Default seed of :func:`plan`.

    Build one from plain rules with :meth:`from_rules`.
    """

    intents: Mapping[str, float]
    templates: tuple[Template, ...]
    values: Mapping[str, tuple[str, ...]]
    test_values: frozenset[str] = frozenset()
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "intents", MappingProxyType(dict(self.intents)))  # read-only: shared
        object.__setattr__(self, "values", MappingProxyType({s: tuple(v) for s, v in self.values.items()}))
        if both := sorted(set(self.intents) & set(self.values)):
            raise ParameterError(f"names used for both an intent and a slot: {both}")
        for intent, w in self.intents.items():
            _check_weight(w, f"intent {intent!r}")
        if not self.intents or sum(self.intents.values()) <= 0:
            raise ParameterError(f"intent weights are all zero: {dict(self.intents)}")
        for slot, vals in self.values.items():
            if not vals or not all(_WORDS.fullmatch(v) for v in vals):
                raise ParameterError(f"slot {slot!r} needs values of lower-case words, single-spaced: {vals!r}")
            if set(vals) <= self.test_values:
                raise ParameterError(f"every value of slot {slot!r} is held out: {vals!r}")
        ids = [t.id for t in self.templates]
        if len(set(ids)) < len(ids):
            raise ParameterError(f"duplicate template ids: {sorted(i for i, n in Counter(ids).items() if n > 1)}")
        for t in self.templates:
            if t.intent not in self.intents:
                raise ParameterError(f"template {t.id!r} belongs to unknown intent {t.intent!r}")
            _check_weight(t.weight, f"template {t.id!r}")
            for slot in t.slots:
                if slot not in self.values:
                    raise ParameterError(f"template {t.id!r} names unknown slot {{{slot}}}: "
                                         f"the slots are {', '.join(self.values)}")
        for intent, w in self.intents.items():
            if w > 0 and not sum(t.weight for t in self.templates_of(intent)):
                raise ParameterError(f"the training carrier phrases of intent {intent!r} all have weight 0 "
                                     f"(or there are none)")

    @classmethod
    def from_rules(cls, intents: Mapping[str, float], phrasings: Mapping[str, Sequence[tuple]],
                   values: Mapping[str, Sequence[str]], test_values=(), *, seed: int = 0) -> CommandGrammar:
        """A grammar from ``{intent: weight}``, ``{intent: [(weight, text[, held_out])]}`` and
        ``{slot: values}``; template ids are ``"<intent>/<index>"``."""
        templates = tuple(Template(f"{intent}/{i}", intent, rule[1], rule[0], bool(rule[2:] and rule[2]))
                          for intent, rules in phrasings.items() for i, rule in enumerate(rules))
        return cls(dict(intents), templates, {s: tuple(v) for s, v in values.items()},
                   frozenset(test_values), seed)

    @property
    def test_phrasings(self) -> tuple[str, ...]:
        """Ids of the held-out carrier phrases."""
        return tuple(t.id for t in self.templates if t.held_out)

    def templates_of(self, intent: str, phrasings: str = "train") -> list[Template]:
        """The intent's carrier phrases: ``"train"``, ``"held_out"`` or ``"all"``."""
        _check_mode(phrasings, "phrasings", ("train", "held_out", "all"))
        return [t for t in self.templates if t.intent == intent
                and (phrasings == "all" or t.held_out == (phrasings == "held_out"))]

    def slots_of(self, intent: str) -> tuple[str, ...]:
        """Every slot the intent's carrier phrases name, in order of first use."""
        return tuple(dict.fromkeys(s for t in self.templates_of(intent, "all") for s in t.slots))

    def values_of(self, slot: str, which: str = "train") -> tuple[str, ...]:
        """A slot's ``"train"``, ``"held_out"`` or ``"all"`` values."""
        _check_mode(which, "values", ("train", "held_out", "all"))
        vals = self.values[slot]
        return vals if which == "all" else tuple(v for v in vals if (v in self.test_values) == (which == "held_out"))

    def _options(self, phrasings: str, values: str) -> dict[str, list[Template]]:
        """Per intent, the phrases a sentence of this kind may use (held-out values need a slot that has some)."""
        options = {}
        for intent, w in self.intents.items():
            ts = [t for t in self.templates_of(intent, phrasings) if t.weight > 0 and (
                values == "train" or any(self.values_of(s, "held_out") for s in t.slots))]
            if w > 0 and ts:
                options[intent] = ts
        return options

    def sentences(self, *, phrasings: str = "all", values: str = "all") -> list[Command]:
        """Every command the grammar can make, of intents of positive weight, intent by intent.

        ``phrasings`` and ``values`` (``"train"``, ``"held_out"`` or ``"all"``) restrict the
        carrier phrases and slot values used: the whole language a grammar-held decoder
        (:class:`voicelab.models.grammar_decoder.GrammarDecoder`) chooses from.

        >>> len(default_grammar().sentences()), default_grammar().sentences()[0].text
        (2231, 'call anna')
        """
        _check_mode(values, "values", ("train", "held_out", "all"))
        out = []
        for intent in [i for i, w in self.intents.items() if w > 0]:
            for t in self.templates_of(intent, phrasings):
                pools = [self.values_of(s, values) for s in t.slots]
                out += [t.render(dict(zip(t.slots, chosen))) for chosen in itertools.product(*pools)]
        return out

    def sample(self, rng: np.random.Generator, *, phrasings: str = "train", values: str = "train") -> Command:
        """One command: intent by weight, then carrier phrase by weight, then each value uniformly.

        ``phrasings="held_out"`` uses only held-out carrier phrases; ``values="held_out"``
        fills each slot that has held-out values with one (others with training values) and
        uses only phrases with such a slot. Intents without a usable phrase are skipped.
        """
        _check_mode(phrasings, "phrasings"), _check_mode(values, "values")
        options = self._options(phrasings, values)
        if not options:
            raise ParameterError(f"no carrier phrase of positive weight can make a sentence with "
                                 f"phrasings={phrasings!r}, values={values!r}")
        intents = list(options)
        intent = intents[rng.choice(len(intents), p=_normalized([self.intents[i] for i in intents]))]
        ts = options[intent]
        template = ts[rng.choice(len(ts), p=_normalized([t.weight for t in ts]))]
        chosen = {}
        for slot in template.slots:
            pool = (values == "held_out" and self.values_of(slot, "held_out")) or self.values_of(slot)
            chosen[slot] = pool[rng.integers(len(pool))]
        return template.render(chosen)


def _normalized(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


@functools.lru_cache(maxsize=1)
def default_grammar() -> CommandGrammar:
    """The kit's command grammar (six intents, shared pools of people and rooms).

    Introduced in ``notebooks/06_spoken_command_data.ipynb``.

    >>> g = default_grammar()
    >>> len(g.templates), g.test_phrasings[:2]
    (40, ('call/6', 'set_timer/6'))
    """
    return CommandGrammar.from_rules(INTENT_WEIGHTS, PHRASINGS, VALUES, TEST_VALUES)


def grammar_rules(grammar: CommandGrammar) -> dict:
    """The grammar as plain JSON data, what :func:`read_grammar` reads.

    >>> g = default_grammar()
    >>> read_grammar_rules(grammar_rules(g)).templates == g.templates
    True
    """
    phrasings: dict[str, list] = {}
    for t in grammar.templates:
        phrasings.setdefault(t.intent, []).append([t.weight, t.text] + ([True] if t.held_out else []))
    return {"intents": dict(grammar.intents), "phrasings": phrasings,
            "values": {s: list(v) for s, v in grammar.values.items()}, "test_values": sorted(grammar.test_values)}


def read_grammar_rules(rules: Mapping, *, where: str = "grammar") -> CommandGrammar:
    """A grammar from :func:`grammar_rules`'s form: ``{"intents": {intent: weight}, "phrasings":
    {intent: [[weight, text(, held_out)]]}, "values": {slot: [values]}, "test_values": [values]}``."""
    from voicelab.errors import DatasetError

    missing = [k for k in ("intents", "phrasings", "values") if k not in rules]
    if not isinstance(rules, Mapping) or missing:
        raise DatasetError(f"{where}: needs the keys intents, phrasings and values (missing: {missing})")
    try:
        return CommandGrammar.from_rules(rules["intents"], {i: [tuple(r) for r in rs] for i, rs in rules["phrasings"].items()},
                                         rules["values"], rules.get("test_values", ()))
    except ParameterError as error:
        raise ParameterError(f"{where}: {error}") from None
    except (TypeError, IndexError, AttributeError) as error:
        raise DatasetError(f"{where}: not a grammar ({error})") from None


def read_grammar(path) -> CommandGrammar:
    """A grammar from a JSON file in :func:`grammar_rules`'s form (``synth-data --grammar FILE``)."""
    import json
    from pathlib import Path

    from voicelab.errors import DatasetError

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"grammar file not found: {path}")
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    return read_grammar_rules(rules, where=str(path))


# ---------------------------------------------------------------- dataset plan
def _largest_remainder(n: int, weights: Sequence[float]) -> list[int]:
    """``n`` split in proportion to ``weights``, whole numbers summing to ``n``."""
    exact = _normalized(weights) * n
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _stratified_jobs(grammar: CommandGrammar, n: int) -> list[Template]:
    """``n`` training carrier phrases, intents and phrases in exact proportion to their weights."""
    options = grammar._options("train", "train")
    jobs = []
    for intent, n_i in zip(options, _largest_remainder(n, [grammar.intents[i] for i in options])):
        ts = options[intent]
        jobs += [t for t, n_t in zip(ts, _largest_remainder(n_i, [t.weight for t in ts])) for _ in range(n_t)]
    return jobs


def split_sizes(size: int, shares: Mapping[str, float] | None = None) -> dict[str, int]:
    """Sentences per split: ``round(share * size)``, at least 1 each when ``size >= 6``; train the rest."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ParameterError(f"size={size!r} must be a positive whole number of sentences")
    shares = dict(DEFAULT_SHARES if shares is None else shares)
    unknown = set(shares) - set(SPLITS[1:])
    if unknown or any(not 0 <= s < 1 for s in shares.values()) or sum(shares.values()) >= 1:
        raise ParameterError(f"shares={shares!r} must map splits of {SPLITS[1:]} to shares in [0, 1) "
                             f"summing to less than 1")
    sizes = {s: max(int(round(shares.get(s, 0) * size)), int(size >= 6 and s in shares)) for s in SPLITS[1:]}
    return {"train": size - sum(sizes.values()), **sizes}


def min_size_for(grammar: CommandGrammar, k: int, *, shares: Mapping[str, float] | None = None) -> int:
    """Smallest :func:`plan` size whose training part holds every (intent, training value) pair k times.

    Training slots are dealt from decks (:func:`plan`), so a slot of an intent filled
    ``d`` times gives each of its ``V`` training values at least ``d // V`` times: the
    plan needs ``d >= k * V`` for each (intent, slot). With intent weight share ``w`` and
    ``q`` the weight share of the intent's phrases naming the slot, ``d ~ w * q * n_train``,
    hence ``n_train >= max k * V / (w * q)``; the exact size is then searched.

    >>> min_size_for(default_grammar(), 1), min_size_for(default_grammar(), 3)
    (279, 864)
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k={k!r} must be a whole number >= 1")
    options = grammar._options("train", "train")
    total = sum(grammar.intents[i] for i in options)
    n_train = 1
    for intent, ts in options.items():
        for slot in grammar.slots_of(intent):
            q = sum(t.weight for t in ts if slot in t.slots) / sum(t.weight for t in ts)
            if q:  # the bound above, less what the largest remainders may round up
                n_train = max(n_train, k * len(grammar.values_of(slot)) * total / grammar.intents[intent] / q
                              - len(grammar.templates))
    share = sum((DEFAULT_SHARES if shares is None else shares).values())
    size = max(1, int((n_train - len(SPLITS)) / (1 - share)))  # less the split sizes' rounding
    while True:
        jobs = _stratified_jobs(grammar, split_sizes(size, shares)["train"])
        drawn = Counter((t.intent, s) for t in jobs for s in t.slots)
        if all(drawn[(i, s)] >= k * len(grammar.values_of(s)) for i, ts in options.items()
               for s in {s for t in ts for s in t.slots}):
            return size
        size += 1


def plan(grammar: CommandGrammar, size: int, *, seed: int | None = None, k: int | None = None,
         shares: Mapping[str, float] | None = None) -> list[tuple[Command, str]]:
    """The sentences of a dataset and their splits, ``[(command, split), ...]``, deterministic from ``seed``.

    - ``train``: coverage-designed. Intents and carrier phrases are allotted in exact
      proportion to their weights (largest remainder, then shuffled); each (intent, slot)
      deals its training values from a shuffled deck, a new deck when one runs out, so the
      values of an intent's slot occur equally often; from the deck the value least seen
      with the current carrier phrase (then seen with the fewest phrases) is dealt
      first, spreading values over phrases.
      Every (intent, value) pair of the training values occurs at least ``k`` times
      once ``size >= min_size_for(grammar, k)``.
    - ``valid``, ``test_voices``, ``test_noise``: sampled from the training distribution
      (their clips differ in voice or noise, not in words).
    - ``test_values``: held-out values in training phrases; ``test_phrasings``: held-out
      phrases with training values.

    ``k``, when given, is the coverage target: a ``size`` below ``min_size_for(grammar, k)``
    warns (``UserWarning``); the plan is the same either way.
    Split sizes: :func:`split_sizes`.

    >>> [s for _, s in plan(default_grammar(), 8, seed=0)]
    ['train', 'train', 'train', 'valid', 'test_values', 'test_phrasings', 'test_voices', 'test_noise']
    """
    sizes = split_sizes(size, shares)
    if k is not None and size < (need := min_size_for(grammar, k, shares=shares)):
        times = f"{k} time{'s' * (k != 1)}"
        warnings.warn(f"size={size} is too small for k={k}: every (intent, value) pair {times} needs "
                      f"size >= {need}; the values are still dealt evenly", stacklevel=2)
    rng = np.random.default_rng(grammar.seed if seed is None else seed)
    jobs = _stratified_jobs(grammar, sizes["train"])
    jobs = [jobs[i] for i in rng.permutation(len(jobs))]
    decks: dict[tuple[str, str], list[str]] = {}
    paired: Counter = Counter()
    phrases: dict[tuple[str, str, str], set[str]] = {}
    out = []
    for t in jobs:
        chosen = {}
        for slot in t.slots:
            deck = decks.get((t.intent, slot))
            if not deck:
                vals = grammar.values_of(slot)
                deck = decks[(t.intent, slot)] = [vals[i] for i in rng.permutation(len(vals))]
            # the first value least seen with this phrase, then with the fewest phrases so far
            value = min(deck, key=lambda v: (paired[(t.id, v)], len(phrases.get((t.intent, slot, v), ()))))
            deck.remove(value)
            paired[(t.id, value)] += 1
            phrases.setdefault((t.intent, slot, value), set()).add(t.id)
            chosen[slot] = value
        out.append((t.render(chosen), "train"))
    kinds = {"valid": ("train", "train"), "test_values": ("train", "held_out"),
             "test_phrasings": ("held_out", "train"), "test_voices": ("train", "train"),
             "test_noise": ("train", "train")}
    for split, (phrasings, values) in kinds.items():
        out += [(grammar.sample(rng, phrasings=phrasings, values=values), split) for _ in range(sizes[split])]
    return out


# ---------------------------------------------------------------- JSGF and parsing
def to_jsgf(grammar: CommandGrammar, *, held_out: bool = True) -> str:
    """The grammar as JSGF text: public rule ``<command>`` accepts every sentence it can make.

    ``held_out=False`` leaves out the held-out phrases and values (a recogniser that
    knows only the training data). Weights are not written: the rule constrains
    pocketsphinx's search, it does not rank.

    >>> print(to_jsgf(default_grammar()).splitlines()[2][:45])
    public <command> = <call> | <set_timer> | <we
    """
    which = "all" if held_out else "train"
    intents = [i for i in grammar._options("train", "train") if grammar.templates_of(i, which)]
    lines = ["#JSGF V1.0;", "grammar commands;",
             "public <command> = " + " | ".join(f"<{i}>" for i in intents) + ";"]
    used = {}
    for intent in intents:
        alts = [_SLOT.sub(lambda m: f"<{m.group(1)}>", t.text) for t in grammar.templates_of(intent, which)]
        lines.append(f"<{intent}> = {' | '.join(alts)};")
        used.update(dict.fromkeys(grammar.slots_of(intent)))
    lines += [f"<{s}> = {' | '.join(grammar.values_of(s, which))};" for s in used]
    return "\n".join(lines) + "\n"


def _find_values(words: list[str], grammar: CommandGrammar, min_ratio: float) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, value)`` word spans that (nearly) spell a slot value."""
    found = []
    for value in {v for vals in grammar.values.values() for v in vals}:
        n = len(value.split())
        for i in range(len(words) - n + 1):
            r = difflib.SequenceMatcher(None, " ".join(words[i:i + n]), value).ratio()
            if r >= min_ratio:
                found.append((-r, -n, i, value))
    taken, spans = set(), []
    for _, minus_n, i, value in sorted(found):  # best ratio first, then longest, then leftmost
        span = set(range(i, i - minus_n))
        if not taken & span:
            taken |= span
            spans.append((i, i - minus_n, value))
    return sorted(spans)


def parse(text: str, grammar: CommandGrammar | None = None, *, phrasings: str = "all",
          min_ratio: float = 0.8) -> tuple[str | None, dict[str, str]]:
    """Intent and slots read from a transcript, e.g. pocketsphinx's output.

    Slot values are found as word sequences that spell a value of the grammar (every
    value, held-out ones included: the assistant knows its contact list) with a
    :class:`difflib.SequenceMatcher` ratio of at least ``min_ratio``. The intent is the
    one of the carrier phrase most like the transcript, word by word, once found values
    stand in for the phrase's slots and other words are snapped to the grammar's
    vocabulary. ``phrasings="train"`` ignores held-out phrases (to score generalisation).

    >>> parse("could you fone maria", default_grammar())
    ('call', {'contact': 'maria'})
    >>> parse("", default_grammar())
    (None, {})
    """
    grammar = default_grammar() if grammar is None else grammar
    _check_mode(phrasings, "phrasings", ("train", "all"))
    words = re.findall(r"[a-z']+", text.lower())
    if not words:
        return None, {}
    spans = _find_values(words, grammar, min_ratio)
    vocab = sorted({w for t in grammar.templates for w in _SLOT.sub(" ", t.text).split()})
    snapped = [(difflib.get_close_matches(w, vocab, n=1, cutoff=min_ratio) or [w])[0] for w in words]
    best = None
    for t in grammar.templates:
        if (phrasings == "train" and t.held_out) or grammar.intents[t.intent] <= 0:
            continue
        tokens, i = [], 0
        for start, end, value in spans:
            fits = [s for s in t.slots if value in grammar.values[s]]
            tokens += snapped[i:start] + ([f"{{{fits[0]}}}"] if fits else words[start:end])
            i = end
        tokens += snapped[i:]
        score = difflib.SequenceMatcher(None, tokens, t.text.split(), autojunk=False).ratio()
        if best is None or (score, t.weight) > best[:2]:
            best = (score, t.weight, t)
    template = best[2]
    slots = {}
    for _, _, value in spans:
        fits = [s for s in template.slots + grammar.slots_of(template.intent) if value in grammar.values[s]]
        if fits and fits[0] not in slots:
            slots[fits[0]] = value
    return template.intent, slots
