"""Notebook 06's command grammar: sampling, the dataset plan, JSGF, parsing, coverage, pocketsphinx."""

from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pytest

from voicelab.data.commands import (
    INTENTS,
    CommandGrammar,
    Template,
    default_grammar,
    min_size_for,
    parse,
    plan,
    to_jsgf,
)
from voicelab.errors import ParameterError
from voicelab.evaluation.coverage import coverage_curve, coverage_report

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:jsgf.*")  # pyjsgf's pyparsing calls


@pytest.fixture(scope="module")
def grammar() -> CommandGrammar:
    return default_grammar()


@pytest.fixture(scope="module")
def samples(grammar):
    rng = np.random.default_rng(0)
    return [grammar.sample(rng) for _ in range(5000)]


def test_intents_and_templates_follow_their_weights(grammar, samples):
    assert tuple(grammar.intents) == INTENTS
    total = sum(grammar.intents.values())
    intents = Counter(c.intent for c in samples)
    for intent, w in grammar.intents.items():
        assert abs(intents[intent] / len(samples) - w / total) < 0.02, intent
        ts = grammar.templates_of(intent)
        used = Counter(c.template for c in samples if c.intent == intent)
        for t in ts:
            assert abs(used[t.id] / intents[intent] - t.weight / sum(u.weight for u in ts)) < 0.05, t.id
    assert not {c.template for c in samples} & set(grammar.test_phrasings)
    assert not {v for c in samples for v in c.slot_values.values()} & grammar.test_values


def test_template_choice_ignores_how_many_combinations_it_has():
    # "weather {place} {day}" has 400 combinations, "ring {contact}" 2: equal weights, equal shares
    g = CommandGrammar.from_rules(
        {"a": 1.0}, {"a": [(1, "weather {place} {day}"), (1, "ring {contact}")]},
        {"place": [f"p{c}" for c in "abcdefghijklmnopqrst"], "day": [f"d{c}" for c in "abcdefghijklmnopqrst"],
         "contact": ["x", "y"]})
    rng = np.random.default_rng(1)
    share = np.mean([g.sample(rng).template == "a/0" for _ in range(2000)])
    assert abs(share - 0.5) < 0.04


def test_labels_and_spans_match_the_text(grammar, rng):
    for phrasings, values in [("train", "train"), ("held_out", "train"), ("train", "held_out")]:
        for _ in range(350):
            c = grammar.sample(rng, phrasings=phrasings, values=values)
            meta = c.to_meta()
            assert meta["intent"] == c.intent and meta["template"].startswith(c.intent + "/")
            assert [c.text[a:b] for _, a, b in meta["spans"]] == list(meta["slots"].values())
            assert set(meta["slots"]) == set(next(t for t in grammar.templates if t.id == c.template).slots)
            assert c.text == " ".join(c.text.split()) and c.text.islower()
            if values == "held_out":
                assert set(meta["slots"].values()) & grammar.test_values


def test_people_and_rooms_are_shared_pools(grammar, samples):
    anna = {c.intent for c in samples if "anna" in c.slot_values.values()}
    kitchen = {c.intent for c in samples if "kitchen" in c.slot_values.values()}
    assert anna == {"call", "play_music"}
    assert kitchen == {"lights_on", "lights_off", "play_music"}


def test_plan_covers_every_pair_k_times(grammar):
    size = min_size_for(grammar, 3)
    commands = plan(grammar, size, seed=0, k=3)
    assert len(commands) == size
    train = [c for c, split in commands if split == "train"]
    report = coverage_report(train, grammar)
    assert report.violations(3) == []
    assert report.summary()["min_pair_count"] >= 3
    with pytest.warns(UserWarning, match=f"too small for k=3: .* needs size >= {size}"):
        plan(grammar, size // 2, seed=0, k=3)


def test_plan_is_deterministic_and_keeps_held_out_data_out_of_training(grammar):
    a, b = plan(grammar, 400, seed=7), plan(grammar, 400, seed=7)
    assert a == b and a != plan(grammar, 400, seed=8)
    splits = Counter(split for _, split in a)
    assert splits["train"] == 300 and all(splits[s] == 20 for s in splits if s != "train")
    train = [c for c, s in a if s == "train"]
    assert not {v for c in train for v in c.slot_values.values()} & grammar.test_values
    assert not {c.template for c in train} & set(grammar.test_phrasings)
    for c, split in a:
        held_value = bool(set(c.slot_values.values()) & grammar.test_values)
        held_phrase = c.template in grammar.test_phrasings
        assert (held_value, held_phrase) == (split == "test_values", split == "test_phrasings"), (c, split)
    assert Counter(s for _, s in plan(grammar, 6, seed=0)) == Counter(
        ["train", "valid", "test_values", "test_phrasings", "test_voices", "test_noise"])


@pytest.mark.parametrize("make, message", [
    (lambda g: plan(g, 0, seed=0), "size=0 must be a positive"),
    (lambda g: plan(g, -5, seed=0), "size=-5"),
    (lambda g: CommandGrammar(g.intents, g.templates + (Template("call/9", "call", "call {contakt}"),), g.values),
     r"template 'call/9' names unknown slot \{contakt\}: the slots are contact, artist"),
    (lambda g: CommandGrammar(dict.fromkeys(g.intents, 0.0), g.templates, g.values), "intent weights are all zero"),
    (lambda g: CommandGrammar({**g.intents, "call": -1.0}, g.templates, g.values), "intent 'call' has weight -1.0"),
    (lambda g: CommandGrammar(g.intents, tuple(Template(t.id, t.intent, t.text, 0.0 if t.intent == "call" else t.weight)
                                               for t in g.templates), g.values),
     "carrier phrases of intent 'call' all have weight 0"),
    (lambda g: CommandGrammar(g.intents, tuple(Template(t.id, t.intent, t.text, -2.0) for t in g.templates), g.values),
     "template 'call/0' has weight -2.0"),
    (lambda g: g.sample(np.random.default_rng(0), values="test"), "values='test' must be one of"),
    (lambda g: plan(g, 100, seed=0, shares={"valid": 0.6, "test_noise": 0.5}), "summing to less than 1"),
])
def test_bad_input_gets_a_clear_error(grammar, make, message):
    with pytest.raises(ParameterError, match=message):
        make(grammar)


def test_jsgf_parses_and_accepts_sampled_sentences(grammar, rng):
    import jsgf

    parsed = jsgf.parse_grammar_string(to_jsgf(grammar))
    for phrasings, values in [("train", "train"), ("held_out", "held_out")]:
        for _ in range(15):
            c = grammar.sample(rng, phrasings=phrasings, values=values)
            assert [r.name for r in parsed.find_matching_rules(c.text)] == ["command"], c.text
    assert not parsed.find_matching_rules("call the kitchen")
    closed = jsgf.parse_grammar_string(to_jsgf(grammar, held_out=False))
    assert not closed.find_matching_rules("i want to call anna")
    assert not closed.find_matching_rules("call oscar")
    assert closed.find_matching_rules("call anna")


def test_parse_reads_intent_and_slots(grammar, rng):
    for phrasings, values in [("train", "train"), ("held_out", "held_out")]:
        for _ in range(100):
            c = grammar.sample(rng, phrasings=phrasings, values=values)
            assert parse(c.text, grammar) == (c.intent, c.slot_values), c.text
    assert parse("turn of the lihgts in the livin room", grammar) == ("lights_off", {"room": "living room"})
    assert parse("what is the wether in barcelona tomorow", grammar) == ("weather", {"day": "tomorrow"})
    assert parse("  ", grammar) == (None, {})


def test_coverage_report_finds_what_is_missing(grammar):
    only_call = [grammar.templates[0].render({"contact": "anna"})] * 3
    report = coverage_report(only_call, grammar)
    problems = report.violations(1)
    assert "call x contact='anna': seen with carrier phrase call/0 only" in problems
    assert "'anna' (shared by call, play_music) seen with call only" in problems
    assert any(p.startswith("call x contact='ben': 0 times") for p in problems)
    assert 0 < report.phoneme_coverage < 0.5 and report.diphone_coverage > 0
    commands = [c for c, _ in plan(grammar, 300, seed=0)]
    curve = coverage_curve(commands, [0, 10, 100, 300], grammar)
    assert curve.diphones[0] == 0 and np.all(np.diff(curve.diphones) >= 0) and np.all(np.diff(curve.pairs) >= 0)
    assert curve.pairs[-1] <= curve.total_pairs


def test_coverage_figures(grammar):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from voicelab.ui.coverage_plots import plot_carrier_balance, plot_coverage_curve, plot_intent_value_counts

    commands = [c for c, s in plan(grammar, 200, seed=0) if s == "train"]
    report = coverage_report(commands, grammar)
    for fig in (plot_intent_value_counts(report), plot_carrier_balance(report),
                plot_coverage_curve(coverage_curve(commands, [10, 50, len(commands)], grammar))):
        assert fig.axes
        plt.close(fig)


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed")
def test_constrained_pocketsphinx_transcribes_a_command(grammar):
    import jiwer

    from voicelab.data.speakers import speak
    from voicelab.evaluation.sphinx import transcribe_sphinx

    text = "turn on the lights in the kitchen"
    y = speak("slt", text)
    hyp = transcribe_sphinx(y, sr=16000, jsgf=to_jsgf(grammar))
    assert jiwer.wer(text, hyp) < 0.3, hyp
    assert parse(hyp, grammar) == ("lights_on", {"room": "kitchen"})


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed")
def test_pocketsphinx_held_to_the_grammar_says_only_its_words_in_any_process(grammar):
    from voicelab.data.speakers import speak
    from voicelab.evaluation.metrics import Transcriber, jsgf_words
    from voicelab.evaluation.sphinx import transcribe_sphinx

    jsgf = to_jsgf(grammar)
    clips = [speak("awb", "the quick brown fox jumps over the lazy dog"), speak("rms", "call maria")]
    here = [transcribe_sphinx(y, sr=16000, jsgf=jsgf) for y in clips]
    # its words are the grammar's (where no sentence reaches its end it answers the best partial path)
    assert all(set(text.split()) <= set(jsgf_words(jsgf)) for text in here), here
    assert here[1] == "call maria"
    with Transcriber(workers=2, jsgf=jsgf) as judge:           # the pool's processes are held to it too
        assert [" ".join(f.result(timeout=120).split()) for f in [judge.submit(y, sr=16000) for y in clips]] == here
    with pytest.raises(ParameterError, match="rejects the grammar"):
        Transcriber(jsgf="#JSGF V1.0;\ngrammar g;\npublic <a> = call (anna;")   # an unclosed group
