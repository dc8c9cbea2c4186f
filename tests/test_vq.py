"""The VQ-VAE bottleneck (``voicelab.models.vq``): nearest codes, straight-through gradient,
commitment, EMA updates, dead-code restart, k-means start, perplexity. Both backends."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.errors import ParameterError
from voicelab.models.vq import VectorQuantizer, perplexity

pytestmark = pytest.mark.backend


def numpy(x) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(x))


def gradient(fn, x: np.ndarray) -> np.ndarray:
    """d sum(fn(x)) / dx on the current backend."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = ops.sum(fn(x))
        return tape.gradient(y, x).numpy()
    import torch

    x = torch.tensor(x, requires_grad=True)
    ops.sum(fn(x)).backward()
    return x.grad.detach().numpy()


def corners_quantizer(**kwargs) -> VectorQuantizer:
    vq = VectorQuantizer(4, 2, **kwargs)
    vq.codebook.assign(np.array([[0, 0], [1, 0], [0, 1], [1, 1]], "float32"))
    vq.ema_sum.assign(numpy(vq.codebook))
    return vq


def test_nearest_code_and_straight_through_gradient(rng):
    vq = corners_quantizer()
    x = np.array([[[0.9, 0.2], [0.1, 0.8], [0.6, 0.7]]], "float32")
    q, codes, commitment = vq(x)
    assert numpy(codes).tolist() == [[1, 2, 3]]
    np.testing.assert_allclose(numpy(q)[0], [[1, 0], [0, 1], [1, 1]])
    expected = 0.25 * np.mean(np.sum((x[0] - numpy(q)[0]) ** 2, axis=-1)) / 2
    assert float(numpy(commitment)) == pytest.approx(expected, rel=1e-5)
    weights = rng.normal(size=x.shape).astype("float32")
    # straight through: the gradient reaches the encoder's output unchanged
    np.testing.assert_allclose(gradient(lambda t: ops.multiply(vq(t)[0], weights), x), weights, atol=1e-6)
    # the commitment loss pulls the encoder towards its codes: d/dx = 2 * 0.25 * (x - q) / (frames * dim)
    np.testing.assert_allclose(gradient(lambda t: vq(t)[2], x), 0.5 * (x - numpy(q)) / 6, atol=1e-6)


def test_ema_update_on_a_known_batch():
    vq = corners_quantizer(decay=0.9, restart_threshold=0.0, epsilon=0.0)
    x = np.array([[[0.8, 0.0], [0.6, 0.2], [0.1, 0.9], [0.0, 0.1]]], "float32")   # codes 1, 1, 2, 0
    vq(x, training=True)
    counts = 0.9 * np.ones(4) + 0.1 * np.array([1, 2, 1, 0])
    sums = 0.9 * np.array([[0, 0], [1, 0], [0, 1], [1, 1]]) + 0.1 * np.array(
        [[0.0, 0.1], [1.4, 0.2], [0.1, 0.9], [0, 0]])
    np.testing.assert_allclose(numpy(vq.ema_count), counts, rtol=1e-6)
    np.testing.assert_allclose(numpy(vq.codebook), sums / counts[:, None], rtol=1e-5)
    assert numpy(vq.codebook)[1, 0] < 1.0          # code 1 moved towards its frames (mean 0.7, 0.1)


def test_padding_changes_neither_codebook_nor_loss():
    x = np.array([[[0.8, 0.0], [0.6, 0.2], [9.0, 9.0]]], "float32")     # the last frame is padding
    mask = np.array([[1, 1, 0]], "float32")
    masked, plain = corners_quantizer(restart_threshold=0.0), corners_quantizer(restart_threshold=0.0)
    _, _, loss_masked = masked(x, frame_mask=mask, training=True)
    _, _, loss_plain = plain(x[:, :2], training=True)
    assert float(numpy(loss_masked)) == pytest.approx(float(numpy(loss_plain)), rel=1e-5)
    np.testing.assert_allclose(numpy(masked.codebook), numpy(plain.codebook), rtol=1e-6)


def test_a_dead_code_restarts_on_a_real_frame():
    vq = corners_quantizer(restart_threshold=0.01)
    vq.codebook.assign(np.array([[0, 0], [1, 0], [0, 1], [50, 50]], "float32"))    # code 3: far from all data
    vq.ema_count.assign(np.array([1, 1, 1, 0.005], "float32"))                     # and unused for long
    x = np.array([[[0.9, 0.1], [0.1, 0.9], [0.2, 0.1], [7.0, 7.0]]], "float32")
    mask = np.array([[1, 1, 1, 0]], "float32")
    vq(x, frame_mask=mask, training=True)
    restarted = numpy(vq.codebook)[3]
    assert any(np.allclose(restarted, frame) for frame in x[0, :3])                # a real frame, not padding
    assert numpy(vq.ema_count)[3] == pytest.approx(1.0)
    assert np.allclose(numpy(vq.codebook)[:3], numpy(corners_quantizer().codebook)[:3], atol=0.02)  # the others: EMA


def test_kmeans_start_uses_every_code(rng):
    centres = np.array([[0, 0], [5, 0], [0, 5], [5, 5]], "float32")
    frames = np.concatenate([c + rng.normal(0, 0.1, (50, 2)) for c in centres]).astype("float32")
    vq = VectorQuantizer(4, 2)
    vq.initialize(frames)
    found = numpy(vq.codebook)
    assert all(np.min(np.linalg.norm(found - c, axis=1)) < 0.1 for c in centres)
    codes = numpy(vq(frames[None])[1])
    assert float(numpy(perplexity(codes, 4))) == pytest.approx(4.0, rel=1e-3)
    with pytest.raises(ParameterError, match="finite"):
        vq.initialize(np.full((3, 2), np.nan, "float32"))


def test_perplexity_counts_used_codes():
    assert float(numpy(perplexity(np.array([[0, 1, 2, 3]]), 16))) == pytest.approx(4.0)
    assert float(numpy(perplexity(np.array([[7, 7, 7, 7]]), 16))) == pytest.approx(1.0)
    masked = perplexity(np.array([[0, 1, 2, 3]]), 16, mask=np.array([[1, 1, 0, 0]]))
    assert float(numpy(masked)) == pytest.approx(2.0)


def test_saves_and_loads_with_its_codebook(tmp_path, rng):
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, VectorQuantizer(8, 3, commitment_cost=0.5, name="vq")(inputs)[1])
    vq = model.get_layer("vq")
    vq.initialize(rng.normal(size=(64, 3)).astype("float32"))
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    model.save(tmp_path / "vq.keras")
    loaded = keras.saving.load_model(tmp_path / "vq.keras")
    np.testing.assert_array_equal(numpy(loaded(x)), numpy(model(x)))
    assert loaded.get_layer("vq").commitment_cost == 0.5


def test_bad_arguments_are_parameter_errors():
    with pytest.raises(ParameterError, match="n_codes=0"):
        VectorQuantizer(0, 4)
    with pytest.raises(ParameterError, match="decay=1.0"):
        VectorQuantizer(8, 4, decay=1.0)
    with pytest.raises(ParameterError, match="input width 3"):
        VectorQuantizer(8, 4)(np.zeros((1, 2, 3), "float32"))


class TinyVQAutoencoder(keras.Model):
    """Dense encoder -> VectorQuantizer -> Dense decoder; the commitment loss via ``add_loss``."""

    def __init__(self, n_codes: int = 4) -> None:
        super().__init__()
        self.encoder = keras.layers.Dense(2)
        self.vq = VectorQuantizer(n_codes, 2, restart_threshold=0.5)   # a code unused for ~70 batches restarts
        self.decoder = keras.layers.Dense(6)

    def call(self, x, training=False):
        q, _, commitment = self.vq(self.encoder(x), training=training)
        self.add_loss(commitment)
        return self.decoder(q)


def test_a_vq_autoencoder_trains_with_fit_and_moves_its_codebook(rng):
    """Four prototypes + noise: through 4 codes the reconstruction error falls to the noise level."""
    keras.utils.set_random_seed(0)
    prototypes = rng.normal(0, 1, (4, 6)).astype("float32")
    x = (prototypes[rng.integers(0, 4, 512)] + rng.normal(0, 0.05, (512, 6))).astype("float32")[:, None, :]
    model = TinyVQAutoencoder()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.vq.initialize(numpy(model.encoder(x)).reshape(-1, 2))
    before = numpy(model.vq.codebook).copy()
    first = model.evaluate(x, x, verbose=0)
    model.fit(x, x, batch_size=32, epochs=25, verbose=0)
    assert model.evaluate(x, x, verbose=0) < 0.2 * first
    assert not np.allclose(numpy(model.vq.codebook), before)          # the EMA moved the codes
    codes = numpy(model.vq(model.encoder(x))[1])
    assert float(numpy(perplexity(codes, 4))) > 3.0                   # no collapse onto one or two codes
