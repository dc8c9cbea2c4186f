"""Tests of voicelab.data.grammar: the weighted grammar and the corpus sentences."""

from __future__ import annotations

import collections
import dataclasses
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from voicelab.data import sentences_data
from voicelab.data.grammar import (
    ASSISTANT_GRAMMAR,
    DIPHONE_INVENTORY,
    KINDS,
    MAX_WORDS,
    MIN_WORDS,
    READ_GRAMMAR,
    Grammar,
    Sentence,
    corpus_sentences,
    diphone_coverage,
    diphones,
    select_by_coverage,
)
from voicelab.errors import ParameterError
from voicelab.text import normalize_text, oov_report

TOY = {"s": [(1, "a {x}"), (2, "b {x}"), (7, "c {x}")], "x": [(3, "d"), (1, "e")]}


def frequencies(values) -> dict[str, float]:
    counts = collections.Counter(values)
    return {k: v / len(values) for k, v in counts.items()}


# ---------------------------------------------------------------- Grammar
def test_weighted_slots_follow_their_weights(rng):
    g = Grammar(TOY)
    n = 20_000
    samples = [g.sample(rng, "s") for _ in range(n)]
    first = frequencies([s.split()[0] for s in samples])
    second = frequencies([s.split()[1] for s in samples])
    joint = frequencies(samples)
    # 5 standard errors: a correct sampler fails about once in 3 million runs, a uniform
    # or off-by-one sampler (0.33 instead of 0.1) fails every time
    for freq, expected in [(first, {"a": 0.1, "b": 0.2, "c": 0.7}), (second, {"d": 0.75, "e": 0.25}),
                           (joint, {"a d": 0.075, "b e": 0.05, "c d": 0.525})]:
        for value, p in expected.items():
            assert abs(freq[value] - p) < 5 * np.sqrt(p * (1 - p) / n), (value, freq[value], p)


def test_assistant_kinds_follow_prompt_weights(rng):
    weights = ASSISTANT_GRAMMAR.weights("prompt")
    assert weights == {"{command}": 0.5, "{question}": 0.3, "{statement}": 0.2}
    n = 10_000
    freq = frequencies([ASSISTANT_GRAMMAR.choose(rng, "prompt") for _ in range(n)])
    for template, p in weights.items():
        assert abs(freq[template] - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_weights_are_probabilities():
    for grammar in (ASSISTANT_GRAMMAR, READ_GRAMMAR):
        for name in grammar.rules:
            assert sum(grammar.weights(name).values()) == pytest.approx(1.0)


def test_probability_is_exact():
    g = Grammar(TOY)
    assert g.probability("c d", "s") == pytest.approx(0.7 * 0.75)
    assert g.probability("C d", "s") == pytest.approx(0.7 * 0.75)  # capitalised first letter
    assert g.probability("c f", "s") == 0.0
    assert sum(g.probability(f"{a} {b}", "s") for a in "abc" for b in "de") == pytest.approx(1.0)
    # two derivations of "x y" are summed
    ambiguous = Grammar({"s": [(1, "{a} y"), (1, "x {b}")], "a": [(1, "x"), (1, "z")], "b": [(1, "y")]})
    assert ambiguous.probability("x y", "s") == pytest.approx(0.5 * 0.5 + 0.5)


def test_probability_matches_sampling_frequency(rng):
    n = 20_000
    samples = collections.Counter(ASSISTANT_GRAMMAR.sample(rng, "prompt") for _ in range(n))
    for text, count in samples.most_common(3):
        p = ASSISTANT_GRAMMAR.probability(text, "prompt")
        assert abs(count / n - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-9, (text, count / n, p)


def test_corpus_prompts_have_positive_probability():
    for sentence in corpus_sentences(60, seed=2, read_fraction=0):
        assert ASSISTANT_GRAMMAR.probability(sentence.text, sentence.kind) > 0, sentence


@pytest.mark.parametrize("rules, match", [
    ({"s": []}, r"rule 's' has no alternatives"),
    ({"s": [(0, "a")]}, r"weight=0 of 'a' must be a positive number"),
    ({"s": [(-1.5, "a")]}, r"weight=-1.5"),
    ({"s": [(True, "a")]}, r"weight=True"),
    ({"s": [(1, "call {contact}")]}, r"template 'call \{contact\}' refers to unknown slot\(s\) \['contact'\]"),
])
def test_bad_grammar(rules, match):
    with pytest.raises(ParameterError, match=match):
        Grammar(rules)


def test_bad_symbol_and_endless_recursion(rng):
    with pytest.raises(ParameterError, match=r"symbol='nope' is not a rule"):
        Grammar(TOY).sample(rng, "nope")
    with pytest.raises(ParameterError, match=r"MAX_DEPTH"):
        Grammar({"s": [(1, "x {s}")]}).sample(rng, "s")


# ---------------------------------------------------------------- diphones
def test_diphones():
    assert diphones("Hi.") == {("sil", "HH"), ("HH", "AY"), ("AY", "sil")}
    # cross-word pairs count, a comma is a pause
    assert diphones("Hi Anna, hi.") == {("sil", "HH"), ("HH", "AY"), ("AY", "AE"), ("AE", "N"), ("N", "AH"),
                                         ("AH", "sil"), ("AY", "sil")}
    assert DIPHONE_INVENTORY == 1599
    assert diphone_coverage(["Hi."]) == pytest.approx(3 / 1599)


def test_greedy_selection_beats_random_selection():
    rng = np.random.default_rng(7)
    pool = list(sentences_data.HANDWRITTEN) + [READ_GRAMMAR.sample(rng, "read") for _ in range(800)]
    k = 150
    greedy = diphone_coverage([pool[i] for i in select_by_coverage(pool, k)])
    random = [diphone_coverage(list(rng.choice(pool, size=k, replace=False))) for _ in range(5)]
    assert greedy > max(random) + 0.03, (greedy, random)


def test_selection_order_and_size():
    pool = ["Hi.", "Hi.", "The beige garage.", "Oh."]
    chosen = select_by_coverage(pool, 3)
    assert chosen[0] == 2 and len(set(chosen)) == 3  # the sentence with most diphones first


# ---------------------------------------------------------------- corpus sentences
@pytest.fixture(scope="module")
def corpus600() -> list[Sentence]:
    return corpus_sentences(600, seed=0)


def test_corpus_is_deterministic_for_a_seed(corpus600):
    assert corpus_sentences(600, seed=0) == corpus600
    assert corpus_sentences(600, seed=1) != corpus600


def test_corpus_is_the_same_in_a_fresh_process():
    """No result may depend on set order, which changes with Python's string hash seed."""
    code = ("from voicelab.data.grammar import corpus_sentences;"
            "print(repr([s.text for s in corpus_sentences(40, seed=3)]))")
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert fresh == repr([s.text for s in corpus_sentences(40, seed=3)]) + "\n"


def test_corpus_sentences_are_distinct_and_well_formed(corpus600):
    assert [s.sentence_id for s in corpus600] == [f"s{i:04d}" for i in range(1, 601)]
    assert len({normalize_text(s.text) for s in corpus600}) == 600
    assert {s.kind for s in corpus600} == set(KINDS)
    assert sum(s.kind == "read" for s in corpus600) == 300
    for s in corpus600:
        assert MIN_WORDS <= len(normalize_text(s.text).split()) <= MAX_WORDS, s
        assert s.text[0].isupper() and s.text[-1] in ".?!", s


def test_handwritten_sentences_are_distinct_and_well_formed():
    texts = [normalize_text(t) for t in sentences_data.HANDWRITTEN]
    assert len(set(texts)) == len(texts) >= 40
    assert all(MIN_WORDS <= len(t.split()) <= MAX_WORDS for t in texts)


def test_corpus_has_no_oov_words(corpus600):
    assert oov_report(corpus600) == collections.Counter()
    assert oov_report(sentences_data.HANDWRITTEN) == collections.Counter()


def test_read_sentences_cover_more_diphones_than_prompts(corpus600):
    read = [s for s in corpus600 if s.kind == "read"]
    prompts = [s for s in corpus600 if s.kind != "read"]
    assert diphone_coverage(read) > diphone_coverage(prompts) + 0.1


def test_read_fraction_and_sizes():
    assert {s.kind for s in corpus_sentences(20, read_fraction=0)} <= {"command", "question", "statement"}
    assert {s.kind for s in corpus_sentences(20, read_fraction=1)} == {"read"}
    assert len(corpus_sentences(1)) == 1


def test_thousand_sentences_are_quick():
    start = time.perf_counter()
    sentences = corpus_sentences(1000, seed=5)
    assert time.perf_counter() - start < 5.0
    assert len({s.text for s in sentences}) == 1000


def test_sentence_is_frozen(corpus600):
    with pytest.raises(dataclasses.FrozenInstanceError):
        corpus600[0].text = "changed"


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, r"n=0 must be a positive integer"),
    ({"n": 2.5}, r"n=2.5"),
    ({"n": "10"}, r"n='10'"),
    ({"n": 10, "seed": -1}, r"seed=-1 must be a non-negative integer"),
    ({"n": 10, "read_fraction": 1.5}, r"read_fraction=1.5 must be a number in \[0, 1\]"),
])
def test_bad_corpus_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        corpus_sentences(**kwargs)
