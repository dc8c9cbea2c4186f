"""Weight normalisation for 1-D convolutions (Salimans & Kingma, 2016).

Introduced in ``notebooks/03_melgan_vocoder.ipynb``.

A weight-normalised convolution does not learn its kernel ``w`` directly. It learns
a *direction* ``v`` (same shape as the kernel) and one *length* ``g`` per output
channel, and convolves with

    w = g * v / ||v||        (the norm taken over everything but the output channel)

so the scale of each filter is one parameter that the optimiser can move without
fighting the direction. MelGAN uses it in every layer of both networks instead of
batch or instance norm, which the paper found to hurt audio quality.

At inference nothing is learnt any more, so ``g * v / ||v||`` can be computed once
and stored as a plain kernel: :func:`remove_weight_norm` does that for a whole model,
and the outputs do not change (up to float rounding, ~1e-6).

Layout: channels-last, ``[batch, time, channels]``, as every Keras 1-D layer.
Runs on the TensorFlow and PyTorch backends (only ``keras.ops`` inside).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from voicelab.errors import ParameterError

_EPS = 1e-12


@keras.saving.register_keras_serializable(package="voicelab")
class WeightNormConv1D(keras.layers.Layer):
    """A 1-D convolution (or transposed convolution) with optional weight norm.

    Parameters
    ----------
    filters : int
        Output channels.
    kernel_size : int
        Kernel width in samples.
    strides : int
        Stride (the upsampling factor when ``transpose=True``).
    dilation_rate : int
        Dilation of a (non-transposed) convolution.
    groups : int
        Grouped convolution: input and output channels split into ``groups``
        independent blocks (MelGAN's discriminator uses it to stay small). Computed as
        frames x block-diagonal weights, one batched matmul (see :meth:`call`).
    padding : {"valid", "same"}
        Keras's padding: ``"same"`` gives ``ceil(time / strides)`` outputs. A
        transposed conv with ``"same"`` outputs ``time * strides`` samples, dropping
        ``(kernel_size - strides) // 2`` samples on the left of the full output.
    transpose : bool
        Transposed convolution (learnt upsampling) instead of a convolution.
    weight_norm : bool
        Learn ``(v, g)`` (True) or a plain ``kernel`` (False).
    kernel_initializer : str
        Initialiser of ``v`` (or ``kernel``). ``g`` starts at ``||v||``, so a fresh
        layer computes exactly what a plain one with kernel ``v`` would.

    Example
    -------
    >>> import numpy as np
    >>> conv = WeightNormConv1D(4, 3, padding="same")
    >>> tuple(conv(np.zeros((1, 10, 2), "float32")).shape)
    (1, 10, 4)
    >>> sorted(w.name for w in conv.weights)
    ['bias', 'g', 'v']
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        *,
        strides: int = 1,
        dilation_rate: int = 1,
        groups: int = 1,
        padding: str = "valid",
        transpose: bool = False,
        weight_norm: bool = True,
        kernel_initializer: str = "glorot_uniform",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (("filters", filters), ("kernel_size", kernel_size),
                            ("strides", strides), ("dilation_rate", dilation_rate),
                            ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if padding not in ("valid", "same"):
            raise ParameterError(f"padding={padding!r} must be 'valid' or 'same'")
        if transpose and (groups != 1 or dilation_rate != 1):
            raise ParameterError("a transposed convolution takes groups=1 and dilation_rate=1")
        if filters % groups:
            raise ParameterError(f"filters={filters} is not divisible by groups={groups}")
        self.filters, self.kernel_size, self.strides = filters, kernel_size, strides
        self.dilation_rate, self.groups, self.padding = dilation_rate, groups, padding
        self.transpose, self.weight_norm = transpose, weight_norm
        self.kernel_initializer = kernel_initializer

    # -- weights --------------------------------------------------------------------
    def build(self, input_shape) -> None:
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ParameterError(
                f"input channels={channels} must be known and divisible by groups={self.groups}"
            )
        if self.transpose:   # keras.ops.conv_transpose: [k, out, in]
            shape = (self.kernel_size, self.filters, channels)
            self._norm_axes, self._g_shape = (0, 2), (1, self.filters, 1)
        else:                # keras.ops.conv: [k, in / groups, out]
            shape = (self.kernel_size, channels // self.groups, self.filters)
            self._norm_axes, self._g_shape = (0, 1), (1, 1, self.filters)
        init = keras.initializers.get(self.kernel_initializer)
        if self.weight_norm:
            self.v = self.add_weight(name="v", shape=shape, initializer=init)
            self.g = self.add_weight(name="g", shape=(self.filters,), initializer="ones")
            self.g.assign(self._direction_norm())
        else:
            self.kernel = self.add_weight(name="kernel", shape=shape, initializer=init)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def _direction_norm(self):
        return ops.sqrt(ops.sum(ops.square(self.v), axis=self._norm_axes))

    def effective_kernel(self):
        """The kernel the layer convolves with: ``g * v / ||v||`` or ``kernel``."""
        if not self.weight_norm:
            return self.kernel
        scale = self.g / ops.maximum(self._direction_norm(), _EPS)
        return self.v * ops.reshape(scale, self._g_shape)

    # -- forward --------------------------------------------------------------------
    def call(self, inputs):
        kernel = self.effective_kernel()
        if self.transpose:
            outputs = ops.conv_transpose(inputs, kernel, strides=self.strides,
                                         padding=self.padding)
        elif self.groups > 1:
            outputs = self._grouped_conv(inputs, kernel)
        else:
            outputs = ops.conv(inputs, kernel, strides=self.strides, padding=self.padding,
                               dilation_rate=self.dilation_rate)
        return outputs + self.bias

    def _grouped_conv(self, x, kernel):
        """Grouped conv as framing + one batched matmul: the same sums as ``ops.conv``.

        Why not ``ops.conv``: TensorFlow has no CPU kernel for grouped convolutions, so
        Keras compiles them with XLA, whose CPU backward pass is ~100x slower than
        this. On PyTorch it costs about 10% more than the native grouped conv.
        """
        k, stride, groups = self.kernel_size, self.strides, self.groups
        span = self.dilation_rate * (k - 1)
        length, start = ops.shape(x)[1], 0
        if self.padding == "same":     # Keras's: pad total // 2 left, the rest right
            steps = (length + stride - 1) // stride
            total = ops.maximum((steps - 1) * stride + span + 1 - length, 0)
            x = ops.pad(x, [[0, 0], [span, span], [0, 0]])     # enough, whatever the length
            start = span - total // 2
        else:
            steps = (length - span - 1) // stride + 1
        index = (start + ops.expand_dims(ops.arange(steps) * stride, 1)
                 + ops.expand_dims(ops.arange(0, span + 1, self.dilation_rate), 0))
        frames = ops.take(x, index, axis=1)                      # [B, steps, k, channels]
        per_group = kernel.shape[1]
        frames = ops.reshape(frames, (ops.shape(x)[0], steps, k, groups, per_group))
        weights = ops.reshape(kernel, (k, per_group, groups, self.filters // groups))
        outputs = ops.einsum("btkgc,kcgd->btgd", frames, weights)
        return ops.reshape(outputs, (ops.shape(x)[0], steps, self.filters))

    def compute_output_shape(self, input_shape):
        batch, length, _ = input_shape
        if length is not None:
            if self.transpose:
                extra = 0 if self.padding == "same" else max(self.kernel_size - self.strides, 0)
                length = length * self.strides + extra
            else:
                span = self.dilation_rate * (self.kernel_size - 1)
                length = length if self.padding == "same" else length - span
                length = (length + self.strides - 1) // self.strides
        return (batch, length, self.filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
            dilation_rate=self.dilation_rate, groups=self.groups, padding=self.padding,
            transpose=self.transpose, weight_norm=self.weight_norm,
            kernel_initializer=self.kernel_initializer,
        )
        return config


def remove_weight_norm(model: keras.Model) -> keras.Model:
    """Return a copy of a functional ``model`` whose convolutions store plain kernels.

    Every :class:`WeightNormConv1D` is replaced by one with ``weight_norm=False`` and
    kernel ``g * v / ||v||``; every other layer keeps its weights. Outputs agree with
    the original to float rounding; the copy is faster (no norm per call) and is what
    you save for inference.

    Example
    -------
    >>> import keras, numpy as np
    >>> x = keras.Input((None, 2))
    >>> model = keras.Model(x, WeightNormConv1D(3, 5, padding="same")(x))
    >>> plain = remove_weight_norm(model)
    >>> [w.name for w in plain.layers[1].weights]
    ['kernel', 'bias']
    >>> mel = np.random.default_rng(0).normal(size=(1, 7, 2)).astype("float32")
    >>> a, b = ops.convert_to_numpy(model(mel)), ops.convert_to_numpy(plain(mel))
    >>> bool(np.allclose(a, b, atol=1e-6))
    True
    """

    def clone(layer):
        if isinstance(layer, WeightNormConv1D):
            return WeightNormConv1D.from_config({**layer.get_config(), "weight_norm": False})
        return layer.__class__.from_config(layer.get_config())

    plain = keras.models.clone_model(model, clone_function=clone)
    for old, new in zip(model.layers, plain.layers):
        if isinstance(old, WeightNormConv1D) and old.weight_norm:
            new.set_weights([np.asarray(ops.convert_to_numpy(old.effective_kernel())),
                             np.asarray(ops.convert_to_numpy(old.bias))])
        else:
            new.set_weights(old.get_weights())
    return plain
