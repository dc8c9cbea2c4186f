"""WGAN-GP: the critic loss, the gradient penalty and notebook 05's VoiceGAN, both backends."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.models.losses import gradient_penalty, wasserstein_critic_loss
from voicelab.train.backend_steps import input_gradient_norm

pytestmark = pytest.mark.backend


def linear_critic(weights):
    critic = keras.Sequential([keras.Input((len(weights),)), keras.layers.Dense(1)])
    critic.layers[0].set_weights([np.asarray(weights, "float32")[:, None], np.zeros(1, "float32")])
    return critic


def penalty_and_its_gradient(critic, real, fake):
    """The penalty and its gradient with respect to the critic's kernel, the backend's way."""
    kernel = critic.layers[0].kernel
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            penalty = gradient_penalty(critic, real, fake, seed=0)
        return float(penalty), ops.convert_to_numpy(tape.gradient(penalty, kernel.value))
    critic.zero_grad()
    penalty = gradient_penalty(critic, real, fake, seed=0)
    penalty.backward()
    return float(penalty.detach()), ops.convert_to_numpy(kernel.value.grad)


def test_a_linear_critics_input_gradient_is_its_weight_vector(rng, one_torch_thread):
    critic = linear_critic([3.0, 4.0])
    norms = ops.convert_to_numpy(input_gradient_norm(critic, rng.standard_normal((5, 2)).astype("float32")))
    np.testing.assert_allclose(norms, 5.0, rtol=1e-5)


def test_gradient_penalty_on_a_known_case_and_its_gradient(rng, one_torch_thread):
    """For ``D(x) = w.x``: penalty ``(|w| - 1)^2`` and d/dw ``2 (|w| - 1) w / |w|``, wherever x is."""
    w = np.array([3.0, 4.0])
    real, fake = rng.standard_normal((6, 2)).astype("float32"), rng.standard_normal((6, 2)).astype("float32")
    penalty, grad = penalty_and_its_gradient(linear_critic(w), real, fake)
    assert penalty == pytest.approx(16.0, rel=1e-5)
    np.testing.assert_allclose(grad[:, 0], 2 * (5 - 1) * w / 5, rtol=1e-4)
    unit, _ = penalty_and_its_gradient(linear_critic([0.6, 0.8]), real, fake)
    assert unit == pytest.approx(0.0, abs=1e-6)


def test_critic_loss_raises_real_scores_and_lowers_fake_ones():
    assert float(wasserstein_critic_loss(np.array([2.0, 4.0]), np.array([-1.0, 1.0]))) == -3.0


def test_voicegan_learns_where_the_real_voices_are(rng, one_torch_thread):
    """Two clusters of unit, non-negative "embeddings": after a short fit the samples sit near them."""
    from voicelab.models.voicegan import VoiceGAN, VoiceGANConfig, nearest_speakers, sample_voices

    keras.utils.set_random_seed(0)
    centres = {"a": np.eye(8)[0] + 0.3 * np.eye(8)[1], "b": np.eye(8)[5] + 0.3 * np.eye(8)[6]}
    real = np.concatenate([np.abs(c + 0.05 * rng.standard_normal((64, 8))) for c in centres.values()])
    real = (real / np.linalg.norm(real, axis=1, keepdims=True)).astype("float32")
    gan = VoiceGAN(VoiceGANConfig(embedding_dim=8, noise_dim=4, hidden=32, learning_rate=1e-3))
    gan.compile()

    def closeness():
        return np.mean([s for _, s in nearest_speakers(sample_voices(gan.generator, 64, seed=1), centres)])

    before = closeness()
    history = gan.fit(real, epochs=60, batch_size=32, shuffle=True, verbose=0).history
    after = closeness()
    assert after > 0.9 and after > before + 0.1, (before, after)
    assert np.isfinite(history["penalty"]).all() and np.isfinite(history["wasserstein"]).all()
