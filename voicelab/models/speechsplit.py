"""SpeechSplit: speech split into rhythm, content and pitch codes, rebuilt in any voice.

Introduced in ``notebooks/05_emotional_voice_cloning.ipynb``. After Qian et al.
(2020), "Unsupervised speech decomposition via triple information bottleneck". Three
encoders squeeze one utterance through three **narrow** codes; a decoder rebuilds the
log-mel from the codes and a speaker embedding:

- the **rhythm** encoder reads the mel as it is: the only code that sees the timing;
- the **content** encoder reads the mel after random resampling (segments stretched or
  squeezed by random factors, :func:`voicelab.dsp.prosody.random_resample`), so timing
  cannot pass through it;
- the **pitch** encoder reads the quantised, normalised log-f0 (257 classes,
  :func:`voicelab.dsp.prosody.quantize_f0`) after the same resampling;
- the **decoder** reads the three codes, each repeated back to the frame rate, and the
  voice (a projection of a speaker embedding, e.g. resemblyzer's 256-d vector); two
  bidirectional LSTMs let it re-align the resampled content and pitch with the rhythm.

Each code is ``dim`` numbers per ``rate`` frames (a masked average over the window):
the bottleneck sizes decide what each code carries. Too wide and the content code
carries pitch and timbre too; too narrow and the words are lost. The paper's sizes
(rhythm 2, content 16, pitch 64 numbers per 8 frames) are tuned for VCTK; notebook 05
sweeps them on the kit's corpus.

Swapping a code between two utterances is then the lesson: content and voice from a
neutral utterance, rhythm and pitch from an emotional one (:func:`split_and_swap`).

Layout: mels ``[B, F, n_mels]`` in natural-log units, right padded, ``mel_length [B]``;
pitch classes ``[B, F]`` int (0 = unvoiced); codes ``[B, ceil(F / rate), dim]``.

Example
-------
>>> model = build_speechsplit(SpeechSplitConfig(embedding_dim=4, encoder_channels=8,
...                                             decoder_channels=8, voice_dim=4))
>>> mel, pitch = np.full((20, 80), -5.0, "float32"), np.zeros(20, "int64")
>>> split_and_swap(model, content_mel=mel, rhythm_mel=mel[:16], pitch=pitch,
...                embedding=np.ones(4, "float32")).shape
(16, 80)
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from voicelab.dsp.features import AudioConfig
from voicelab.dsp.prosody import N_PITCH_BINS, stretch_to
from voicelab.errors import ParameterError
from voicelab.models.layers import BiLSTM, ConfiguredModel, compile_for_fit, register, sequence_mask
from voicelab.models.losses import masked_mel_loss
from voicelab.models.vqvae import ResidualBlock
from voicelab.train import backend_steps

CODES = ("rhythm", "content", "pitch")
CONTENT_INPUTS = ("mel", "envelope", "centred")


def envelope_projection(n_mels: int, n_coefficients: int) -> np.ndarray:
    """``[n_mels, n_mels]`` matrix that keeps the first ``n_coefficients`` of a frame's DCT (a lifter).

    ``log_mel @ P`` is the smooth spectral envelope of each frame: the formants stay, the
    fine stripes of the harmonics (the pitch) go. Orthonormal DCT-II, so ``P`` is a projection.

    >>> P = envelope_projection(8, 8)
    >>> bool(np.allclose(P, np.eye(8), atol=1e-6))
    True
    """
    import scipy.fft

    basis = scipy.fft.dct(np.eye(n_mels), type=2, norm="ortho", axis=0)   # rows: DCT basis vectors
    kept = basis[:n_coefficients]
    return (kept.T @ kept).astype("float32")


@dataclasses.dataclass(frozen=True)
class SpeechSplitConfig:
    """Sizes of the SpeechSplit model.

    Parameters
    ----------
    embedding_dim : int
        Size of the speaker embedding the decoder reads (256 for resemblyzer).
    rhythm_dim, content_dim, pitch_dim : int
        Numbers per code step: the bottlenecks' widths.
    rhythm_rate, content_rate, pitch_rate : int
        Frames per code step (one step is a masked average over that many frames).
    encoder_channels, encoder_blocks, kernel_size : int
        Each encoder: a convolution to ``encoder_channels``, ``encoder_blocks`` residual
        blocks, a projection to its code width.
    decoder_channels : int
        Width of the decoder's two BiLSTMs (``decoder_channels // 2`` per direction).
    voice_dim : int
        Projection of the speaker embedding, appended to every decoder frame.
    n_pitch_classes : int
        Classes of the pitch input (257: unvoiced + 256 bins).
    content_input : str
        What the content encoder reads: ``"mel"`` (the paper's) or ``"envelope"``, the
        log-mel smoothed across frequency (its first ``envelope_coefficients`` DCT
        coefficients, :func:`envelope_projection`): the harmonics, which carry the
        pitch, are gone before the encoder sees them, as SpeechSplit 2.0 (Chan et al.,
        2022) feeds its content encoder a spectral envelope instead of relying on the
        bottleneck alone; or ``"centred"``, the log-mel less its mean over the
        utterance's frames in each band: the utterance's level and spectral tilt (and
        the long-term spectrum of the voice) are gone, so the decoder must take them
        from the rhythm code, which reads the mel as it is, and the voice.
    envelope_coefficients : int
    dropout : float
    mel_mean, mel_std : float
        Training-set statistics of the log-mel: ``(mel - mean) / std`` is what the
        networks see and predict.
    """

    embedding_dim: int = 256
    rhythm_dim: int = 2
    content_dim: int = 16
    pitch_dim: int = 32
    rhythm_rate: int = 8
    content_rate: int = 8
    pitch_rate: int = 8
    encoder_channels: int = 128
    encoder_blocks: int = 2
    kernel_size: int = 5
    decoder_channels: int = 256
    voice_dim: int = 64
    n_pitch_classes: int = N_PITCH_BINS + 1
    content_input: str = "mel"
    envelope_coefficients: int = 16
    dropout: float = 0.0
    mel_mean: float = -5.0
    mel_std: float = 2.0

    def __post_init__(self) -> None:
        for name in ("embedding_dim", "rhythm_dim", "content_dim", "pitch_dim", "rhythm_rate", "content_rate",
                     "pitch_rate", "encoder_channels", "encoder_blocks", "kernel_size", "decoder_channels",
                     "voice_dim", "n_pitch_classes", "envelope_coefficients"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if self.content_input not in CONTENT_INPUTS:
            raise ParameterError(f"content_input={self.content_input!r} is not one of {CONTENT_INPUTS}")
        if self.decoder_channels % 2:
            raise ParameterError(f"decoder_channels={self.decoder_channels} must be even (two directions)")
        if not 0 <= self.dropout < 1 or not self.mel_std > 0:
            raise ParameterError(f"need 0 <= dropout < 1 and mel_std > 0, got {self.dropout}, {self.mel_std}")

    def numbers_per_second(self, code: str) -> float:
        """How many numbers per second of speech a code passes (16 kHz, hop 256: 62.5 frames/s)."""
        if code not in CODES:
            raise ParameterError(f"code={code!r} is not one of {CODES}")
        frames_per_second = AudioConfig().sr / AudioConfig().hop_length
        return getattr(self, f"{code}_dim") * frames_per_second / getattr(self, f"{code}_rate")


def pool_codes(x, mask, rate: int):
    """``x [B, T, C]`` -> ``([B, ceil(T / rate), C], step mask)``: the mean of each window's real frames.

    >>> x = np.arange(5, dtype="float32").reshape(1, 5, 1)
    >>> codes, m = pool_codes(x, np.array([[1, 1, 1, 1, 0]], "float32"), 2)
    >>> ops.convert_to_numpy(codes)[0, :, 0].tolist(), ops.convert_to_numpy(m).tolist()
    ([0.5, 2.5, 0.0], [[1.0, 1.0, 0.0]])
    """
    channels = x.shape[-1]
    t = ops.shape(x)[1]
    pad = (rate - t % rate) % rate
    mask = ops.cast(mask, "float32")
    x = ops.pad(x * mask[..., None], [[0, 0], [0, pad], [0, 0]])
    mask = ops.pad(mask, [[0, 0], [0, pad]])
    batch = ops.shape(x)[0]
    sums = ops.sum(ops.reshape(x, (batch, -1, rate, channels)), axis=2)
    counts = ops.sum(ops.reshape(mask, (batch, -1, rate)), axis=2)
    return sums / ops.maximum(counts, 1.0)[..., None], ops.cast(counts > 0, "float32")


@register
class CodeEncoder(layers.Layer):
    """Frames ``[B, F, C_in]`` -> code ``[B, ceil(F / rate), dim]``: conv, residual blocks, projection, window mean."""

    def __init__(self, channels, dim, rate, kernel_size, blocks, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.dim, self.rate = channels, dim, rate
        self.kernel_size, self.blocks, self.dropout = kernel_size, blocks, dropout
        self.conv_in = layers.Conv1D(channels, kernel_size, padding="same")
        self.res = [ResidualBlock(channels, kernel_size, 2 ** i, dropout) for i in range(blocks)]
        self.norm = layers.LayerNormalization()
        self.proj = layers.Dense(dim)

    def build(self, input_shape):
        self.conv_in.build(input_shape)
        shape = (None, None, self.channels)
        for block in self.res:
            block.build(shape)
        self.norm.build(shape)
        self.proj.build(shape)

    def call(self, x, mask, training=None):
        h = keras.activations.gelu(self.conv_in(x * mask[..., None])) * mask[..., None]
        for block in self.res:
            h = block(h, mask, training=training)
        return pool_codes(self.proj(self.norm(h)), mask, self.rate)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "dim": self.dim, "rate": self.rate,
                "kernel_size": self.kernel_size, "blocks": self.blocks, "dropout": self.dropout}


@register
class SpeechSplitDecoder(layers.Layer):
    """Codes at the frame rate and a voice -> normalised mel: projection, two residual BiLSTMs, projection."""

    def __init__(self, channels, n_mels, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.n_mels, self.dropout = channels, n_mels, dropout
        self.proj_in = layers.Dense(channels)
        self.lstms = [BiLSTM(channels // 2) for _ in range(2)]
        self.drop = layers.Dropout(dropout)
        self.norm = layers.LayerNormalization()
        self.proj_out = layers.Dense(n_mels)

    def build(self, input_shape):
        self.proj_in.build(input_shape)
        shape = (None, None, self.channels)
        for lstm in self.lstms:
            lstm.build(shape)
        self.norm.build(shape)
        self.proj_out.build(shape)

    def call(self, x, mel_length, training=None):
        mask = sequence_mask(mel_length, ops.shape(x)[1])[..., None]
        h = self.proj_in(x) * mask
        for lstm in self.lstms:
            h = (h + self.drop(lstm(h, mel_length, training=training), training=training)) * mask
        return self.proj_out(self.norm(h))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "n_mels": self.n_mels, "dropout": self.dropout}


def upsample_codes(codes, rate: int, n_frames):
    """Each code step repeated ``rate`` times, cut to ``n_frames``."""
    return ops.repeat(codes, rate, axis=1)[:, :n_frames]


@register
class SpeechSplit(ConfiguredModel):
    """Rhythm, content and pitch encoders and a voice-conditioned decoder; build it with :func:`build_speechsplit`.

    ``call`` takes a dict batch: ``mel`` (what the rhythm encoder reads and the target),
    ``mel_length``, ``content_mel`` (the randomly resampled mel; default ``mel``),
    ``pitch`` (classes ``[B, F]``, resampled alike) and ``embedding [B, embedding_dim]``;
    all frame axes of one length. It returns ``{"mel", "rhythm", "content", "pitch"}``
    (the mel in log-mel units, the codes ``[B, steps, dim]``). ``compute_loss``: MSE + MAE
    of the normalised mel over the real frames.
    """

    def __init__(self, config, audio_config, **kwargs):
        super().__init__(**kwargs)
        self.config = SpeechSplitConfig(**config) if isinstance(config, dict) else config
        self.audio_config = AudioConfig(**audio_config) if isinstance(audio_config, dict) else audio_config
        c = self.config
        self.encoders = {
            code: CodeEncoder(c.encoder_channels, getattr(c, f"{code}_dim"), getattr(c, f"{code}_rate"),
                              c.kernel_size, c.encoder_blocks, c.dropout, name=f"{code}_encoder")
            for code in CODES
        }
        self.rhythm_encoder, self.content_encoder, self.pitch_encoder = (self.encoders[k] for k in CODES)
        self.pitch_table = layers.Embedding(c.n_pitch_classes, c.encoder_channels, name="pitch_table")
        self.voice_projection = layers.Dense(c.voice_dim, name="voice_projection")
        self.decoder = SpeechSplitDecoder(c.decoder_channels, self.audio_config.n_mels, c.dropout, name="decoder")
        self.mel_loss_tracker = keras.metrics.Mean(name="mel_loss")
        self.envelope = envelope_projection(self.audio_config.n_mels, min(c.envelope_coefficients,
                                                                           self.audio_config.n_mels))

    def normalize(self, mel):
        return (ops.convert_to_tensor(mel) - self.config.mel_mean) / self.config.mel_std

    def encoder_inputs(self, inputs) -> dict:
        """What each encoder reads ``{name: [B, frames, channels]}``: the normalised mel
        (rhythm), the content mel, its envelope or it centred (content), the pitch classes' embeddings."""
        mel = inputs["mel"]
        content = self.normalize(inputs.get("content_mel", mel))
        if self.config.content_input == "envelope":
            content = ops.matmul(content, ops.convert_to_tensor(self.envelope))
        elif self.config.content_input == "centred":
            mask = sequence_mask(inputs["mel_length"], ops.shape(content)[1])[..., None]
            mean = ops.sum(content * mask, axis=1, keepdims=True) / ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
            content = (content - mean) * mask
        return {"rhythm": self.normalize(mel), "content": content,
                "pitch": self.pitch_table(ops.cast(inputs["pitch"], "int32"))}

    def encode(self, inputs, training=None) -> dict:
        """The three codes ``{name: [B, steps, dim]}`` of a batch (see ``call`` for its keys)."""
        mask = sequence_mask(inputs["mel_length"], ops.shape(inputs["mel"])[1])
        sources = self.encoder_inputs(inputs)
        return {code: self.encoders[code](sources[code], mask, training=training)[0] for code in CODES}

    def voice(self, embedding):
        embedding = ops.convert_to_tensor(embedding)
        return self.voice_projection(embedding / ops.maximum(ops.norm(embedding, axis=-1, keepdims=True), 1e-6))

    def decode(self, codes: dict, embedding, mel_length, n_frames, training=None):
        """Codes and a speaker embedding -> mel ``[B, n_frames, n_mels]`` in log-mel units."""
        c = self.config
        frames = [upsample_codes(codes[code], getattr(c, f"{code}_rate"), n_frames) for code in CODES]
        voice = ops.repeat(self.voice(embedding)[:, None, :], n_frames, axis=1)
        x = ops.concatenate([*frames, voice], axis=-1)
        return self.decoder(x, mel_length, training=training) * c.mel_std + c.mel_mean

    def call(self, inputs, training=None):
        codes = self.encode(inputs, training=training)
        mel = self.decode(codes, inputs["embedding"], inputs["mel_length"], ops.shape(inputs["mel"])[1],
                          training=training)
        return {"mel": mel, **codes}

    def infer(self, inputs):
        """The mel of a dict batch (as ``call`` takes it), compiled once per model for inputs of any length.

        On TensorFlow an eager BiLSTM is a Python loop over the frames;
        :func:`voicelab.train.backend_steps.any_length_function` makes it one graph, traced
        once for every length, so the same input gives the same bits whatever came before.
        """
        if getattr(self, "_inference", None) is None:
            self._inference = backend_steps.any_length_function(lambda x: self(x, training=False)["mel"])
        return self._inference({k: ops.convert_to_tensor(v) for k, v in inputs.items()})

    def infer_decode(self, codes: dict, embedding, mel_length):
        """:meth:`decode` for inference, compiled once per model like :meth:`infer`; the output
        has ``max(mel_length)`` frames."""
        if getattr(self, "_decode_inference", None) is None:
            self._decode_inference = backend_steps.any_length_function(
                lambda c, e, n: self.decode(c, e, n, ops.max(n), training=False))
        return self._decode_inference({k: ops.convert_to_tensor(v) for k, v in codes.items()},
                                      ops.convert_to_tensor(embedding), ops.convert_to_tensor(mel_length))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = masked_mel_loss(self.normalize(x["mel"]), self.normalize(y_pred["mel"]), x["mel_length"])
        self.mel_loss_tracker.update_state(loss)
        return loss

    def build(self, input_shape=None):
        """Create every weight from the config alone."""
        c, n_mels = self.config, self.audio_config.n_mels
        self.rhythm_encoder.build((None, None, n_mels))
        self.content_encoder.build((None, None, n_mels))
        self.pitch_table.build((None, None))
        self.pitch_encoder.build((None, None, c.encoder_channels))
        self.voice_projection.build((None, c.embedding_dim))
        self.decoder.build((None, None, c.rhythm_dim + c.content_dim + c.pitch_dim + c.voice_dim))
        self.built = True


def build_speechsplit(config: SpeechSplitConfig, audio_config: AudioConfig = AudioConfig(), *,
                      learning_rate: float = 1e-3) -> SpeechSplit:
    """Build and compile a :class:`SpeechSplit` (Adam, global gradient norm clipped at 1, no XLA)."""
    if not isinstance(config, SpeechSplitConfig) or not isinstance(audio_config, AudioConfig):
        raise ParameterError(f"build_speechsplit needs a SpeechSplitConfig and an AudioConfig, got "
                             f"{type(config).__name__} and {type(audio_config).__name__}")
    if not learning_rate > 0:
        raise ParameterError(f"learning_rate={learning_rate} must be positive")
    model = SpeechSplit(config, audio_config, name="speechsplit")
    model.build()
    compile_for_fit(model, learning_rate)
    return model


# ---------------------------------------------------------------------------- inference
def _check_mel(model: SpeechSplit, mel, name: str) -> np.ndarray:
    mel = np.asarray(mel, "float32")
    n_mels = model.audio_config.n_mels
    if mel.ndim != 2 or mel.shape[1] != n_mels or mel.shape[0] < 1 or not np.isfinite(mel).all():
        raise ParameterError(f"{name} must be a finite [frames, {n_mels}] log-mel, got shape {mel.shape}")
    return mel


def _check_pitch(model: SpeechSplit, pitch) -> np.ndarray:
    pitch = np.asarray(pitch)
    if pitch.ndim != 1 or pitch.dtype.kind not in "iu" or len(pitch) < 1 or pitch.min() < 0 \
            or pitch.max() >= model.config.n_pitch_classes:
        raise ParameterError(f"pitch must be [frames] classes in [0, {model.config.n_pitch_classes}) "
                             "(voicelab.dsp.prosody.quantize_f0)")
    return pitch


def _check_embedding(model: SpeechSplit, embedding) -> np.ndarray:
    vector = np.asarray(embedding, "float32").reshape(-1)
    if vector.shape != (model.config.embedding_dim,) or not np.isfinite(vector).all() or not vector.any():
        raise ParameterError(f"embedding must be {model.config.embedding_dim} finite numbers, not all zero; "
                             f"got shape {vector.shape}")
    return vector


def split_and_swap(model: SpeechSplit, *, content_mel, rhythm_mel, pitch, embedding) -> np.ndarray:
    """Decode the content of ``content_mel``, the rhythm of ``rhythm_mel``, the ``pitch`` classes, in a voice.

    The output has ``rhythm_mel``'s frames: its rhythm code sets the timing. The content
    mel and the pitch classes are stretched uniformly to that length first
    (:func:`voicelab.dsp.prosody.stretch_to`; a uniform stretch is one of the random
    resamplings the content and pitch encoders were trained on), so any three
    utterances of one sentence combine. Pass one utterance's mel as both mels and its
    own pitch and embedding for a reconstruction.
    """
    rhythm_mel = _check_mel(model, rhythm_mel, "rhythm_mel")
    n = len(rhythm_mel)
    content_mel = stretch_to(_check_mel(model, content_mel, "content_mel"), n)
    pitch = stretch_to(_check_pitch(model, pitch), n)
    inputs = {"mel": rhythm_mel[None], "content_mel": content_mel[None], "pitch": pitch[None].astype("int32"),
              "mel_length": np.array([n], "int32"), "embedding": _check_embedding(model, embedding)[None]}
    return ops.convert_to_numpy(model.infer(inputs))[0]


def codes_of(model: SpeechSplit, mel, pitch) -> dict[str, np.ndarray]:
    """The three codes ``{name: [steps, dim]}`` of one utterance (its mel and pitch classes, one length)."""
    mel = _check_mel(model, mel, "mel")
    pitch = stretch_to(_check_pitch(model, pitch), len(mel))
    codes = model.encode({"mel": mel[None], "pitch": pitch[None].astype("int32"),
                          "mel_length": np.array([len(mel)], "int32")}, training=False)
    return {k: ops.convert_to_numpy(v)[0] for k, v in codes.items()}


def decode_codes(model: SpeechSplit, codes: dict, *, embedding, n_frames: int) -> np.ndarray:
    """Mel ``[n_frames, n_mels]`` from one utterance's three codes ``{name: [steps, dim]}`` and a voice.

    The codes may come from different utterances or from a model of them (notebook 05's
    CodeGAN changes the rhythm and pitch codes); each must have ``ceil(n_frames / rate)`` steps.
    """
    c = model.config
    batch = {}
    for code in CODES:
        value = np.asarray(codes[code], "float32") if code in codes else None
        steps = -(-int(n_frames) // getattr(c, f"{code}_rate"))
        if value is None or value.shape != (steps, getattr(c, f"{code}_dim")) or not np.isfinite(value).all():
            raise ParameterError(f"codes[{code!r}] must be finite [{steps}, {getattr(c, f'{code}_dim')}] for "
                                 f"{n_frames} frames, got {None if value is None else value.shape}")
        batch[code] = value[None]
    mel = model.infer_decode(batch, _check_embedding(model, embedding)[None], np.array([n_frames], "int32"))
    return ops.convert_to_numpy(mel)[0]
