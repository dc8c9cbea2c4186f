"""Alignment: monotonic alignment search, durations, forward-sum loss, a learned aligner.

The synthetic problems have a known answer: mel frames are generated from a symbol
sequence with known durations (one prototype vector per symbol, plus noise).
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.errors import ParameterError
from voicelab.models.align import (
    AlignerConfig,
    build_aligner,
    durations_from_alignment,
    extract_durations,
    forward_sum_loss,
    monotonic_alignment_search,
)

pytestmark = [pytest.mark.backend, pytest.mark.usefixtures("one_torch_thread")]



V, N_MELS = 12, 16


def synthetic(rng, n, *, noise=0.3, durations=(2, 6), lengths=(4, 8)):
    """``n`` utterances: (symbols, durations, mel) with mel = prototype[symbol] + noise."""
    table = np.random.default_rng(11).normal(size=(V, N_MELS)) * 1.5 - 5
    items = []
    for _ in range(n):
        n_symbols = rng.integers(*lengths, endpoint=True)
        symbols = [rng.integers(1, V)]
        while len(symbols) < n_symbols:
            s = rng.integers(1, V)
            if s != symbols[-1]:  # a repeated neighbour has no boundary to find
                symbols.append(s)
        d = rng.integers(*durations, size=len(symbols), endpoint=True)
        mel = np.repeat(table[symbols], d, axis=0) + noise * rng.normal(size=(d.sum(), N_MELS))
        items.append((np.array(symbols), d, mel.astype("float32")))
    return items, table


def pad(items):
    """Padded dict batch and the true durations ``[B, L]``."""
    B = len(items)
    L = max(len(s) for s, _, _ in items)
    F = max(len(m) for _, _, m in items)
    batch = {"tokens": np.zeros((B, L), "int32"), "mel": np.zeros((B, F, N_MELS), "float32"),
             "token_length": np.array([len(s) for s, _, _ in items], "int32"),
             "mel_length": np.array([len(m) for _, _, m in items], "int32")}
    true = np.zeros((B, L), "int32")
    for b, (s, d, m) in enumerate(items):
        batch["tokens"][b, :len(s)], batch["mel"][b, :len(m)], true[b, :len(s)] = s, m, d
    return batch, true


def all_monotonic_paths(n_frames, n_symbols):
    """Every path of :func:`monotonic_alignment_search`'s family, by brute force."""
    for cuts in itertools.combinations(range(1, n_frames), n_symbols - 1):
        bounds = (0,) + cuts + (n_frames,)
        yield np.repeat(np.arange(n_symbols), np.diff(bounds))


# ----------------------------------------------------------------- dynamic programming
def test_mas_finds_the_best_path_brute_force(rng):
    for _ in range(30):
        n_frames, n_symbols = rng.integers(1, 8), rng.integers(1, 5)
        if n_frames < n_symbols:
            continue
        log_prob = rng.normal(size=(n_frames, n_symbols))
        best = max(log_prob[np.arange(n_frames), s].sum() for s in all_monotonic_paths(n_frames, n_symbols))
        path = monotonic_alignment_search(log_prob)
        assert (path.sum(1) == 1).all() and path[0, 0] == 1 and path[-1, -1] == 1
        assert (np.diff(path.argmax(1)) >= 0).all() and (np.diff(path.argmax(1)) <= 1).all()
        assert (path * log_prob).sum() == pytest.approx(best)


def test_mas_recovers_known_durations_from_oracle_scores(rng):
    items, table = synthetic(rng, 1, noise=0.5, lengths=(20, 20), durations=(1, 9))
    symbols, true, mel = items[0]
    log_prob = -0.5 * ((mel[:, None, :] - table[symbols][None]) ** 2).sum(-1)  # Gaussian log-likelihood
    durations = durations_from_alignment(monotonic_alignment_search(log_prob))
    np.testing.assert_array_equal(durations, true)


def test_mas_with_padding_and_errors(rng):
    log_prob = rng.normal(size=(9, 4))
    padded = np.pad(log_prob, ((0, 3), (0, 2)), constant_values=-1e9)
    path = monotonic_alignment_search(padded, mel_length=9, token_length=4)
    np.testing.assert_array_equal(path[:9, :4], monotonic_alignment_search(log_prob))
    assert not path[9:].any() and not path[:, 4:].any()
    with pytest.raises(ParameterError, match="mel_length=3 < token_length=4"):
        monotonic_alignment_search(log_prob[:3])
    with pytest.raises(ParameterError, match="shape"):
        monotonic_alignment_search(np.zeros(5))
    with pytest.raises(ParameterError, match="token_length=7"):
        monotonic_alignment_search(log_prob, token_length=7)


def test_durations_sum_exactly_to_mel_length(rng):
    for _ in range(50):
        n_frames, n_symbols = rng.integers(3, 60), rng.integers(1, 12)
        n_frames = max(n_frames, n_symbols)
        soft = rng.dirichlet(np.full(n_symbols, 0.3), size=n_frames)  # rows are probabilities
        padded = np.pad(soft, ((0, 2), (0, 3)))
        d = durations_from_alignment(padded, mel_length=n_frames, token_length=n_symbols)
        assert d.sum() == n_frames and d.dtype == np.int32 and not d[n_symbols:].any()
        assert np.abs(d[:n_symbols] - soft.sum(0)).max() < 1  # rounding moves no column by 1 frame
        hard = monotonic_alignment_search(np.log(soft + 1e-9))
        d_hard = durations_from_alignment(hard)
        assert d_hard.sum() == n_frames and d_hard.min() >= 1
    with pytest.raises(ParameterError, match="non-negative"):
        durations_from_alignment(-np.ones((3, 2)))


# ----------------------------------------------------------------- forward-sum loss
def test_forward_sum_loss_prefers_the_true_alignment_and_ignores_padding(rng):
    items, _ = synthetic(rng, 3)
    batch, true = pad(items)
    B, F, L = len(items), batch["mel"].shape[1], batch["tokens"].shape[1]

    def attention(durations, sharpness):
        """log_attention that puts ``sharpness`` nats more on the given path."""
        logits = np.zeros((B, F, L), "float32")
        for b in range(B):
            owner = np.repeat(np.arange(L), durations[b])
            logits[b, np.arange(len(owner)), owner] = sharpness
        logits[batch["tokens"][:, None, :].repeat(F, 1) == 0] = -1e9
        return ops.convert_to_numpy(ops.log_softmax(logits, axis=-1))

    def loss(log_attention, b=slice(None)):
        return float(forward_sum_loss(log_attention[b], batch["token_length"][b], batch["mel_length"][b]))

    good = attention(true, 8.0)
    wrong = true.copy()
    for b in range(B):  # move one frame from the first symbol to the last
        wrong[b, 0] -= 1
        wrong[b, len(items[b][0]) - 1] += 1
    assert np.isfinite(loss(good)) and loss(good) < loss(attention(wrong, 8.0))
    # item 1 alone, cut to its lengths, has the same loss as inside the padded batch
    n, f = batch["token_length"][1], batch["mel_length"][1]
    alone = float(forward_sum_loss(good[1:2, :f, :n], batch["token_length"][1:2], batch["mel_length"][1:2]))
    per_item = [loss(good, slice(b, b + 1)) for b in range(B)]
    assert alone == pytest.approx(per_item[1], rel=1e-5)
    assert loss(good) == pytest.approx(np.mean(per_item), rel=1e-5)


# ----------------------------------------------------------------- learned aligner
def test_aligner_learns_known_durations(rng, tmp_path):
    keras.utils.set_random_seed(0)
    train, _ = pad(synthetic(rng, 128)[0])
    aligner = build_aligner(AlignerConfig(vocab_size=V, embed_dim=32, channels=32), N_MELS,
                            learning_rate=3e-3)
    history = aligner.fit(train, batch_size=16, epochs=12, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 3

    batch, true = pad(synthetic(rng, 32)[0])
    durations = extract_durations(aligner, batch)
    np.testing.assert_array_equal(durations.sum(1), batch["mel_length"])
    real = batch["tokens"] > 0
    error = np.abs(durations - true)[real]
    assert not durations[~real].any()
    assert error.mean() < 0.5 and (error <= 1).mean() >= 0.95, error

    aligner.save(tmp_path / "aligner.keras")
    loaded = keras.models.load_model(tmp_path / "aligner.keras")
    np.testing.assert_array_equal(extract_durations(loaded, batch), durations)


def test_aligner_config_errors():
    from voicelab.text import SYMBOLS

    assert AlignerConfig().vocab_size == len(SYMBOLS)
    with pytest.raises(ParameterError, match="channels=0"):
        AlignerConfig(channels=0)
    with pytest.raises(ParameterError, match="n_mels=0"):
        build_aligner(AlignerConfig(vocab_size=V), 0)
