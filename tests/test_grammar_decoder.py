"""Decoding held to a grammar: the CTC forward algorithm, the shortlist, the grammar's sentences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from keras import ops

from voicelab.data.commands import default_grammar, parse
from voicelab.errors import ParameterError
from voicelab.models.grammar_decoder import GrammarDecoder, ctc_log_likelihood
from voicelab.models.recogniser import ALPHABET, encode_text, greedy_decode

BLANK = len(ALPHABET)


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def collapse(path, blank):
    out = [k for i, k in enumerate(path) if k != blank and (i == 0 or k != path[i - 1])]
    return tuple(out)


def test_the_forward_algorithm_sums_every_alignment(rng):
    """Brute force: every path of T frames over C classes that collapses to the labels."""
    t, c, blank = 5, 3, 2
    lp = log_softmax(rng.normal(size=(t, c)))
    labels = [(0,), (0, 1), (0, 0), (1, 0, 1), (0, 0, 0)]
    width = max(map(len, labels))
    padded = np.array([list(seq) + [0] * (width - len(seq)) for seq in labels])
    got = ctc_log_likelihood(lp, padded, np.array([len(s) for s in labels]), blank)
    for seq, value in zip(labels, got):
        total = sum(np.exp(lp[np.arange(t), list(path)].sum())
                    for path in itertools.product(range(c), repeat=t) if collapse(path, blank) == seq)
        if total == 0:
            assert value == -np.inf
        else:
            np.testing.assert_allclose(np.exp(value), total, rtol=1e-9)
    # (0, 0, 0) needs a - a - a: 5 frames fit it (one path), 4 do not
    np.testing.assert_allclose(ctc_log_likelihood(lp[:4], padded[-1:], np.array([3]), blank), [-np.inf])


def test_it_agrees_with_the_backends_ctc_loss(rng):
    lp = log_softmax(rng.normal(size=(30, BLANK + 1))).astype("float32")
    texts = ["call anna", "lights off", "play jazz in the hall", "a"]
    labels = np.zeros((len(texts), 21), "int32")
    for i, text in enumerate(texts):
        labels[i, : len(text)] = encode_text(text)
    lengths = np.array([len(t) for t in texts], "int32")
    ours = ctc_log_likelihood(lp, labels, lengths, BLANK)
    theirs = -ops.convert_to_numpy(ops.ctc_loss(labels, np.repeat(lp[None], len(texts), 0), lengths,
                                                np.full(len(texts), 30, "int32"), mask_index=BLANK))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def path_of(text, repeat=2, noise=0.05, rng=None):
    """Log-probs of a clip that says ``text``: each character held ``repeat`` frames, blanks between."""
    frames = []
    for ch in text:
        frames += [int(encode_text(ch)[0])] * repeat + [BLANK]
    probs = np.full((len(frames), BLANK + 1), noise / BLANK)
    probs[np.arange(len(frames)), frames] = 1 - noise
    if rng is not None:
        probs = probs * rng.uniform(0.5, 1.5, probs.shape)
    return np.log(probs / probs.sum(1, keepdims=True))


def test_the_decoder_picks_the_sentence_said_even_from_a_blurred_output(rng):
    decoder = GrammarDecoder.from_grammar(shortlist=16)
    lp = path_of("turn on the lights in the kitchen", rng=rng)
    # blur two characters: best path now misspells the sentence
    lp[3 * 5: 3 * 5 + 2] = np.log(np.full(BLANK + 1, 1 / (BLANK + 1)))
    assert greedy_decode(lp[None], [len(lp)])[0] != "turn on the lights in the kitchen"
    text, command, score = decoder.decode(lp)
    assert text == "turn on the lights in the kitchen"
    assert command.intent == "lights_on" and command.slot_values == {"room": "kitchen"}
    assert np.isfinite(score)
    every = GrammarDecoder.from_grammar(shortlist=None)
    assert every.decode(lp)[0] == text


def test_the_grammars_sentences_are_its_whole_language():
    g = default_grammar()
    every = g.sentences()
    assert len({c.text for c in every}) == len(every)
    per_template = {t.id: int(np.prod([len(g.values[s]) for s in t.slots])) for t in g.templates}
    assert len(every) == sum(per_template.values())
    train = g.sentences(phrasings="train", values="train")
    assert not any(c.template in g.test_phrasings for c in train)
    assert not any(set(c.slot_values.values()) & g.test_values for c in train)
    held = g.sentences(phrasings="held_out")
    assert held and all(c.template in g.test_phrasings for c in held)
    for c in every[::97]:
        assert parse(c.text, g) == (c.intent, c.slot_values)


@pytest.mark.parametrize("bad", [dict(sentences=[]), dict(sentences=["call anna", ""]),
                                 dict(sentences=["call Anna!"]), dict(sentences=["call anna"], shortlist=0)])
def test_bad_decoders_are_refused(bad):
    with pytest.raises(ParameterError):
        GrammarDecoder(**bad)


def test_bad_outputs_are_refused():
    decoder = GrammarDecoder(["call anna"])
    with pytest.raises(ParameterError, match="log_probs"):
        decoder.decode(np.zeros((10, 5)))
    with pytest.raises(ParameterError, match="phrasings"):
        default_grammar().sentences(phrasings="some")
