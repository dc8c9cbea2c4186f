"""CodeGAN: a StarGAN that turns an utterance's rhythm and pitch codes into those of another emotion.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``. SpeechSplit's swaps need a
real emotional rendition of the same sentence to take its rhythm and pitch codes from;
CodeGAN makes them from the neutral utterance alone, as StarGAN (Choi et al., 2018)
translates an image to any of several domains with one generator:

- the **generator** reads the rhythm and pitch codes ``[B, steps, dim]`` (concatenated,
  standardised with the training codes' statistics) and a target emotion (one-hot, on
  every step), and adds a change to them (its last layer starts at zero: at first it
  returns its input);
- the **discriminator** reads codes and gives one realness score per utterance and one
  logit per emotion (statistics pooling over the steps, as the emotion judge pools);
- the **losses**, for a batch of real codes ``x`` of emotions ``e`` and random targets ``t``:

  - discriminator: least-squares adversarial (Mao et al., 2017: real scores to 1, scores
    of ``G(x, t)`` to 0) + ``classification_weight`` x cross-entropy of its emotion logits
    on the *real* codes against ``e``;
  - generator: least-squares adversarial (its fakes' scores to 1) +
    ``classification_weight`` x cross-entropy of the discriminator's logits on ``G(x, t)``
    against ``t`` + ``cycle_weight`` x L1(``G(G(x, t), e)``, ``x``) (the way back keeps
    what is not emotion) + ``identity_weight`` x L1(``G(x, e)``, ``x``) (StarGAN-VC's
    identity loss: a target it already has changes nothing).

The generator keeps the number of code steps, so a rendition keeps the neutral
utterance's length: CodeGAN moves pitch and the placement of sounds within it, not
the tempo. :func:`codegan_losses` is one batch's terms (the tests check their shapes);
the optimizers' updates are :func:`voicelab.train.backend_steps.minimize`.

Example
-------
>>> gan = CodeGAN(CodeGANConfig(code_dim=3, n_emotions=2, channels=8))
>>> gan.compile()
>>> codes = np.zeros((1, 5, 3), "float32")
>>> out = convert_codes(gan.generator, codes[0], emotion=1)
>>> out.shape, bool(np.allclose(out, codes[0]))     # the untrained generator returns its input
((5, 3), True)
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from voicelab.errors import ParameterError
from voicelab.models.emotion import statistics_pooling
from voicelab.models.layers import ConvBlock, TwoNetworkGAN, build_convs, register, sequence_mask
from voicelab.train import backend_steps

LOSSES = ("d_loss", "d_adversarial", "d_classification", "g_loss", "g_adversarial", "g_classification",
          "cycle", "identity")
"""What :func:`codegan_losses` returns (scalars), and what training logs, with two accuracies."""


@dataclasses.dataclass(frozen=True)
class CodeGANConfig:
    """Sizes and loss weights of CodeGAN.

    Parameters
    ----------
    code_dim : int
        Numbers per code step: the rhythm code's plus the pitch code's.
    n_emotions : int
    channels, n_blocks, kernel_size : int
        Both networks' convolution stacks (over code steps).
    classification_weight, cycle_weight, identity_weight : float
        StarGAN weighs classification 1 and cycle 10, StarGAN-VC identity 5. Here the L1
        terms are means over every number of a code step, and their constant-size
        gradients at 10 and 5 pin the generator at the identity: on two-emotion
        synthetic codes (``tests/test_codegan.py``) it had not moved in 400 steps at
        10 / 5, and reached the target emotion in 200 at 1 / 1.
    learning_rate : float
        Both Adams (betas 0.5, 0.999, as StarGAN).
    code_mean, code_std : tuple of float
        Per-number statistics of the training codes (the generator works on standardised
        codes); ``()``: 0 and 1.
    """

    code_dim: int
    n_emotions: int
    channels: int = 128
    n_blocks: int = 3
    kernel_size: int = 5
    classification_weight: float = 1.0
    cycle_weight: float = 1.0
    identity_weight: float = 1.0
    learning_rate: float = 1e-4
    code_mean: tuple = ()
    code_std: tuple = ()

    def __post_init__(self) -> None:
        for name in ("code_dim", "n_emotions", "channels", "n_blocks", "kernel_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if self.n_emotions < 2:
            raise ParameterError(f"n_emotions={self.n_emotions}: CodeGAN converts between at least two")
        for name in ("code_mean", "code_std"):
            value = tuple(float(v) for v in getattr(self, name))
            if value and len(value) != self.code_dim:
                raise ParameterError(f"{name} has {len(value)} numbers, code_dim is {self.code_dim}")
            object.__setattr__(self, name, value)
        if self.code_std and min(self.code_std) <= 0:
            raise ParameterError("code_std must be positive")
        if min(self.classification_weight, self.cycle_weight, self.identity_weight) < 0 or not self.learning_rate > 0:
            raise ParameterError("loss weights must be >= 0 and learning_rate > 0")

    def standardize(self, codes):
        """Codes -> the networks' units (a tensor)."""
        mean, std = self._statistics()
        return (ops.convert_to_tensor(codes) - mean) / std

    def destandardize(self, codes):
        mean, std = self._statistics()
        return ops.convert_to_tensor(codes) * std + mean

    def _statistics(self):
        # made at each call: a tensor kept from one TensorFlow graph cannot be used in another
        return (ops.convert_to_tensor(np.asarray(self.code_mean or [0.0] * self.code_dim, "float32")),
                ops.convert_to_tensor(np.asarray(self.code_std or [1.0] * self.code_dim, "float32")))


class _CodeNetwork(keras.Model):
    """A network of CodeGAN: its sizes all in a :class:`CodeGANConfig` (a dict when loaded), which saving stores."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = CodeGANConfig(**config) if isinstance(config, dict) else config

    def get_config(self):
        return {"config": dataclasses.asdict(self.config), "name": self.name}

    def get_build_config(self):
        return {"input_shape": None}  # the sizes are all in the config


@register
class CodeGenerator(_CodeNetwork):
    """``{"codes" [B, S, D], "length" [B], "emotion" [B]}`` -> codes ``[B, S, D]`` of that emotion.

    Works in standardised units inside; takes and returns codes as SpeechSplit makes them.
    """

    def __init__(self, config, **kwargs):
        super().__init__(config, **{"name": "code_generator", **kwargs})
        c = self.config
        self.blocks = [ConvBlock(c.channels, c.kernel_size, activation="leaky_relu", name=f"block_{i}")
                       for i in range(c.n_blocks)]
        self.change = layers.Dense(c.code_dim, kernel_initializer="zeros", name="change")
        self.build()

    def build(self, input_shape=None):
        c = self.config
        build_convs(self.blocks, (None, None, c.code_dim + c.n_emotions))
        self.change.build((None, None, c.channels))
        self.built = True

    def call(self, inputs, training=None):
        c = self.config
        x = c.standardize(ops.convert_to_tensor(inputs["codes"]))
        mask = sequence_mask(inputs["length"], ops.shape(x)[1])
        target = ops.one_hot(ops.cast(inputs["emotion"], "int32"), c.n_emotions)
        h = ops.concatenate([x, ops.zeros_like(x[..., :1]) + target[:, None, :]], axis=-1)
        for block in self.blocks:
            h = block(h, mask, training=training)
        return c.destandardize(x + self.change(h) * mask[..., None])


@register
class CodeDiscriminator(_CodeNetwork):
    """``{"codes", "length"}`` -> (realness ``[B]``, emotion logits ``[B, n_emotions]``)."""

    def __init__(self, config, **kwargs):
        super().__init__(config, **{"name": "code_discriminator", **kwargs})
        c = self.config
        self.blocks = [ConvBlock(c.channels, c.kernel_size, activation="leaky_relu", name=f"block_{i}")
                       for i in range(c.n_blocks)]
        self.realness = layers.Dense(1, name="realness")
        self.emotion = layers.Dense(c.n_emotions, name="emotion")
        self.build()

    def build(self, input_shape=None):
        c = self.config
        build_convs(self.blocks, (None, None, c.code_dim))
        self.realness.build((None, 2 * c.channels))
        self.emotion.build((None, 2 * c.channels))
        self.built = True

    def call(self, inputs, training=None):
        h = self.config.standardize(ops.convert_to_tensor(inputs["codes"]))
        mask = sequence_mask(inputs["length"], ops.shape(h)[1])
        for block in self.blocks:
            h = block(h, mask, training=training)
        pooled = statistics_pooling(h, mask)
        return self.realness(pooled)[:, 0], self.emotion(pooled)


def _masked_l1(a, b, length, config: CodeGANConfig):
    """Mean absolute difference over the real steps, in standardised units."""
    mask = sequence_mask(length, ops.shape(a)[1])[..., None]
    diff = ops.abs(config.standardize(a) - config.standardize(b)) * mask
    return ops.sum(diff) / (ops.sum(mask) * config.code_dim)


def _cross_entropy(labels, logits):
    return ops.mean(keras.losses.sparse_categorical_crossentropy(ops.cast(labels, "int32"), logits, from_logits=True))


def discriminator_losses(generator: CodeGenerator, discriminator: CodeDiscriminator, batch: dict, target,
                         training: bool = True) -> dict:
    """The discriminator's terms: ``d_adversarial``, ``d_classification``, ``d_loss``, ``real_accuracy``.

    ``batch`` holds real ``codes [B, S, D]``, their ``length [B]`` (steps) and ``emotion
    [B]``; ``target [B]`` are the emotions to convert to. The generator's output is
    taken through ``stop_gradient``.
    """
    codes, length = batch["codes"], batch["length"]
    fake = ops.stop_gradient(generator({"codes": codes, "length": length, "emotion": target}, training=training))
    real_score, real_logits = discriminator({"codes": codes, "length": length}, training=training)
    fake_score, _ = discriminator({"codes": fake, "length": length}, training=training)
    out = {"d_adversarial": ops.mean(ops.square(real_score - 1.0)) + ops.mean(ops.square(fake_score)),
           "d_classification": _cross_entropy(batch["emotion"], real_logits),
           "real_accuracy": _accuracy(batch["emotion"], real_logits)}
    out["d_loss"] = out["d_adversarial"] + generator.config.classification_weight * out["d_classification"]
    return out


def generator_losses(generator: CodeGenerator, discriminator: CodeDiscriminator, batch: dict, target,
                     training: bool = True) -> dict:
    """The generator's terms: ``g_adversarial``, ``g_classification``, ``cycle``, ``identity``, ``g_loss``,
    ``fake_accuracy`` (arguments as :func:`discriminator_losses`)."""
    c = generator.config
    codes, length, emotion = batch["codes"], batch["length"], batch["emotion"]
    fake = generator({"codes": codes, "length": length, "emotion": target}, training=training)
    fake_score, fake_logits = discriminator({"codes": fake, "length": length}, training=training)
    back = generator({"codes": fake, "length": length, "emotion": emotion}, training=training)
    same = generator({"codes": codes, "length": length, "emotion": emotion}, training=training)
    out = {"g_adversarial": ops.mean(ops.square(fake_score - 1.0)),
           "g_classification": _cross_entropy(target, fake_logits),
           "cycle": _masked_l1(back, codes, length, c),
           "identity": _masked_l1(same, codes, length, c),
           "fake_accuracy": _accuracy(target, fake_logits)}
    out["g_loss"] = (out["g_adversarial"] + c.classification_weight * out["g_classification"]
                     + c.cycle_weight * out["cycle"] + c.identity_weight * out["identity"])
    return out


def codegan_losses(generator: CodeGenerator, discriminator: CodeDiscriminator, batch: dict, target,
                   training: bool = True) -> dict:
    """Every term of one batch, both networks': ``{name: scalar}`` for :data:`LOSSES` and the two accuracies."""
    return (discriminator_losses(generator, discriminator, batch, target, training)
            | generator_losses(generator, discriminator, batch, target, training))


def _accuracy(labels, logits):
    hits = ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), ops.cast(labels, "int32"))
    return ops.mean(ops.cast(hits, "float32"))


class CodeGAN(TwoNetworkGAN):
    """Generator and discriminator of emotion codes, trained by ``fit`` on batches ``{"codes", "length", "emotion"}``.

    Each step: one discriminator update, then one generator update, with targets drawn
    uniformly from the emotions. Logs the terms of :data:`LOSSES` and ``real_accuracy``
    (the discriminator's emotion logits on real codes: how much emotion the codes carry)
    and ``fake_accuracy`` (on converted codes, against their targets: how far the
    generator moves them). Save :attr:`generator` alone (``export`` of
    :func:`voicelab.train.train_or_load`).
    """

    def __init__(self, config: CodeGANConfig, **kwargs) -> None:
        super().__init__(**{"name": "codegan", **kwargs})
        self.config = config
        self.generator = CodeGenerator(config)
        self.discriminator = CodeDiscriminator(config)
        self.seed = keras.random.SeedGenerator(0)
        self.trackers = [keras.metrics.Mean(name=n) for n in (*LOSSES, "real_accuracy", "fake_accuracy")]
        self.built = True

    def compile(self, **kwargs) -> None:
        lr = self.config.learning_rate
        self.g_optimizer = keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.999)
        self.d_optimizer = keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.999)
        super().compile(optimizer=self.g_optimizer, jit_compile=False, **kwargs)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def _targets(self, batch):
        n = ops.shape(batch["emotion"])[0]
        return keras.random.randint((n,), 0, self.config.n_emotions, seed=self.seed)

    def train_step(self, data):
        batch, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        target = self._targets(batch)
        terms = {}

        def d_loss():
            terms.update(discriminator_losses(self.generator, self.discriminator, batch, target))
            return terms["d_loss"]

        def g_loss():
            terms.update(generator_losses(self.generator, self.discriminator, batch, target))
            return terms["g_loss"]

        backend_steps.minimize(self, d_loss, self.discriminator.trainable_variables, self.d_optimizer)
        backend_steps.minimize(self, g_loss, self.generator.trainable_variables, self.g_optimizer)
        for tracker in self.trackers:
            tracker.update_state(ops.stop_gradient(terms[tracker.name]))
        return {t.name: t.result() for t in self.trackers}

    def test_step(self, data):
        batch, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        terms = codegan_losses(self.generator, self.discriminator, batch, self._targets(batch), training=False)
        for tracker in self.trackers:
            tracker.update_state(terms[tracker.name])
        return {t.name: t.result() for t in self.trackers}


def convert_codes(generator: CodeGenerator, codes, *, emotion: int) -> np.ndarray:
    """One utterance's codes ``[steps, code_dim]`` converted to emotion id ``emotion``."""
    c = generator.config
    codes = np.asarray(codes, "float32")
    if codes.ndim != 2 or codes.shape[1] != c.code_dim or len(codes) < 1 or not np.isfinite(codes).all():
        raise ParameterError(f"codes must be finite [steps, {c.code_dim}], got shape {codes.shape}")
    if isinstance(emotion, bool) or not isinstance(emotion, (int, np.integer)) or not 0 <= emotion < c.n_emotions:
        raise ParameterError(f"emotion={emotion!r} must be an id in [0, {c.n_emotions})")
    out = generator({"codes": codes[None], "length": np.array([len(codes)], "int32"),
                     "emotion": np.array([emotion], "int32")}, training=False)
    return ops.convert_to_numpy(out)[0]
