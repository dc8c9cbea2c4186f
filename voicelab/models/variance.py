"""A variance adaptor (FastSpeech 2 / FastPitch): pitch and energy predicted per symbol.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``, as the step beyond the seed's model.

An MSE-trained decoder asked to guess the prosody from the phonemes alone predicts the
average of every way a sentence could be said, and averaging blurs the harmonics. The
variance adaptor gives the decoder the prosody explicitly: for each symbol it predicts
the mean pitch (normalised log-f0 of the voiced frames) and the mean energy
(normalised log-mel averaged over the bands), embeds both with a 1-D convolution and
adds them to the symbol's vector before the length regulator. In training the targets
come from the recording (teacher forcing) and the predictors learn them with an MSE;
at inference the predictions are used, and can be edited (raise the pitch, flatten it).

Per-symbol targets are frame values averaged over each symbol's frames with the
alignment matrix of :func:`voicelab.models.tts.length_regulate` (:func:`symbol_means`).

Example
-------
>>> import numpy as np
>>> alignment = np.array([[[1, 0], [1, 0], [0, 1]]], "float32")        # 3 frames, 2 symbols
>>> values = np.array([[1.0, 3.0, 5.0]], "float32")
>>> ops.convert_to_numpy(symbol_means(values, alignment)).tolist()
[[2.0, 5.0]]
"""

from __future__ import annotations

from keras import layers, ops

from voicelab.models.layers import ConvBlock, build_convs, register


def symbol_means(frame_values, alignment, weights=None):
    """Mean of ``frame_values [B, F]`` over each symbol's frames: ``[B, L]``.

    ``alignment [B, F, L]`` is 1 where frame ``f`` belongs to symbol ``l``. With
    ``weights [B, F]`` (e.g. 1 on voiced frames only) the mean is weighted; a symbol
    with no weight gets 0.
    """
    alignment = ops.convert_to_tensor(alignment)
    values = ops.convert_to_tensor(frame_values)
    weights = ops.ones_like(values) if weights is None else ops.convert_to_tensor(weights)
    total = ops.einsum("bf,bfl->bl", values * weights, alignment)
    count = ops.einsum("bf,bfl->bl", weights, alignment)
    return ops.where(count > 0, total / ops.maximum(count, 1e-6), 0.0)


@register
class VariancePredictor(layers.Layer):
    """2 masked conv blocks -> linear: ``[B, L, C]`` -> one value per symbol ``[B, L]``."""

    def __init__(self, filters, kernel_size=3, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.args = {"filters": filters, "kernel_size": kernel_size, "dropout": dropout}
        self.convs = [ConvBlock(filters, kernel_size, dropout) for _ in range(2)]
        self.out = layers.Dense(1)

    def build(self, input_shape):
        self.out.build(build_convs(self.convs, input_shape))

    def call(self, x, seq_mask, training=None):
        for conv in self.convs:
            x = conv(x, seq_mask, training=training)
        return self.out(x)[..., 0] * seq_mask

    def get_config(self):
        return {**super().get_config(), **self.args}


@register
class VarianceAdaptor(layers.Layer):
    """Predict per-symbol pitch and energy, embed them, add them to the symbols' vectors.

    ``call(h, token_mask, pitch=None, energy=None)`` returns ``(h + embeddings,
    {"pitch": predicted [B, L], "energy": predicted [B, L]})``; the given targets are
    embedded when present (training), the predictions otherwise (inference).
    """

    def __init__(self, width, filters, kernel_size=3, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.args = {"width": width, "filters": filters, "kernel_size": kernel_size, "dropout": dropout}
        self.pitch_predictor = VariancePredictor(filters, kernel_size, dropout)
        self.energy_predictor = VariancePredictor(filters, kernel_size, dropout)
        self.pitch_embedding = layers.Conv1D(width, 3, padding="same")
        self.energy_embedding = layers.Conv1D(width, 3, padding="same")

    def build(self, input_shape):
        self.pitch_predictor.build(input_shape)
        self.energy_predictor.build(input_shape)
        self.pitch_embedding.build((None, None, 1))
        self.energy_embedding.build((None, None, 1))

    def call(self, h, token_mask, pitch=None, energy=None, training=None):
        predicted = {"pitch": self.pitch_predictor(h, token_mask, training=training),
                     "energy": self.energy_predictor(h, token_mask, training=training)}
        pitch = predicted["pitch"] if pitch is None else pitch
        energy = predicted["energy"] if energy is None else energy
        m = token_mask[..., None]
        h = h + (self.pitch_embedding(pitch[..., None] * m) + self.energy_embedding(energy[..., None] * m)) * m
        return h, predicted

    def get_config(self):
        return {**super().get_config(), **self.args}
