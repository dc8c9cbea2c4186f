"""Vector quantisation: the bottleneck of a VQ-VAE (van den Oord et al., 2017).

Groundwork of ``notebooks/04`` (VQ-VAE voice conversion): an encoder's frames
``[B, T, D]`` are each replaced by the nearest of ``K`` codebook vectors, so what passes
the bottleneck is one of ``K`` symbols per frame. Too many codes and the speaker leaks
through; too few and the words are lost.

:class:`VectorQuantizer`, all ``keras.ops`` (TensorFlow and PyTorch):

- **nearest code** by squared distance, ``codes [B, T]``;
- **straight-through gradient**: the forward pass outputs the code, the backward pass
  copies the gradient to the encoder's output unchanged, ``x + stop_gradient(q - x)``;
- **commitment loss** ``mean ||x - sg(q)||^2`` over real frames (weight
  ``commitment_cost``, 0.25 in the paper), which keeps the encoder near its codes;
- **EMA codebook** (the paper's appendix; Razavi et al. 2019): no codebook loss and no
  gradient for the codes; in training each code moves to the exponential moving average
  of the frames assigned to it (decay 0.99, Laplace-smoothed counts);
- **dead-code restart** (Dhariwal et al. 2020, Jukebox): a code whose moving count of
  frames per batch falls below ``restart_threshold`` is moved onto a random real frame
  of the batch, so the codebook does not collapse onto a few codes;
- :meth:`VectorQuantizer.initialize`: k-means (``scipy.cluster.vq.kmeans2``) on encoder
  outputs of a first batch, so training starts with every code in use;
- :func:`perplexity`: ``exp(entropy)`` of the code histogram, the number of equally used
  codes that would give it (1: collapse; ``K``: every code used equally).

Layout: ``x [batch, frames, dim]``, ``frame_mask [batch, frames]`` (1 at real frames) as
``voicelab.models.layers.sequence_mask`` gives.

Example
-------
>>> import numpy as np
>>> vq = VectorQuantizer(4, 2)
>>> vq.initialize(np.array([[0, 0], [1, 0], [0, 1], [1, 1]], "float32"))
>>> q, codes, commitment = vq(np.array([[[0.9, 0.1], [0.1, 0.0]]], "float32"))
>>> ops.convert_to_numpy(q)[0].round(1).tolist(), tuple(codes.shape), round(float(commitment), 4)
([[1.0, 0.0], [0.0, 0.0]], (1, 2), 0.0019)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from voicelab.errors import ParameterError
from voicelab.models.layers import register


def code_counts(codes, n_codes: int, mask=None):
    """``[n_codes]``: how many real frames (``mask``, default all) chose each code."""
    one_hot = ops.one_hot(ops.cast(codes, "int32"), n_codes)
    if mask is not None:
        one_hot = one_hot * ops.cast(mask, one_hot.dtype)[..., None]
    return ops.sum(ops.reshape(one_hot, (-1, n_codes)), axis=0)


def perplexity(codes, n_codes: int, mask=None):
    """``exp(-sum p log p)`` of the histogram ``p`` of ``codes`` (real frames only).

    Example
    -------
    >>> float(perplexity(np.array([[0, 1, 2, 3]]), 8)), float(perplexity(np.array([[5, 5, 5]]), 8))
    (4.0, 1.0)
    """
    return perplexity_of_counts(code_counts(codes, n_codes, mask))


def perplexity_of_counts(counts):
    """:func:`perplexity` from a histogram :func:`code_counts` already gave."""
    p = counts / ops.maximum(ops.sum(counts), 1.0)
    return ops.exp(-ops.sum(p * ops.log(ops.maximum(p, 1e-10))))


@register
class VectorQuantizer(keras.layers.Layer):
    """Nearest-code quantisation with an EMA codebook: ``x [B, T, D] -> (q, codes, commitment)``.

    Parameters
    ----------
    n_codes : int
        Codebook size ``K``.
    dim : int
        Size ``D`` of each code (the encoder's output width).
    commitment_cost : float
        Weight of the commitment loss returned by :meth:`call` (0.25, the paper's).
    decay : float
        EMA decay of the codebook (0.99).
    restart_threshold : float
        A code whose moving count of frames per batch falls below this is restarted on a
        random real frame of the batch (0: never). The counts start at 1 (after
        :meth:`initialize` too), so with the default 0.01 and decay 0.99 a code that no
        frame chooses is restarted after about 460 batches.
    epsilon : float
        Laplace smoothing of the moving counts.
    seed : int
        Seed of the restarts' random frames.

    Returns (from :meth:`call`)
    ---------------------------
    q : ``[B, T, D]``, the codes, with the straight-through gradient to ``x``;
    codes : ``[B, T]`` int32;
    commitment : scalar, ``commitment_cost * mean ||x - sg(q)||^2`` over real frames.
    """

    def __init__(self, n_codes: int, dim: int, *, commitment_cost: float = 0.25, decay: float = 0.99,
                 restart_threshold: float = 0.01, epsilon: float = 1e-5, seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        for name, value in (("n_codes", n_codes), ("dim", dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not 0.0 <= decay < 1.0:
            raise ParameterError(f"decay={decay} must be in [0, 1)")
        if commitment_cost < 0 or restart_threshold < 0:
            raise ParameterError(f"commitment_cost={commitment_cost} and restart_threshold={restart_threshold} "
                                 "must be >= 0")
        self.n_codes, self.dim = int(n_codes), int(dim)
        self.commitment_cost, self.decay = float(commitment_cost), float(decay)
        self.restart_threshold, self.epsilon, self.seed = float(restart_threshold), float(epsilon), int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.build((None, None, dim))

    def build(self, input_shape) -> None:
        if input_shape[-1] != self.dim:
            raise ParameterError(f"input width {input_shape[-1]} is not the codebook's dim={self.dim}")
        if getattr(self, "codebook", None) is not None:
            return
        k, d = self.n_codes, self.dim
        init = keras.initializers.RandomUniform(-1.0 / k, 1.0 / k, seed=self.seed)
        self.codebook = self.add_weight(name="codebook", shape=(k, d), initializer=init, trainable=False)
        self.ema_count = self.add_weight(name="ema_count", shape=(k,), initializer="ones", trainable=False)
        self.ema_sum = self.add_weight(name="ema_sum", shape=(k, d), initializer="zeros", trainable=False)
        self.ema_sum.assign(ops.convert_to_numpy(self.codebook))
        self.built = True

    def initialize(self, frames, *, iterations: int = 20) -> None:
        """Set the codebook to the k-means centres of ``frames [N, D]`` (encoder outputs, real frames only).

        With fewer frames than codes, codes are drawn from the frames with repetition.
        The moving averages restart from the centres, with a count of one frame each.
        """
        from scipy.cluster.vq import kmeans2

        frames = np.asarray(ops.convert_to_numpy(frames), np.float64).reshape(-1, self.dim)
        if len(frames) == 0 or not np.isfinite(frames).all():
            raise ParameterError(f"frames of shape {frames.shape}: need finite [N, {self.dim}] encoder outputs")
        rng = np.random.default_rng(self.seed)
        if len(frames) < self.n_codes:
            centres = frames[rng.integers(0, len(frames), self.n_codes)]
        else:
            centres, _ = kmeans2(frames, self.n_codes, iter=iterations, minit="++", seed=self.seed)
        self.codebook.assign(centres.astype("float32"))
        self.ema_sum.assign(centres.astype("float32"))
        self.ema_count.assign(np.ones(self.n_codes, "float32"))

    def nearest(self, x):
        """Index ``[B, T]`` of the code nearest to each frame of ``x [B, T, D]``."""
        flat = ops.reshape(x, (-1, self.dim))
        distances = (ops.sum(flat * flat, axis=1, keepdims=True) - 2.0 * ops.matmul(flat, ops.transpose(self.codebook))
                     + ops.sum(self.codebook * self.codebook, axis=1)[None, :])
        return ops.reshape(ops.cast(ops.argmin(distances, axis=1), "int32"), ops.shape(x)[:-1])

    def call(self, x, frame_mask=None, training=False):
        if x.shape[-1] is not None and x.shape[-1] != self.dim:
            raise ParameterError(f"input width {x.shape[-1]} is not the codebook's dim={self.dim}")
        mask = ops.ones(ops.shape(x)[:-1], dtype=x.dtype) if frame_mask is None else ops.cast(frame_mask, x.dtype)
        codes = self.nearest(x)
        q = ops.take(self.codebook, codes, axis=0)
        real = ops.maximum(ops.sum(mask), 1.0)
        error = ops.sum(ops.square(x - ops.stop_gradient(q)), axis=-1) * mask
        commitment = self.commitment_cost * ops.sum(error) / (real * self.dim)
        if training:
            self._update(ops.stop_gradient(x), codes, mask)
        return x + ops.stop_gradient(q - x), codes, commitment

    def _update(self, x, codes, mask) -> None:
        """One EMA step of the codebook on this batch's real frames, then the dead-code restart."""
        flat = ops.reshape(x, (-1, self.dim))
        weights = ops.reshape(mask, (-1,))
        one_hot = ops.one_hot(ops.reshape(codes, (-1,)), self.n_codes, dtype=x.dtype) * weights[:, None]
        count = self.decay * self.ema_count + (1.0 - self.decay) * ops.sum(one_hot, axis=0)
        total = self.decay * self.ema_sum + (1.0 - self.decay) * ops.matmul(ops.transpose(one_hot), flat)
        n = ops.sum(count)
        smoothed = (count + self.epsilon) / (n + self.n_codes * self.epsilon) * n
        codebook = total / smoothed[:, None]
        if self.restart_threshold > 0:   # dead codes jump onto random real frames of the batch
            dead = ops.less(count, self.restart_threshold)
            logits = ops.log(ops.maximum(weights, 1e-12))[None, :]
            picks = keras.random.categorical(logits, self.n_codes, seed=self.seed_generator)[0]
            fresh = ops.take(flat, picks, axis=0)
            codebook = ops.where(dead[:, None], fresh, codebook)
            total = ops.where(dead[:, None], fresh, total)
            count = ops.where(dead, ops.ones_like(count), count)
        self.ema_count.assign(count)
        self.ema_sum.assign(total)
        self.codebook.assign(codebook)

    def compute_output_spec(self, x, frame_mask=None, training=False):
        return (keras.KerasTensor(x.shape, x.dtype), keras.KerasTensor(x.shape[:-1], "int32"),
                keras.KerasTensor((), x.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "n_codes": self.n_codes, "dim": self.dim,
                "commitment_cost": self.commitment_cost, "decay": self.decay,
                "restart_threshold": self.restart_threshold, "epsilon": self.epsilon, "seed": self.seed}
