"""VQ-VAE voice conversion: a speaker-free code sequence, decoded in any voice.

Introduced in ``notebooks/04_vqvae_voice_conversion.ipynb``. After van den Oord et al.
(2017, section 4.3) and Chorowski et al. (2019): an encoder squeezes a log-mel
spectrogram through a **vector-quantised bottleneck** (:class:`~voicelab.models.vq.VectorQuantizer`),
and a decoder rebuilds it from the codes *and a voice*. The encoder is never told who
speaks, and the bottleneck is too narrow to carry everything, so the cheapest thing
for it to keep is what the decoder cannot get elsewhere: the words. The voice comes in
at the decoder. Converting is then decoding one utterance's codes with another voice.

The parts, all ``keras.ops`` (TensorFlow and PyTorch):

- :class:`Encoder`: the normalised input (log-mel, or linear mel magnitude:
  ``input_scale``), a convolution, ``log2(downsample)`` strided convolutions each
  halving the frame rate, residual blocks, a projection to ``code_dim``;
- the quantiser: ``n_codes`` codes of ``code_dim`` numbers, EMA updates, commitment
  cost, k-means start (:meth:`VQVAE.initialize_codebook`), dead-code restart;
- :class:`Decoder`: the codes repeated back to the frame rate, the voice appended to
  every frame and added to every residual block (dilated convolutions), a projection
  to ``n_mels``. The voice is a learned **speaker-id** embedding (``voice="speaker"``,
  the seed project's way: only training speakers) or a projection of an **external
  speaker embedding** of a reference clip (``voice="embedding"``, e.g. resemblyzer's
  256-d vector: any voice, in principle).

The **bottleneck** is ``downsample`` (frames per code), ``n_codes`` (symbols) and
``code_dim``: at 16 kHz with hop 256 and ``downsample=4`` a code stands for 64 ms, and
``log2(n_codes) * 62.5 / downsample`` bits per second pass (2 bits per frame for 256
codes). Too wide and the voice leaks through, so "conversion" returns the source
voice; too narrow and the words are lost.

Layout: mels ``[B, F, n_mels]`` in natural-log units (``voicelab.dsp.features``), right
padded, with ``mel_length [B]``; codes ``[B, ceil(F / downsample)]``.

Example
-------
>>> model = build_vqvae(VQVAEConfig(n_speakers=2, n_codes=8, code_dim=4, encoder_channels=8,
...                                 decoder_channels=8, voice_dim=4, decoder_dilations=(1, 2)))
>>> mel = np.full((10, 80), -5.0, "float32")
>>> convert(model, mel, speaker=1).shape, encode(model, mel).shape
((10, 80), (3,))
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
from keras import layers, ops

from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.layers import ConfiguredModel, compile_for_fit, register, sequence_mask
from voicelab.models.losses import masked_mel_loss
from voicelab.models.vq import VectorQuantizer, code_counts, perplexity_of_counts

VOICES = ("speaker", "embedding")
INPUT_SCALES = ("db", "magnitude")


@dataclasses.dataclass(frozen=True)
class VQVAEConfig:
    """Sizes of the VQ-VAE.

    Parameters
    ----------
    n_speakers : int
        Speakers of the id embedding (``voice="speaker"``).
    voice : str
        ``"speaker"`` (id embedding) or ``"embedding"`` (an external speaker embedding).
    embedding_dim : int
        Size of the external speaker embedding (256 for resemblyzer).
    input_scale : str
        What the encoder reads: ``"db"``, the normalised log-mel (the decibel scale up
        to a factor), or ``"magnitude"``, the linear mel magnitude ``exp(log-mel)``
        divided by its training-set standard deviation. The decoder always predicts the
        log-mel, so the vocoder is the same.
    n_codes, code_dim : int
        Codebook size and width.
    downsample : int
        Frames per code, a power of two (one strided convolution per halving).
    encoder_channels, decoder_channels, voice_dim : int
        Widths.
    kernel_size : int
        Kernel of the residual blocks.
    instance_norm : bool
        Normalise each utterance's encoder input per mel band (mean 0, variance 1 over
        its real frames), as AdaIN-VC and VQVC+ do: removes the utterance's average
        spectrum, much of a speaker's timbre, before the encoder sees it.
    encoder_blocks : int
        Residual blocks after the downsampling.
    decoder_dilations : tuple of int
        One residual block per dilation.
    dropout : float
    commitment_cost, decay : float
        The quantiser's (0.25 as in the VQ-VAE paper; EMA decay 0.99).
    restart_threshold : float
        A code chosen by fewer than this many frames per batch (moving average) is
        restarted on a random frame: 1.0, as in Jukebox. Measured on the quick corpus,
        150 steps: with the layer's default 0.01 the codebook collapsed to 9 codes in
        use (perplexity 7.7, mel loss 0.50); with 1.0, 209 of 256 (perplexity 168, mel
        loss 0.39).
    mel_mean, mel_std : float
        Training-set statistics of the log-mel: ``(mel - mean) / std`` is what the
        networks see and predict.
    magnitude_std : float
        Training-set standard deviation of ``exp(log-mel)`` (``input_scale="magnitude"``).
    """

    n_speakers: int = 4
    voice: str = "speaker"
    embedding_dim: int = 256
    input_scale: str = "db"
    n_codes: int = 256
    code_dim: int = 64
    downsample: int = 4
    encoder_channels: int = 128
    decoder_channels: int = 192
    voice_dim: int = 64
    kernel_size: int = 5
    instance_norm: bool = False
    encoder_blocks: int = 2
    decoder_dilations: tuple = (1, 2, 4, 8, 1, 2, 4, 8)
    dropout: float = 0.0
    commitment_cost: float = 0.25
    decay: float = 0.99
    restart_threshold: float = 1.0
    mel_mean: float = -5.0
    mel_std: float = 2.0
    magnitude_std: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoder_dilations", tuple(int(d) for d in self.decoder_dilations))
        if self.voice not in VOICES:
            raise ParameterError(f"voice={self.voice!r} is not one of {VOICES}")
        if self.input_scale not in INPUT_SCALES:
            raise ParameterError(f"input_scale={self.input_scale!r} is not one of {INPUT_SCALES}")
        for name in ("n_speakers", "embedding_dim", "n_codes", "code_dim", "downsample", "encoder_channels",
                     "decoder_channels", "voice_dim", "kernel_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if self.downsample & (self.downsample - 1):
            raise ParameterError(f"downsample={self.downsample} must be a power of two (1, 2, 4, 8, ...)")
        if not self.decoder_dilations or min(self.decoder_dilations) < 1:
            raise ParameterError(f"decoder_dilations={self.decoder_dilations} must be positive integers")
        if not (self.mel_std > 0 and self.magnitude_std > 0):
            raise ParameterError(f"mel_std={self.mel_std} and magnitude_std={self.magnitude_std} must be positive")

    @property
    def bits_per_second(self) -> float:
        """Most information the codes can carry at 16 kHz and hop 256: ``log2(n_codes)`` per code."""
        return math.log2(self.n_codes) * AudioConfig().sr / AudioConfig().hop_length / self.downsample


def instance_normalize(x, mask, epsilon: float = 1e-5):
    """Each sequence of ``x [B, T, C]`` to mean 0, variance 1 per channel over its real frames (``mask [B, T]``).

    >>> x = np.array([[[1.0], [3.0], [9.0]]], "float32")
    >>> ops.convert_to_numpy(instance_normalize(x, np.array([[1.0, 1.0, 0.0]], "float32")))[0, :, 0].round(3).tolist()
    [-1.0, 1.0, 0.0]
    """
    m = ops.cast(mask, "float32")[..., None]
    count = ops.maximum(ops.sum(m, axis=1, keepdims=True), 1.0)
    mean = ops.sum(x * m, axis=1, keepdims=True) / count
    var = ops.sum(ops.square(x - mean) * m, axis=1, keepdims=True) / count
    return (x - mean) / ops.sqrt(var + epsilon) * m


@register
class ResidualBlock(layers.Layer):
    """``x + conv1x1(gelu(conv_dilated(norm(x)) + condition))``, padding kept at zero."""

    def __init__(self, channels, kernel_size, dilation=1, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.kernel_size, self.dilation, self.dropout = channels, kernel_size, dilation, dropout
        self.norm = layers.LayerNormalization()
        self.conv = layers.Conv1D(channels, kernel_size, dilation_rate=dilation, padding="same")
        self.mix = layers.Conv1D(channels, 1)
        self.drop = layers.Dropout(dropout)

    def build(self, input_shape):
        self.norm.build(input_shape)
        self.conv.build(input_shape)
        self.mix.build((*input_shape[:-1], self.channels))

    def call(self, x, mask, condition=None, training=None):
        m = mask[..., None]
        h = self.conv(self.norm(x) * m)
        if condition is not None:
            h = h + condition[:, None, :]
        h = self.drop(self.mix(keras.activations.gelu(h)), training=training)
        return (x + h) * m

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "kernel_size": self.kernel_size,
                "dilation": self.dilation, "dropout": self.dropout}


@register
class Encoder(layers.Layer):
    """Normalised mel ``[B, F, n_mels]`` -> continuous codes ``[B, ceil(F / downsample), code_dim]``."""

    def __init__(self, channels, code_dim, downsample, kernel_size, blocks, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.code_dim, self.downsample = channels, code_dim, downsample
        self.kernel_size, self.blocks, self.dropout = kernel_size, blocks, dropout
        self.conv_in = layers.Conv1D(channels, kernel_size, padding="same")
        n_down = int(round(math.log2(downsample)))
        self.strided = [layers.Conv1D(channels, 4, strides=2, padding="same") for _ in range(n_down)]
        self.res = [ResidualBlock(channels, kernel_size, 1, dropout) for _ in range(blocks)]
        self.proj = layers.Dense(code_dim)

    def build(self, input_shape):
        self.conv_in.build(input_shape)
        shape = (None, None, self.channels)
        for conv in self.strided:
            conv.build(shape)
        for block in self.res:
            block.build(shape)
        self.proj.build(shape)

    def call(self, x, mel_length, training=None):
        mask = sequence_mask(mel_length, ops.shape(x)[1])
        h = keras.activations.gelu(self.conv_in(x * mask[..., None])) * mask[..., None]
        length = ops.cast(mel_length, "int32")
        for conv in self.strided:
            length = (length + 1) // 2
            h = conv(h)
            mask = sequence_mask(length, ops.shape(h)[1])
            h = keras.activations.gelu(h) * mask[..., None]
        for block in self.res:
            h = block(h, mask, training=training)
        return self.proj(h) * mask[..., None], mask

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "code_dim": self.code_dim,
                "downsample": self.downsample, "kernel_size": self.kernel_size, "blocks": self.blocks,
                "dropout": self.dropout}


@register
class Decoder(layers.Layer):
    """Codes ``[B, F', code_dim]`` and a voice ``[B, voice_dim]`` -> normalised mel ``[B, F, n_mels]``."""

    def __init__(self, channels, n_mels, downsample, kernel_size, dilations, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.n_mels, self.downsample = channels, n_mels, downsample
        self.kernel_size, self.dilations, self.dropout = kernel_size, tuple(dilations), dropout
        self.conv_in = layers.Conv1D(channels, kernel_size, padding="same")
        self.res = [ResidualBlock(channels, kernel_size, d, dropout) for d in self.dilations]
        self.conditions = [layers.Dense(channels) for _ in self.dilations]
        self.norm = layers.LayerNormalization()
        self.proj = layers.Dense(n_mels)

    def build(self, codes_shape, voice_shape):
        self.conv_in.build((None, None, codes_shape[-1] + voice_shape[-1]))
        shape = (None, None, self.channels)
        for block, dense in zip(self.res, self.conditions):
            block.build(shape)
            dense.build(voice_shape)
        self.norm.build(shape)
        self.proj.build(shape)

    def call(self, codes, voice, mel_length, n_frames, training=None):
        mask = sequence_mask(mel_length, n_frames)[..., None]
        frames = ops.repeat(codes, self.downsample, axis=1)[:, :n_frames]
        voices = ops.repeat(voice[:, None, :], n_frames, axis=1)
        h = self.conv_in(ops.concatenate([frames, voices], axis=-1) * mask) * mask
        for block, dense in zip(self.res, self.conditions):
            h = block(h, mask[..., 0], dense(voice), training=training)
        return self.proj(self.norm(h))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "n_mels": self.n_mels,
                "downsample": self.downsample, "kernel_size": self.kernel_size,
                "dilations": list(self.dilations), "dropout": self.dropout}


@register
class VQVAE(ConfiguredModel):
    """Encoder, vector quantiser, voice-conditioned decoder; build it with :func:`build_vqvae`.

    ``call`` takes a dict batch: ``mel``, ``mel_length`` and ``speaker`` (ids) or
    ``embedding`` (``[B, embedding_dim]``), and returns ``{"mel", "codes", "commitment"}``
    (the mel in log-mel units). ``compute_loss``: MSE + MAE of the mel over real frames
    plus the commitment loss; the mel loss, the commitment, the batch's code
    **perplexity** and the number of codes it uses are logged at every step.
    """

    def __init__(self, config, audio_config, **kwargs):
        super().__init__(**kwargs)
        self.config = VQVAEConfig(**config) if isinstance(config, dict) else config
        self.audio_config = AudioConfig(**audio_config) if isinstance(audio_config, dict) else audio_config
        c, n_mels = self.config, self.audio_config.n_mels
        self.encoder = Encoder(c.encoder_channels, c.code_dim, c.downsample, c.kernel_size, c.encoder_blocks,
                               c.dropout, name="encoder")
        self.quantizer = VectorQuantizer(c.n_codes, c.code_dim, commitment_cost=c.commitment_cost, decay=c.decay,
                                         restart_threshold=c.restart_threshold, name="quantizer")
        if c.voice == "speaker":
            self.voice_table = layers.Embedding(c.n_speakers, c.voice_dim, name="speaker_embedding")
        else:
            self.voice_table = layers.Dense(c.voice_dim, name="embedding_projection")
        self.decoder = Decoder(c.decoder_channels, n_mels, c.downsample, c.kernel_size, c.decoder_dilations,
                               c.dropout, name="decoder")
        self.mel_loss_tracker = keras.metrics.Mean(name="mel_loss")
        self.commitment_tracker = keras.metrics.Mean(name="commitment")
        self.perplexity_tracker = keras.metrics.Mean(name="perplexity")
        self.codes_used_tracker = keras.metrics.Mean(name="codes_used")

    # ------------------------------------------------------------------ passes
    def encoder_input(self, mel):
        """What the encoder reads: the normalised log-mel, or the scaled linear magnitude."""
        c = self.config
        mel = ops.convert_to_tensor(mel)
        if c.input_scale == "magnitude":
            return ops.exp(mel) / c.magnitude_std
        return (mel - c.mel_mean) / c.mel_std

    def encode(self, mel, mel_length, training=None):
        """``(continuous [B, F', D], frame mask [B, F'])`` before the quantiser."""
        x = self.encoder_input(mel)
        if self.config.instance_norm:
            x = instance_normalize(x, sequence_mask(mel_length, ops.shape(x)[1]))
        return self.encoder(x, mel_length, training=training)

    def voice(self, inputs):
        """``[B, voice_dim]`` from ``speaker`` ids or from ``embedding`` vectors."""
        if self.config.voice == "speaker":
            return self.voice_table(ops.cast(inputs["speaker"], "int32"))
        embedding = ops.convert_to_tensor(inputs["embedding"])
        embedding = embedding / ops.maximum(ops.norm(embedding, axis=-1, keepdims=True), 1e-6)
        return self.voice_table(embedding)

    def decode(self, quantized, voice, mel_length, n_frames, training=None):
        """Codes and voice -> mel ``[B, F, n_mels]`` in log-mel units."""
        c = self.config
        return self.decoder(quantized, voice, mel_length, n_frames=n_frames, training=training) * c.mel_std + c.mel_mean

    def call(self, inputs, training=None):
        mel, mel_length = inputs["mel"], inputs["mel_length"]
        z, mask = self.encode(mel, mel_length, training=training)
        quantized, codes, commitment = self.quantizer(z, mask, training=training)
        out = self.decode(quantized, self.voice(inputs), mel_length, ops.shape(mel)[1], training=training)
        return {"mel": out, "codes": codes, "commitment": commitment, "code_mask": mask}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        c = self.config
        target = (ops.convert_to_tensor(x["mel"]) - c.mel_mean) / c.mel_std
        predicted = (y_pred["mel"] - c.mel_mean) / c.mel_std
        mel_loss = masked_mel_loss(target, predicted, x["mel_length"])
        counts = code_counts(y_pred["codes"], c.n_codes, y_pred["code_mask"])
        self.mel_loss_tracker.update_state(mel_loss)
        self.commitment_tracker.update_state(y_pred["commitment"])
        self.perplexity_tracker.update_state(perplexity_of_counts(counts))
        self.codes_used_tracker.update_state(ops.sum(ops.cast(counts > 0, "float32")))
        return mel_loss + y_pred["commitment"]

    # ------------------------------------------------------------------ saving (ConfiguredModel)
    def build(self, input_shape=None):
        """Create every weight from the config alone (no forward pass, no tracing)."""
        c, n_mels = self.config, self.audio_config.n_mels
        self.encoder.build((None, None, n_mels))
        if c.voice == "speaker":
            self.voice_table.build((None,))
        else:
            self.voice_table.build((None, c.embedding_dim))
        self.decoder.build((None, None, c.code_dim), (None, c.voice_dim))
        self.built = True

    def initialize_codebook(self, batches, *, n_batches: int = 4) -> int:
        """k-means start of the codebook on the encoder's outputs for the first ``n_batches``.

        Returns the number of frames the centres were fitted on.
        """
        frames = []
        for index in range(min(n_batches, len(batches))):
            batch = batches[index]
            z, mask = self.encode(batch["mel"], batch["mel_length"], training=False)
            z, mask = ops.convert_to_numpy(z), ops.convert_to_numpy(mask).astype(bool)
            frames.append(z[mask])
        frames = np.concatenate(frames)
        self.quantizer.initialize(frames)
        return len(frames)


def build_vqvae(config: VQVAEConfig, audio_config: AudioConfig = AudioConfig(), *,
                learning_rate: float = 1e-3) -> VQVAE:
    """Build and compile a :class:`VQVAE` (Adam, global gradient norm clipped at 1, no XLA)."""
    if not isinstance(config, VQVAEConfig) or not isinstance(audio_config, AudioConfig):
        raise ParameterError(f"build_vqvae needs a VQVAEConfig and an AudioConfig, got "
                             f"{type(config).__name__} and {type(audio_config).__name__}")
    if not learning_rate > 0:
        raise ParameterError(f"learning_rate={learning_rate} must be positive")
    model = VQVAE(config, audio_config, name="vqvae")
    model.build()
    compile_for_fit(model, learning_rate)
    return model


# ---------------------------------------------------------------------------- inference
def _check_mel(model: VQVAE, mel) -> np.ndarray:
    mel = np.asarray(mel, "float32")
    n_mels = model.audio_config.n_mels
    if mel.ndim != 2 or mel.shape[1] != n_mels or mel.shape[0] < 1:
        raise ParameterError(f"mel must be [frames, {n_mels}] log-mel, got shape {mel.shape}")
    if not np.isfinite(mel).all():
        raise ParameterError("mel holds NaN or infinite values")
    return mel


def _voice_inputs(model: VQVAE, speaker, embedding) -> dict:
    c = model.config
    if c.voice == "speaker":
        if embedding is not None:
            raise ParameterError("this model is conditioned on speaker ids: pass speaker=, not embedding=")
        if isinstance(speaker, bool) or not isinstance(speaker, (int, np.integer)) or not 0 <= speaker < c.n_speakers:
            raise ParameterError(f"speaker={speaker!r} must be an id in [0, {c.n_speakers})")
        return {"speaker": np.array([speaker], "int32")}
    vector = None if embedding is None else np.asarray(embedding, "float32").reshape(-1)
    if vector is None or vector.shape != (c.embedding_dim,) or not np.isfinite(vector).all():
        raise ParameterError(f"this model is conditioned on speaker embeddings: pass embedding= of "
                             f"{c.embedding_dim} finite numbers, got {None if vector is None else vector.shape}")
    return {"embedding": vector[None]}


def encode(model: VQVAE, mel) -> np.ndarray:
    """The code indices ``[ceil(F / downsample)]`` of one log-mel ``[F, n_mels]``."""
    mel = _check_mel(model, mel)
    z, mask = model.encode(mel[None], np.array([len(mel)], "int32"), training=False)
    return ops.convert_to_numpy(model.quantizer.nearest(z))[0]


def convert(model: VQVAE, mel, *, speaker: int | None = None, embedding=None) -> np.ndarray:
    """One log-mel ``[F, n_mels]`` re-spoken in another voice: a speaker id, or an embedding.

    The utterance's codes are decoded with the given voice; the output has the input's
    frames (a VQ-VAE keeps the timing). With the utterance's own voice it is a
    reconstruction.
    """
    mel = _check_mel(model, mel)
    inputs = {"mel": mel[None], "mel_length": np.array([len(mel)], "int32"),
              **_voice_inputs(model, speaker, embedding)}
    out = model(inputs, training=False)
    return ops.convert_to_numpy(out["mel"])[0]
