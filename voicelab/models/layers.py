"""Layers shared by the kit's sequence models: masks, code lengths, a length-exact BiLSTM, masked conv blocks.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb`` (the TTS model and its aligner use
them; the VQ-VAE and SpeechSplit models of notebooks 04-05 build on them too).

Padded batches are right-padded; every block takes the real lengths and keeps the
padding at zero, so padding never changes a real output. All ``keras.ops``: the layers
run on TensorFlow and PyTorch.

Example
-------
>>> import numpy as np
>>> ops.convert_to_numpy(sequence_mask(np.array([1, 3]), 3)).tolist()
[[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
"""

from __future__ import annotations

import keras
from keras import layers, ops

register = keras.saving.register_keras_serializable(package="voicelab")
"""Decorator: registers a layer with Keras's loader under ``voicelab>Name``."""


class ConfiguredModel(keras.Model):
    """A model whose sizes all live in two frozen dataclasses, ``config`` and ``audio_config``.

    Saving stores them as dicts and loading passes them back to ``__init__`` (which
    accepts dicts); ``build()`` creates every weight from them, so Keras needs no input
    shape. The TTS model and the VQ-VAE are such models.
    """

    def get_config(self):
        import dataclasses

        return {"config": dataclasses.asdict(self.config),
                "audio_config": dataclasses.asdict(self.audio_config), "name": self.name}

    def get_build_config(self):
        return {"input_shape": None}  # the sizes are all in the config


class TwoNetworkGAN(keras.Model):
    """What the kit's GANs share (MelGAN, VoiceGAN, CodeGAN): a ``generator`` and a ``discriminator``
    (VoiceGAN's critic), each with its own optimizer, ``g_optimizer`` and ``d_optimizer``, and a
    ``train_step`` that updates ``trackers``, the metrics it logs.

    ``call`` is the generator; checkpoints save :attr:`optimizers`, the generator's first.
    """

    @property
    def metrics(self):
        return list(self.trackers)

    @property
    def optimizers(self) -> list:
        """Both optimizers, the generator's first (what checkpoints and the blow-up guard save)."""
        return [self.g_optimizer, self.d_optimizer]

    def call(self, inputs, training: bool = False):
        return self.generator(inputs, training=training)


def compile_for_fit(model: keras.Model, learning_rate: float) -> keras.Model:
    """Compile a built model for ``fit`` as every regression model of the kit is: Adam with the
    global gradient norm clipped at 1, no XLA (batch shapes vary).

    The optimizer's variables are created at once, so checkpoints can be restored before
    the first step, and TensorFlow does not trace the first step twice.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=1.0), jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    return model


def sequence_mask(lengths, maxlen, dtype="float32"):
    """``[B]`` lengths -> ``[B, maxlen]`` mask, 1 at real positions, 0 at padding."""
    positions = ops.arange(maxlen, dtype="int32")
    return ops.cast(ops.less(positions[None, :], ops.cast(lengths, "int32")[:, None]), dtype)


def code_lengths(mel_length, rate: int):
    """Code steps per utterance: ``ceil(mel_length / rate)`` for ``rate`` frames per step.

    What a code made every ``rate`` frames has: the VQ-VAE's ``downsample`` (its "same"
    strided convolutions give this many), a SpeechSplit code's ``*_rate`` (its window means).

    >>> import numpy as np
    >>> ops.convert_to_numpy(code_lengths(np.array([21, 13, 1]), 4)).tolist()
    [6, 4, 1]
    """
    return (ops.cast(mel_length, "int32") + rate - 1) // rate


def reverse_sequences(x, lengths):
    """Reverse each sequence ``[B, T, C]`` within its own length; padding stays at the end."""
    t = ops.arange(ops.shape(x)[1], dtype="int32")[None, :]
    n = ops.cast(lengths, "int32")[:, None]
    index = ops.where(ops.less(t, n), n - 1 - t, t)
    return ops.take_along_axis(x, index[..., None], axis=1)


def build_convs(convs, shape):
    """Build a stack of :class:`ConvBlock` for inputs of ``shape``; return the output shape."""
    for conv in convs:
        conv.build(shape)
        shape = (*shape[:-1], conv.filters)
    return shape


@register
class BiLSTM(layers.Layer):
    """Bidirectional LSTM on right-padded sequences, exact at every real position.

    The backward LSTM reads each sequence reversed *within its own length*, so it starts
    at the sequence's real last symbol, not at the padding. No Keras mask is used: an
    unmasked LSTM runs the fast path (cuDNN on a GPU, one fused loop on a CPU); a masked
    one falls back to a slow per-step loop on the PyTorch backend.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.forward_lstm = layers.LSTM(units, return_sequences=True)
        self.backward_lstm = layers.LSTM(units, return_sequences=True)

    def build(self, input_shape):
        self.forward_lstm.build(input_shape)
        self.backward_lstm.build(input_shape)

    def call(self, x, lengths, training=None):
        forward = self.forward_lstm(x, training=training)
        backward = self.backward_lstm(reverse_sequences(x, lengths), training=training)
        return ops.concatenate([forward, reverse_sequences(backward, lengths)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@register
class ConvBlock(layers.Layer):
    """Masked Conv1D -> LayerNorm -> activation -> dropout, padding kept at zero."""

    def __init__(self, filters, kernel_size, dropout=0.0, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size
        self.dropout, self.activation = dropout, activation
        self.conv = layers.Conv1D(filters, kernel_size, padding="same")
        self.norm = layers.LayerNormalization()
        self.act = layers.Activation(activation)
        self.drop = layers.Dropout(dropout)

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.norm.build((*input_shape[:-1], self.filters))

    def call(self, x, seq_mask, training=None):
        m = seq_mask[..., None]
        y = self.act(self.norm(self.conv(x * m)))
        return self.drop(y, training=training) * m

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "dropout": self.dropout, "activation": self.activation}
