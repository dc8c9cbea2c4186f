"""VoiceGAN: a Wasserstein GAN with gradient penalty that samples speaker embeddings of new voices.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``. The decoder of SpeechSplit
speaks in any voice given as a resemblyzer embedding; VoiceGAN learns the
*distribution* of the training speakers' embeddings, so a draw of noise gives a voice
no training speaker has (Gulrajani et al., 2017):

- the **generator** maps noise ``[B, noise_dim]`` through an MLP to a unit vector
  ``[B, embedding_dim]`` with non-negative entries (resemblyzer's embeddings are
  ReLU outputs, L2-normalised, so real ones live there too);
- the **critic** scores an embedding (an MLP, no normalisation layers: the penalty
  is per example); it is trained to raise real scores and lower generated ones,
  ``mean(fake) - mean(real)``, plus 10 x the gradient penalty, ``n_critic`` times per
  generator update; the generator lowers ``-mean(critic(fake))``.

The critic's input gradient, which the penalty needs, is backend work
(:func:`voicelab.train.backend_steps.input_gradient_norm`), and so are the two
optimizers' updates (:func:`voicelab.train.backend_steps.minimize`); the rest is
``keras.ops``.

Example
-------
>>> gan = VoiceGAN(VoiceGANConfig(embedding_dim=8, noise_dim=4, hidden=16))
>>> gan.compile()
>>> voices = sample_voices(gan.generator, 3, seed=0)
>>> voices.shape, bool(np.allclose(np.linalg.norm(voices, axis=1), 1.0)), bool((voices >= 0).all())
((3, 8), True, True)
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from voicelab.errors import ParameterError
from voicelab.models.layers import TwoNetworkGAN, register
from voicelab.models.losses import gradient_penalty, wasserstein_critic_loss
from voicelab.train import backend_steps


@dataclasses.dataclass(frozen=True)
class VoiceGANConfig:
    """Sizes and training constants of VoiceGAN (the WGAN-GP paper's: 5 critic steps, penalty 10, Adam(1e-4, 0.5, 0.9))."""

    embedding_dim: int = 256
    noise_dim: int = 32
    hidden: int = 256
    n_critic: int = 5
    penalty_weight: float = 10.0
    learning_rate: float = 1e-4
    adam_betas: tuple = (0.5, 0.9)

    def __post_init__(self) -> None:
        object.__setattr__(self, "adam_betas", tuple(float(b) for b in self.adam_betas))
        for name in ("embedding_dim", "noise_dim", "hidden", "n_critic"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not (self.penalty_weight >= 0 and self.learning_rate > 0):
            raise ParameterError("need penalty_weight >= 0 and learning_rate > 0")


@register
class UnitNonNegative(layers.Layer):
    """``relu(x)`` scaled to unit length (where resemblyzer's embeddings live)."""

    def call(self, x):
        x = ops.relu(x) + 1e-6
        return x / ops.norm(x, axis=-1, keepdims=True)


def build_generator(config: VoiceGANConfig) -> keras.Model:
    """Noise ``[B, noise_dim]`` -> unit, non-negative embedding ``[B, embedding_dim]``."""
    return keras.Sequential([
        keras.Input((config.noise_dim,)),
        layers.Dense(config.hidden), layers.LeakyReLU(0.2),
        layers.Dense(config.hidden), layers.LeakyReLU(0.2),
        layers.Dense(config.embedding_dim), UnitNonNegative(),
    ], name="voice_generator")


def build_critic(config: VoiceGANConfig) -> keras.Model:
    """Embedding ``[B, embedding_dim]`` -> score ``[B, 1]``."""
    return keras.Sequential([
        keras.Input((config.embedding_dim,)),
        layers.Dense(config.hidden), layers.LeakyReLU(0.2),
        layers.Dense(config.hidden), layers.LeakyReLU(0.2),
        layers.Dense(1),
    ], name="voice_critic")


def _real_batch(data):
    """The real embeddings of a ``fit`` batch: an array, or the first item of a tuple or list (backends differ)."""
    return ops.convert_to_tensor(data[0] if isinstance(data, (tuple, list)) else data)


class VoiceGAN(TwoNetworkGAN):
    """Generator and critic of speaker embeddings, trained by ``fit`` on batches of real embeddings ``[B, D]``.

    Logs ``critic_loss`` (Wasserstein estimate plus penalty), ``wasserstein`` (``mean(real)
    - mean(fake)`` scores: the distance estimate, falling as the generator learns),
    ``penalty`` and ``g_loss``. Save :attr:`generator` alone (``export`` of
    :func:`voicelab.train.train_or_load`).
    """

    def __init__(self, config: VoiceGANConfig | None = None, **kwargs) -> None:
        super().__init__(**{"name": "voicegan", **kwargs})
        self.config = config or VoiceGANConfig()
        self.generator = build_generator(self.config)
        self.critic = build_critic(self.config)
        self.seed = keras.random.SeedGenerator(0)
        self.trackers = [keras.metrics.Mean(name=n) for n in ("critic_loss", "wasserstein", "penalty", "g_loss")]
        self.built = True

    def compile(self, **kwargs) -> None:
        c = self.config
        self.g_optimizer = keras.optimizers.Adam(c.learning_rate, beta_1=c.adam_betas[0], beta_2=c.adam_betas[1])
        self.d_optimizer = keras.optimizers.Adam(c.learning_rate, beta_1=c.adam_betas[0], beta_2=c.adam_betas[1])
        super().compile(optimizer=self.g_optimizer, jit_compile=False, **kwargs)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.critic.trainable_variables)

    def _noise(self, batch_size):
        return keras.random.normal((batch_size, self.config.noise_dim), seed=self.seed)

    def train_step(self, data):
        real = _real_batch(data)
        batch_size = ops.shape(real)[0]
        c = self.config
        parts = {}

        def critic_loss():
            fake = ops.stop_gradient(self.generator(self._noise(batch_size), training=True))
            distance = -wasserstein_critic_loss(self.critic(real, training=True), self.critic(fake, training=True))
            penalty = gradient_penalty(self.critic, real, fake, seed=self.seed)
            parts["wasserstein"], parts["penalty"] = ops.stop_gradient(distance), ops.stop_gradient(penalty)
            return -distance + c.penalty_weight * penalty

        for _ in range(c.n_critic):
            c_loss, _ = backend_steps.minimize(self, critic_loss, self.critic.trainable_variables, self.d_optimizer)

        def generator_loss():
            return -ops.mean(self.critic(self.generator(self._noise(batch_size), training=True), training=True))

        g_loss, _ = backend_steps.minimize(self, generator_loss, self.generator.trainable_variables, self.g_optimizer)
        values = {"critic_loss": c_loss, "wasserstein": parts["wasserstein"], "penalty": parts["penalty"],
                  "g_loss": g_loss}
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {t.name: t.result() for t in self.trackers}

    def test_step(self, data):
        real = _real_batch(data)
        fake = self.generator(self._noise(ops.shape(real)[0]), training=False)
        distance = -wasserstein_critic_loss(self.critic(real), self.critic(fake))
        self.trackers[1].update_state(distance)
        return {"wasserstein": self.trackers[1].result()}


def sample_voices(generator: keras.Model, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` new voices ``[n, embedding_dim]`` from a trained generator (numpy noise, reproducible by ``seed``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n={n!r} must be a positive integer")
    noise = np.random.default_rng(seed).standard_normal((n, generator.input_shape[-1])).astype("float32")
    return ops.convert_to_numpy(generator(noise, training=False))


def nearest_speakers(voices: np.ndarray, speakers: dict[str, np.ndarray]) -> list[tuple[str, float]]:
    """For each voice, the training speaker of highest cosine similarity and that similarity.

    >>> nearest_speakers(np.array([[1.0, 0.0]]), {"a": np.array([0.0, 1.0]), "b": np.array([2.0, 0.1])})
    [('b', 0.9988)]
    """
    names = list(speakers)
    table = np.stack([np.asarray(speakers[k], np.float64) for k in names])
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    v = np.asarray(voices, np.float64)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    sims = v @ table.T
    return [(names[int(i)], round(float(s[i]), 4)) for s, i in zip(sims, sims.argmax(1))]
