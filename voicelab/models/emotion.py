"""An emotion classifier over log-mels: the judge of notebook 05's emotional conversions.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``. Masked convolutions over
the normalised log-mel, then the mean **and** standard deviation of each channel over
the utterance's real frames (statistics pooling, as x-vectors pool), then two dense
layers to one logit per emotion. The pooled standard deviation is what lets it hear
a livelier pitch or a louder, steeper spectrum; the mean is the average spectrum.

Trained on the corpus's training sentences and judged on its test sentences, it then
scores what a converted utterance *sounds like*: if content and voice come from a
neutral clip and rhythm and pitch from a sad one, does it call the result sad?

Example
-------
>>> model = build_emotion_classifier(EmotionConfig(emotions=("neutral", "sad"), channels=8))
>>> probabilities = classify(model, [np.full((30, 80), -5.0, "float32")])
>>> probabilities.shape, bool(np.allclose(probabilities.sum(1), 1.0))
((1, 2), True)
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.layers import ConfiguredModel, ConvBlock, build_convs, compile_for_fit, register, sequence_mask


@dataclasses.dataclass(frozen=True)
class EmotionConfig:
    """Sizes of the emotion classifier.

    Parameters
    ----------
    emotions : tuple of str
        The class names, in the order of the corpus's emotion ids.
    channels, n_convs, kernel_size : int
        The convolution stack.
    dropout : float
    mel_mean, mel_std : float
        Training-set statistics of the log-mel.
    """

    emotions: tuple = ("neutral", "happy", "sad", "angry")
    channels: int = 128
    n_convs: int = 3
    kernel_size: int = 5
    dropout: float = 0.1
    mel_mean: float = -5.0
    mel_std: float = 2.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "emotions", tuple(str(e) for e in self.emotions))
        if len(self.emotions) < 2 or len(set(self.emotions)) != len(self.emotions):
            raise ParameterError(f"emotions={self.emotions} must be at least two distinct names")
        for name in ("channels", "n_convs", "kernel_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not 0 <= self.dropout < 1 or not self.mel_std > 0:
            raise ParameterError(f"need 0 <= dropout < 1 and mel_std > 0, got {self.dropout}, {self.mel_std}")


def statistics_pooling(h, mask):
    """``[B, T, C]`` -> ``[B, 2C]``: mean and standard deviation of each channel over the real frames."""
    m = ops.cast(mask, "float32")[..., None]
    count = ops.maximum(ops.sum(m, axis=1), 1.0)
    mean = ops.sum(h * m, axis=1) / count
    var = ops.sum(ops.square(h - mean[:, None, :]) * m, axis=1) / count
    return ops.concatenate([mean, ops.sqrt(var + 1e-6)], axis=-1)


@register
class EmotionClassifier(ConfiguredModel):
    """Log-mel ``[B, F, n_mels]`` (+ ``mel_length``) -> emotion logits ``[B, n_emotions]``.

    ``call`` takes a dict with ``mel`` and ``mel_length``; ``compute_loss`` the batch's
    ``emotion`` ids (sparse cross-entropy), and logs ``accuracy`` at every step.
    """

    def __init__(self, config, audio_config, **kwargs):
        super().__init__(**kwargs)
        self.config = EmotionConfig(**config) if isinstance(config, dict) else config
        self.audio_config = AudioConfig(**audio_config) if isinstance(audio_config, dict) else audio_config
        c = self.config
        self.convs = [ConvBlock(c.channels, c.kernel_size, c.dropout, name=f"conv_{i}") for i in range(c.n_convs)]
        self.hidden = layers.Dense(c.channels, activation="relu", name="hidden")
        self.drop = layers.Dropout(c.dropout)
        self.logits = layers.Dense(len(c.emotions), name="logits")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")

    def call(self, inputs, training=None):
        c = self.config
        mel = (ops.convert_to_tensor(inputs["mel"]) - c.mel_mean) / c.mel_std
        mask = sequence_mask(inputs["mel_length"], ops.shape(mel)[1])
        h = mel
        for conv in self.convs:
            h = conv(h, mask, training=training)
        pooled = statistics_pooling(h, mask)
        return self.logits(self.drop(self.hidden(pooled), training=training))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        labels = ops.cast(x["emotion"], "int32")
        loss = ops.mean(keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True))
        correct = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), labels), "float32")
        self.accuracy_tracker.update_state(ops.mean(correct))
        return loss

    def build(self, input_shape=None):
        c = self.config
        build_convs(self.convs, (None, None, self.audio_config.n_mels))
        self.hidden.build((None, 2 * c.channels))
        self.logits.build((None, c.channels))
        self.built = True


def build_emotion_classifier(config: EmotionConfig, audio_config: AudioConfig = AudioConfig(), *,
                             learning_rate: float = 1e-3) -> EmotionClassifier:
    """Build and compile an :class:`EmotionClassifier`."""
    if not isinstance(config, EmotionConfig):
        raise ParameterError(f"build_emotion_classifier needs an EmotionConfig, got {type(config).__name__}")
    if not learning_rate > 0:
        raise ParameterError(f"learning_rate={learning_rate} must be positive")
    model = EmotionClassifier(config, audio_config, name="emotion_classifier")
    model.build()
    compile_for_fit(model, learning_rate)
    return model


def classify(model: EmotionClassifier, mels, *, batch_size: int = 16) -> np.ndarray:
    """Probabilities ``[len(mels), n_emotions]`` of a list of log-mels ``[F_i, n_mels]``."""
    n_mels = model.audio_config.n_mels
    mels = [np.asarray(m, "float32") for m in mels]
    for i, m in enumerate(mels):
        if m.ndim != 2 or m.shape[1] != n_mels or len(m) < 1 or not np.isfinite(m).all():
            raise ParameterError(f"mels[{i}] must be a finite [frames, {n_mels}] log-mel, got shape {m.shape}")
    out = []
    for start in range(0, len(mels), batch_size):
        chunk = mels[start: start + batch_size]
        longest = max(len(m) for m in chunk)
        padded = np.stack([np.pad(m, ((0, longest - len(m)), (0, 0))) for m in chunk])
        logits = model({"mel": padded, "mel_length": np.array([len(m) for m in chunk], "int32")}, training=False)
        out.append(ops.convert_to_numpy(ops.softmax(logits, axis=-1)))
    return np.concatenate(out) if out else np.zeros((0, len(model.config.emotions)), "float32")
