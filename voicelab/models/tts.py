"""CNN + BiLSTM text-to-speech: phoneme ids -> log-mel frames, with a voice embedding.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``.

The model is non-autoregressive (FastSpeech-like) and small enough to read in one go::

    tokens --TextEncoder--> h [B, L, 2*encoder_units]        (embedding, 3 conv blocks, BiLSTM)
    voice  = speaker-id embedding  or  ReferenceEncoder(reference mel)          [B, voice_dim]
    h      = concat(h, voice repeated on every symbol)                         [B, L, C]
    DurationPredictor(h) -> log(1 + frames) per symbol                         [B, L]
    length_regulate(h, durations) -> one row per mel frame                     [B, F, C]
    Decoder (3 conv blocks, BiLSTM, linear, optional postnet) -> log-mel       [B, F, n_mels]

Two options make the decoder's work lighter or its input richer (both off in the seed):
``decoder_reduction=r`` folds ``r`` frames into one decoder step, so the conv blocks
and the BiLSTM run over ``F / r`` steps and the linear layer writes ``r`` frames at once
(Tacotron's reduction factor; the postnet still sees every frame), and
``symbol_position=True`` tells every frame where it stands inside its symbol, from 0 at
the symbol's first frame to 1 at its last, so that the decoder need not count repeated
rows to shape a transition.

Training uses the aligner's durations (:mod:`voicelab.models.align`); inference uses the
predicted ones, scaled by a speed factor. Mels are time-major natural-log mels
``[frames, n_mels]`` as :mod:`voicelab.dsp.features` makes them.

Masking: every block takes the real lengths. Padded positions are zeroed before each
convolution (so a real position near the end sees the same zeros as in an unpadded
sequence), each backward LSTM reads its sequence reversed within its own length
(:class:`BiLSTM`), and normalisation is per position
(``LayerNormalization``, not batch statistics), so padding never changes a real output.
Everything is ``keras.ops`` / standard Keras 3 layers: it trains on TensorFlow and PyTorch.

Example
-------
>>> from voicelab.dsp.features import AudioConfig
>>> cfg = TTSConfig(vocab_size=10, embed_dim=8, encoder_filters=8, encoder_units=4,
...                 voice_dim=4, duration_filters=8, decoder_filters=8, decoder_units=4,
...                 postnet_filters=8)
>>> model = build_tts(cfg, AudioConfig(n_mels=16))
>>> mel, durations = synthesize_mel(model, [3, 5, 7])
>>> mel.shape == (int(durations.sum()), 16), durations.shape
(True, (3,))
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.layers import (
    BiLSTM,
    ConfiguredModel,
    ConvBlock,
    build_convs,
    compile_for_fit,
    register,
    sequence_mask,
)
from voicelab.models.losses import MEL_LOSSES, duration_loss, masked_mel_loss, masked_symbol_mse
from voicelab.models.variance import VarianceAdaptor, VariancePredictor, symbol_means
from voicelab.train import backend_steps

VOICES = ("speaker", "reference")


@dataclasses.dataclass(frozen=True)
class TTSConfig:
    """Sizes and switches of the TTS model (``n_mels`` comes from ``AudioConfig``).

    Parameters
    ----------
    vocab_size : int or None
        Number of symbols, id 0 = padding. ``None`` means ``len(voicelab.text.SYMBOLS)``.
    n_speakers : int
        Rows of the speaker-id embedding (``voice="speaker"``).
    voice : {"speaker", "reference"}
        Where the voice embedding comes from: a learned row per speaker id, or a
        reference encoder that listens to a mel clip (voice cloning).
    embed_dim, encoder_filters, encoder_kernel, encoder_units : int
        Symbol embedding size, conv channels / kernel, LSTM units per direction.
    voice_dim, reference_filters, reference_units : int
        Voice embedding size; the reference encoder's conv channels and GRU units.
    duration_filters, duration_kernel : int
        Duration predictor conv channels and kernel.
    decoder_filters, decoder_kernel, decoder_units : int
        Decoder conv channels / kernel and LSTM units per direction.
    decoder_blocks, decoder_lstm : int, bool
        Conv blocks of the decoder, and whether a BiLSTM follows them (the seed's
        decoder: 3 blocks and the BiLSTM). Without it the decoder is convolutional only.
    postnet, postnet_filters : bool, int
        Whether a residual conv postnet refines the mel, and its channels.
    dropout : float
        Dropout after every conv block (training only).
    mel_mean, mel_std : float
        The decoder predicts ``(mel - mel_mean) / mel_std`` and the reference encoder
        reads the same normalised mel; set them from the training set.
    mel_loss : {"mse+mae", "mae", "mse"}
        The mel loss (:func:`voicelab.models.losses.masked_mel_loss`; the seed's is MSE + MAE).
    duration_loss_weight : float
        Weight of the duration loss against the mel loss.
    n_emotions, emotion_dim : int
        With ``n_emotions > 1``, an emotion-id embedding of ``emotion_dim`` is appended to
        every symbol, like the voice (the batches' ``emotion``); 1 means no emotion input.
    variance, variance_filters : bool, int
        A variance adaptor (:mod:`voicelab.models.variance`): per-symbol pitch and energy
        predictors whose values are embedded and added before the length regulator. It
        trains on the batches' ``f0 [B, F]`` (Hz, 0 where unvoiced).
    pitch_mean, pitch_std : float
        The pitch target is ``(log(f0) - pitch_mean) / pitch_std``; set from the training set.
    variance_loss_weight : float
        Weight of the pitch and energy losses.
    decoder_reduction : int
        Frames per decoder step (1: every frame its own step). With ``r > 1`` the decoder's
        conv blocks and BiLSTM run over ``ceil(F / r)`` steps, each reading ``r`` frames side
        by side, and its linear layer writes ``r`` frames per step (:func:`fold_frames`).
    symbol_position : bool
        Append to every length-regulated frame its position inside its symbol
        (:func:`symbol_positions`): one more input channel of the decoder.
    """

    vocab_size: int | None = None
    n_speakers: int = 1
    voice: str = "speaker"
    embed_dim: int = 128
    encoder_filters: int = 128
    encoder_kernel: int = 5
    encoder_units: int = 64
    voice_dim: int = 64
    reference_filters: int = 64
    reference_units: int = 64
    duration_filters: int = 128
    duration_kernel: int = 3
    decoder_filters: int = 128
    decoder_kernel: int = 5
    decoder_units: int = 128
    decoder_blocks: int = 3
    decoder_lstm: bool = True
    postnet: bool = True
    postnet_filters: int = 128
    dropout: float = 0.1
    mel_mean: float = -5.0
    mel_std: float = 2.0
    mel_loss: str = "mse+mae"
    duration_loss_weight: float = 1.0
    n_emotions: int = 1
    emotion_dim: int = 16
    variance: bool = False
    variance_filters: int = 128
    pitch_mean: float = 5.0
    pitch_std: float = 0.3
    variance_loss_weight: float = 1.0
    decoder_reduction: int = 1
    symbol_position: bool = False

    def __post_init__(self) -> None:
        if self.vocab_size is None:
            from voicelab.text import SYMBOLS

            object.__setattr__(self, "vocab_size", len(SYMBOLS))
        if self.voice not in VOICES:
            raise ParameterError(f"voice={self.voice!r} must be one of {VOICES}")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            # "int" under postponed annotations (this module), int where they are evaluated (a subclass)
            is_int = field.type in (int, "int") or field.name == "vocab_size"
            if is_int and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ParameterError(f"{field.name}={value!r} must be a positive integer")
        if self.mel_loss not in MEL_LOSSES:
            raise ParameterError(f"mel_loss={self.mel_loss!r} must be one of {MEL_LOSSES}")
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"dropout={self.dropout} must be in [0, 1)")
        if not self.mel_std > 0 or not self.pitch_std > 0:
            raise ParameterError(f"mel_std={self.mel_std} and pitch_std={self.pitch_std} must be positive")

    @property
    def symbol_width(self) -> int:
        """Channels of a symbol's vector after the voice (and emotion) are appended."""
        return 2 * self.encoder_units + self.voice_dim + (self.emotion_dim if self.n_emotions > 1 else 0)

    @property
    def decoder_width(self) -> int:
        """Channels of a length-regulated frame: the symbol's vector, plus its position inside the symbol."""
        return self.symbol_width + int(self.symbol_position)


def length_regulate(x, durations, n_frames):
    """Repeat each symbol's vector ``durations`` times: ``[B, L, C] -> [B, n_frames, C]``.

    Built as an alignment matrix ``A[b, f, l] = 1`` when frame ``f`` belongs to symbol
    ``l`` (``start_l <= f < start_l + d_l``, starts from the cumulative durations) and
    one matmul ``A @ x``: the same keras.ops on every backend, dynamic lengths included,
    and differentiable with respect to ``x``. Frames past ``sum(durations)`` are zero.

    Returns ``(frames [B, n_frames, C], alignment [B, n_frames, L])``.

    Example
    -------
    >>> x = np.arange(3, dtype="float32").reshape(1, 3, 1)
    >>> y, _ = length_regulate(x, np.array([[2, 0, 3]]), 6)
    >>> ops.convert_to_numpy(y)[0, :, 0].tolist()
    [0.0, 0.0, 2.0, 2.0, 2.0, 0.0]
    """
    d = ops.cast(durations, "int32")
    ends = ops.cumsum(d, axis=1)
    starts = ends - d
    frames = ops.arange(n_frames, dtype="int32")[None, :, None]
    inside = ops.logical_and(ops.greater_equal(frames, starts[:, None, :]),
                             ops.less(frames, ends[:, None, :]))
    alignment = ops.cast(inside, x.dtype)
    return ops.matmul(alignment, x), alignment


def symbol_positions(durations, alignment):
    """Where each frame stands inside its symbol: ``(k + 0.5) / d`` for the ``k``-th of ``d`` frames.

    ``durations [B, L]`` and the ``alignment [B, F, L]`` of :func:`length_regulate`;
    returns ``[B, F, 1]``, 0 on frames past the last symbol.

    Example
    -------
    >>> d = np.array([[2, 1, 4]])
    >>> _, a = length_regulate(np.ones((1, 3, 1), "float32"), d, 8)
    >>> np.round(ops.convert_to_numpy(symbol_positions(d, a))[0, :, 0], 3).tolist()
    [0.25, 0.75, 0.5, 0.125, 0.375, 0.625, 0.875, 0.0]
    """
    d = ops.cast(durations, alignment.dtype)
    starts = ops.cumsum(d, axis=1) - d
    frame = ops.cast(ops.arange(ops.shape(alignment)[1]), alignment.dtype)[None, :]
    start = ops.einsum("bfl,bl->bf", alignment, starts)
    length = ops.einsum("bfl,bl->bf", alignment, d)
    inside = ops.sum(alignment, axis=-1)
    return ((frame - start + 0.5) / ops.maximum(length, 1.0) * inside)[..., None]


def fold_frames(x, r: int):
    """``[B, F, C] -> [B, ceil(F / r), r * C]``: ``r`` consecutive frames side by side (zero-padded at the end).

    Example
    -------
    >>> x = np.arange(5, dtype="float32").reshape(1, 5, 1)
    >>> ops.convert_to_numpy(fold_frames(x, 2))[0].tolist()
    [[0.0, 1.0], [2.0, 3.0], [4.0, 0.0]]
    """
    pad = (-ops.shape(x)[1]) % r
    x = ops.pad(x, [[0, 0], [0, pad], [0, 0]])
    return ops.reshape(x, (ops.shape(x)[0], -1, r * x.shape[-1]))


def unfold_frames(x, r: int, n_frames):
    """The inverse of :func:`fold_frames`: ``[B, T, r * C] -> [B, n_frames, C]`` (``n_frames <= r * T``)."""
    x = ops.reshape(x, (ops.shape(x)[0], -1, x.shape[-1] // r))
    return x[:, :n_frames]


@register
class TextEncoder(layers.Layer):
    """Symbol embedding -> 3 conv blocks -> BiLSTM: ``[B, L]`` ids -> ``[B, L, 2*units]``."""

    def __init__(self, vocab_size, embed_dim, filters, kernel_size, units, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.args = {"vocab_size": vocab_size, "embed_dim": embed_dim, "filters": filters,
                     "kernel_size": kernel_size, "units": units, "dropout": dropout}
        self.embedding = layers.Embedding(vocab_size, embed_dim)
        self.convs = [ConvBlock(filters, kernel_size, dropout) for _ in range(3)]
        self.lstm = BiLSTM(units)

    def build(self, tokens_shape):
        self.embedding.build(tokens_shape)
        self.lstm.build(build_convs(self.convs, (*tokens_shape, self.args["embed_dim"])))

    def call(self, tokens, token_length, training=None):
        mask = sequence_mask(token_length, ops.shape(tokens)[1])
        x = self.embedding(tokens)
        for conv in self.convs:
            x = conv(x, mask, training=training)
        return self.lstm(x, token_length, training=training) * mask[..., None]

    def get_config(self):
        return {**super().get_config(), **self.args}


@register
class ReferenceEncoder(layers.Layer):
    """A (normalised) mel clip -> 2 conv blocks -> GRU last state -> tanh ``[B, voice_dim]``.

    The small ``voice_dim`` is a bottleneck: it keeps who is speaking and how, not what
    is said. The GRU state is read at each clip's own last frame.
    """

    def __init__(self, filters, units, voice_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.args = {"filters": filters, "units": units, "voice_dim": voice_dim, "dropout": dropout}
        self.convs = [ConvBlock(filters, 3, dropout) for _ in range(2)]
        self.gru = layers.GRU(units, return_sequences=True)
        self.proj = layers.Dense(voice_dim, activation="tanh")

    def build(self, mel_shape):
        self.gru.build(build_convs(self.convs, mel_shape))
        self.proj.build((mel_shape[0], self.args["units"]))

    def call(self, mel, mel_length, training=None):
        mask = sequence_mask(mel_length, ops.shape(mel)[1])
        x = mel
        for conv in self.convs:
            x = conv(x, mask, training=training)
        states = self.gru(x, training=training)  # unmasked: fast path; padding comes after
        last = ops.maximum(ops.cast(mel_length, "int32") - 1, 0)[:, None, None]
        return self.proj(ops.take_along_axis(states, last, axis=1)[:, 0])

    def get_config(self):
        return {**super().get_config(), **self.args}


@register
class DurationPredictor(VariancePredictor):
    """2 conv blocks -> linear: ``[B, L, C]`` -> predicted ``log(1 + frames)`` ``[B, L]``.

    The same network as the variance adaptor's pitch and energy predictors.
    """


@register
class Decoder(layers.Layer):
    """``blocks`` conv blocks -> BiLSTM (unless ``lstm=False``) -> linear to ``n_mels``, then an optional residual postnet.

    With ``reduction=r > 1`` the blocks and the BiLSTM run over ``r`` frames folded into
    one step (:func:`fold_frames`) and the linear layer writes ``r * n_mels`` values a
    step, unfolded back to frames before the postnet.

    Returns ``(mel_before_postnet, mel)`` in normalised units, ``[B, F, n_mels]`` each.
    """

    def __init__(self, n_mels, filters, kernel_size, units, postnet=True, postnet_filters=128,
                 dropout=0.0, blocks=3, lstm=True, reduction=1, **kwargs):
        super().__init__(**kwargs)
        self.args = {"n_mels": n_mels, "filters": filters, "kernel_size": kernel_size, "units": units,
                     "postnet": postnet, "postnet_filters": postnet_filters, "dropout": dropout,
                     "blocks": blocks, "lstm": lstm, "reduction": reduction}
        self.convs = [ConvBlock(filters, kernel_size, dropout) for _ in range(blocks)]
        self.lstm = BiLSTM(units) if lstm else None
        self.proj = layers.Dense(reduction * n_mels)
        self.postnet = [ConvBlock(postnet_filters, kernel_size, dropout, "tanh")
                        for _ in range(3)] if postnet else []
        self.postnet_proj = layers.Dense(n_mels) if postnet else None

    def build(self, input_shape):
        r = self.args["reduction"]
        shape = build_convs(self.convs, (*input_shape[:-1], r * input_shape[-1]))
        if self.lstm is not None:
            self.lstm.build(shape)
            shape = (*shape[:-1], 2 * self.args["units"])
        self.proj.build(shape)
        if self.postnet:
            self.postnet_proj.build(build_convs(self.postnet, (*shape[:-1], self.args["n_mels"])))

    def call(self, x, lengths, training=None):
        r, n_frames = self.args["reduction"], ops.shape(x)[1]
        seq_mask = sequence_mask(lengths, n_frames)
        steps = (ops.cast(lengths, "int32") + r - 1) // r
        if r > 1:
            x = fold_frames(x, r)
        step_mask = sequence_mask(steps, ops.shape(x)[1])
        for conv in self.convs:
            x = conv(x, step_mask, training=training)
        if self.lstm is not None:
            x = self.lstm(x, steps, training=training)
        before = self.proj(x)
        if r > 1:
            before = unfold_frames(before, r, n_frames)
        before = before * seq_mask[..., None]
        if not self.postnet:
            return before, before
        y = before
        for conv in self.postnet:
            y = conv(y, seq_mask, training=training)
        return before, before + self.postnet_proj(y) * seq_mask[..., None]

    def get_config(self):
        return {**super().get_config(), **self.args}


@register
class TTSModel(ConfiguredModel):
    """The whole text-to-mel model; build it with :func:`build_tts`.

    ``call`` is the teacher-forced training pass on a dict batch (``tokens``,
    ``token_length``, ``durations``, ``mel``, ``mel_length`` and ``speaker`` or an optional
    ``reference_mel`` / ``reference_length``; without them the target mel is its own
    reference). It returns ``{"mel", "mel_before_postnet", "log_durations"}`` with
    the mels in log-mel units. ``compute_loss`` holds the masked losses, so ``fit`` works
    unchanged on every backend. :meth:`infer` is the inference pass (eager only).
    """

    def __init__(self, config, audio_config, **kwargs):
        super().__init__(**kwargs)
        if isinstance(config, dict):
            config = TTSConfig(**config)
        if isinstance(audio_config, dict):
            audio_config = AudioConfig(**audio_config)
        self.config, self.audio_config = config, audio_config
        c = config
        self.encoder = TextEncoder(c.vocab_size, c.embed_dim, c.encoder_filters,
                                   c.encoder_kernel, c.encoder_units, c.dropout)
        if c.voice == "speaker":
            self.speaker_embedding = layers.Embedding(c.n_speakers, c.voice_dim)
        else:
            self.reference_encoder = ReferenceEncoder(c.reference_filters, c.reference_units,
                                                      c.voice_dim, c.dropout)
        self.emotion_embedding = layers.Embedding(c.n_emotions, c.emotion_dim) if c.n_emotions > 1 else None
        self.duration_predictor = DurationPredictor(c.duration_filters, c.duration_kernel, c.dropout)
        self.variance_adaptor = (VarianceAdaptor(c.symbol_width, c.variance_filters, 3, c.dropout)
                                 if c.variance else None)
        self.decoder = Decoder(audio_config.n_mels, c.decoder_filters, c.decoder_kernel,
                               c.decoder_units, c.postnet, c.postnet_filters, c.dropout,
                               blocks=c.decoder_blocks, lstm=c.decoder_lstm, reduction=c.decoder_reduction)
        self.mel_loss_tracker = keras.metrics.Mean(name="mel_loss")
        self.duration_loss_tracker = keras.metrics.Mean(name="duration_loss")
        if c.variance:
            self.pitch_loss_tracker = keras.metrics.Mean(name="pitch_loss")
            self.energy_loss_tracker = keras.metrics.Mean(name="energy_loss")

    # ------------------------------------------------------------------ passes
    def voice_embedding(self, inputs, training=None):
        """``[B, voice_dim]`` from ``speaker`` ids or from a reference mel."""
        if self.config.voice == "speaker":
            return self.speaker_embedding(ops.cast(inputs["speaker"], "int32"))
        mel = inputs.get("reference_mel", inputs.get("mel"))
        length = inputs.get("reference_length", inputs.get("mel_length"))
        mel = (mel - self.config.mel_mean) / self.config.mel_std
        return self.reference_encoder(mel, length, training=training)

    def encode(self, inputs, training=None):
        """Encoded symbols with the voice appended, their mask and predicted log durations."""
        tokens = inputs["tokens"]
        token_mask = sequence_mask(inputs["token_length"], ops.shape(tokens)[1])
        h = self.encoder(tokens, inputs["token_length"], training=training)
        voice = self.voice_embedding(inputs, training=training)
        appended = [voice]
        if self.emotion_embedding is not None:
            appended.append(self.emotion_embedding(ops.cast(inputs["emotion"], "int32")))
        for vector in appended:
            vector = ops.repeat(vector[:, None, :], ops.shape(h)[1], axis=1) * token_mask[..., None]
            h = ops.concatenate([h, vector], axis=-1)
        # stop_gradient: the duration loss trains the predictor, not the encoder (Glow-TTS).
        log_durations = self.duration_predictor(ops.stop_gradient(h), token_mask, training=training)
        return h, token_mask, log_durations

    def decode(self, h, durations, mel_length, n_frames, training=None):
        """Length-regulate ``h`` and decode: returns ``(mel_before, mel, alignment)`` in log-mel."""
        frames, alignment = length_regulate(h, durations, n_frames)
        if self.config.symbol_position:
            frames = ops.concatenate([frames, symbol_positions(durations, alignment)], axis=-1)
        before, after = self.decoder(frames, mel_length, training=training)
        c = self.config
        return before * c.mel_std + c.mel_mean, after * c.mel_std + c.mel_mean, alignment

    def variance_targets(self, inputs, durations, n_frames):
        """Per-symbol pitch and energy of the recording: ``{"pitch": [B, L], "energy": [B, L]}``.

        Energy: the normalised log-mel averaged over the bands, per frame, then over each
        symbol's frames. Pitch: ``(log(f0) - pitch_mean) / pitch_std`` averaged over each
        symbol's voiced frames (0 for a symbol without any).
        """
        c = self.config
        _, alignment = length_regulate(ops.ones_like(ops.cast(durations, "float32"))[..., None],
                                       durations, n_frames)
        frame_mask = sequence_mask(inputs["mel_length"], n_frames)
        energy = ops.mean((ops.convert_to_tensor(inputs["mel"]) - c.mel_mean) / c.mel_std, axis=-1) * frame_mask
        f0 = ops.convert_to_tensor(inputs["f0"])
        voiced = ops.cast(f0 > 0, "float32") * frame_mask
        pitch = (ops.log(ops.maximum(f0, 1.0)) - c.pitch_mean) / c.pitch_std * voiced
        return {"pitch": symbol_means(pitch, alignment, voiced),
                "energy": symbol_means(energy, alignment, frame_mask)}

    def call(self, inputs, training=None):
        h, token_mask, log_durations = self.encode(inputs, training=training)
        durations = ops.cast(inputs["durations"], "int32") * ops.cast(token_mask, "int32")
        n_frames = ops.shape(inputs["mel"])[1]
        out = {"log_durations": log_durations}
        if self.variance_adaptor is not None:
            targets = self.variance_targets(inputs, durations, n_frames)
            h, predicted = self.variance_adaptor(h, token_mask, targets["pitch"], targets["energy"],
                                                 training=training)
            out |= {"pitch": predicted["pitch"], "energy": predicted["energy"],
                    "pitch_target": targets["pitch"], "energy_target": targets["energy"]}
        before, mel, _ = self.decode(h, durations, inputs["mel_length"], n_frames, training=training)
        return {**out, "mel": mel, "mel_before_postnet": before}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        kind = self.config.mel_loss
        mel_loss = masked_mel_loss(x["mel"], y_pred["mel_before_postnet"], x["mel_length"], kind)
        if self.config.postnet:
            mel_loss = mel_loss + masked_mel_loss(x["mel"], y_pred["mel"], x["mel_length"], kind)
        dur_loss = duration_loss(x["durations"], y_pred["log_durations"], x["token_length"])
        self.mel_loss_tracker.update_state(mel_loss)
        self.duration_loss_tracker.update_state(dur_loss)
        total = mel_loss + self.config.duration_loss_weight * dur_loss
        if self.variance_adaptor is not None:
            pitch_loss = masked_symbol_mse(y_pred["pitch_target"], y_pred["pitch"], x["token_length"])
            energy_loss = masked_symbol_mse(y_pred["energy_target"], y_pred["energy"], x["token_length"])
            self.pitch_loss_tracker.update_state(pitch_loss)
            self.energy_loss_tracker.update_state(energy_loss)
            total = total + self.config.variance_loss_weight * (pitch_loss + energy_loss)
        return total

    def infer(self, inputs, speed=1.0):
        """Inference on a dict batch without ``durations``/``mel``.

        The encoder (with the variance adaptor) and the decoder run as two compiled
        functions (``voicelab.train.backend_steps.any_length_function``), each traced once
        for every length, so a sentence comes out the same bits whatever was spoken
        before; the durations between them are rounded outside, where the number of
        frames becomes known.

        Durations are ``round((exp(log_d) - 1) / speed)``, at least 1 frame per real
        symbol. Returns ``(mel [B, F, n_mels], durations [B, L], alignment [B, F, L])``.
        """
        if getattr(self, "_inference", None) is None:   # compiled once per model (see backend_steps)
            self._inference = (backend_steps.any_length_function(self._infer_encode),
                               backend_steps.any_length_function(self._infer_decode))
        encode, decode = self._inference
        inputs = {k: ops.convert_to_tensor(v) for k, v in inputs.items()}
        h, token_mask, log_durations = encode(inputs)
        frames = ops.round(ops.maximum(ops.expm1(log_durations), 0.0) / speed)
        durations = ops.cast(ops.maximum(frames, 1.0) * token_mask, "int32")
        mel_length = ops.sum(durations, axis=1)
        n_frames = ops.max(mel_length)
        mel, alignment = decode(h, durations, mel_length, n_frames)
        return mel, durations, alignment

    def _infer_encode(self, inputs):
        h, token_mask, log_durations = self.encode(inputs, training=False)
        if self.variance_adaptor is not None:
            h, _ = self.variance_adaptor(h, token_mask, training=False)
        return h, token_mask, log_durations

    def _infer_decode(self, h, durations, mel_length, n_frames):
        _, mel, alignment = self.decode(h, durations, mel_length, n_frames, training=False)
        return mel, alignment

    # ------------------------------------------------------------------ saving (ConfiguredModel)
    def build(self, input_shape=None):
        """Create every weight from the config alone (no forward pass, no tracing)."""
        c, n_mels = self.config, self.audio_config.n_mels
        self.encoder.build((None, None))
        if c.voice == "speaker":
            self.speaker_embedding.build((None,))
        else:
            self.reference_encoder.build((None, None, n_mels))
        width = c.symbol_width
        if self.emotion_embedding is not None:
            self.emotion_embedding.build((None,))
        if self.variance_adaptor is not None:
            self.variance_adaptor.build((None, None, width))
        self.duration_predictor.build((None, None, width))
        self.decoder.build((None, None, c.decoder_width))
        self.built = True


def build_tts(config: TTSConfig, audio_config: AudioConfig, *, learning_rate=1e-3) -> TTSModel:
    """Build and compile the TTS model (Adam, global gradient norm clipped at 1).

    The model is built (weights created) here, so ``summary()``, ``BackupAndRestore``
    and saving work before the first ``fit``. XLA is off: batch shapes vary.
    ``learning_rate`` is a number or a ``keras.optimizers.schedules.LearningRateSchedule``.
    """
    if not isinstance(config, TTSConfig) or not isinstance(audio_config, AudioConfig):
        raise ParameterError(f"build_tts needs a TTSConfig and an AudioConfig, got "
                             f"{type(config).__name__} and {type(audio_config).__name__}")
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) and not learning_rate > 0:
        raise ParameterError(f"learning_rate={learning_rate} must be positive (or a LearningRateSchedule)")
    model = TTSModel(config, audio_config, name="tts")
    model.build()
    compile_for_fit(model, learning_rate)
    return model


WARM_START_PARTS = ("encoder", "speaker_embedding", "duration_predictor", "decoder")


def warm_start(model: TTSModel, source: TTSModel, parts=WARM_START_PARTS) -> list[str]:
    """Copy ``source``'s trained weights into the matching parts of ``model``; the parts copied.

    A part (an attribute such as ``"decoder"``) is copied when both models have it,
    weight by weight in order. A weight of ``model`` that is wider along one axis than
    the source's (a layer reading the voice and an emotion vector where the source read
    the voice only) receives the source's weight in its leading slice and zeros in the
    rest, so the warm-started model computes what the source did until training moves
    the new weights. Every other part (a reference encoder, an emotion embedding, the
    variance adaptor) keeps its fresh initialisation.

    Example
    -------
    >>> from voicelab.dsp.features import AudioConfig
    >>> cfg = TTSConfig(vocab_size=10, embed_dim=8, encoder_filters=8, encoder_units=4, voice_dim=4,
    ...                 duration_filters=8, decoder_filters=8, decoder_units=4, postnet_filters=8)
    >>> source = build_tts(cfg, AudioConfig(n_mels=16))
    >>> model = build_tts(dataclasses.replace(cfg, voice="reference"), AudioConfig(n_mels=16))
    >>> warm_start(model, source)
    ['encoder', 'duration_predictor', 'decoder']
    """
    if not isinstance(model, TTSModel) or not isinstance(source, TTSModel):
        raise ParameterError(f"warm_start needs two TTS models, got {type(model).__name__} and "
                             f"{type(source).__name__}")
    copied = []
    for part in parts:
        new, old = getattr(model, part, None), getattr(source, part, None)
        if new is None or old is None:
            continue
        if len(new.weights) != len(old.weights):
            raise ParameterError(f"warm_start: the {part} has {len(new.weights)} weights here and "
                                 f"{len(old.weights)} in the source (a different architecture)")
        for variable, value in zip(new.weights, old.weights):
            variable.assign(_grown(ops.convert_to_numpy(value), tuple(variable.shape), f"{part}/{variable.path}"))
        copied.append(part)
    return copied


def _grown(value: np.ndarray, shape: tuple, name: str) -> np.ndarray:
    """``value`` in the leading slice of a zero array of ``shape`` (equal, or wider along one axis)."""
    if value.shape == shape:
        return value
    wider = [axis for axis, (a, b) in enumerate(zip(value.shape, shape)) if a != b]
    if len(value.shape) != len(shape) or len(wider) != 1 or shape[wider[0]] < value.shape[wider[0]]:
        raise ParameterError(f"warm_start: {name} has shape {shape}, the source's {value.shape}: "
                             "only one axis may be wider")
    out = np.zeros(shape, value.dtype)
    out[tuple(slice(0, n) for n in value.shape)] = value
    return out


def synthesize_mel(model: TTSModel, token_ids, *, speaker: int | None = None,
                   reference_mel: np.ndarray | None = None, speed: float = 1.0, emotion: int | None = None):
    """Speak one sentence: symbol ids -> ``(mel [F, n_mels], durations [L])`` as numpy.

    Parameters
    ----------
    model : TTSModel
        From :func:`build_tts` or ``keras.models.load_model``.
    token_ids : sequence of int
        Symbol ids without padding (``voicelab.text.text_to_ids``).
    speaker : int, optional
        Speaker id for ``voice="speaker"``; may be left out when there is one speaker.
    reference_mel : array ``[frames, n_mels]``, optional
        The voice to clone, for ``voice="reference"``.
    speed : float
        > 1 speaks faster (durations divided by ``speed``), < 1 slower.
    emotion : int, optional
        Emotion id, for a model with ``n_emotions > 1`` (default 0, the first emotion).

    Returns
    -------
    mel : ndarray ``[F, n_mels]``, natural-log mel; ``F == durations.sum()``.
    durations : ndarray ``[L]`` int32, frames per symbol.
    """
    tokens = np.asarray(token_ids)
    c = model.config
    if tokens.ndim != 1 or tokens.size == 0 or not np.issubdtype(tokens.dtype, np.integer):
        raise ParameterError(f"token_ids must be a non-empty 1-D sequence of ints, got {tokens!r}")
    if tokens.min() < 1 or tokens.max() >= c.vocab_size:
        raise ParameterError(f"token_ids must be in [1, {c.vocab_size}) (0 is padding), got {tokens.tolist()}")
    if not (np.isfinite(speed) and speed > 0):
        raise ParameterError(f"speed={speed} must be a positive number")
    inputs = {"tokens": tokens[None].astype("int32"), "token_length": np.array([tokens.size], "int32")}
    if c.voice == "speaker":
        if speaker is None and c.n_speakers > 1:
            raise ParameterError(f"speaker=None: this model has {c.n_speakers} speakers, pass an id")
        speaker = 0 if speaker is None else speaker
        if not 0 <= int(speaker) < c.n_speakers:
            raise ParameterError(f"speaker={speaker} must be in [0, {c.n_speakers})")
        inputs["speaker"] = np.array([speaker], "int32")
    else:
        ref = None if reference_mel is None else np.asarray(reference_mel, "float32")
        n_mels = model.audio_config.n_mels
        if ref is None or ref.ndim != 2 or ref.shape[1] != n_mels or ref.shape[0] < 1:
            raise ParameterError(f"voice='reference' needs reference_mel [frames, {n_mels}], got "
                                 f"{None if ref is None else ref.shape}")
        inputs["reference_mel"] = ref[None]
        inputs["reference_length"] = np.array([ref.shape[0]], "int32")
    if c.n_emotions > 1:
        emotion = 0 if emotion is None else emotion
        if isinstance(emotion, bool) or not isinstance(emotion, (int, np.integer)) or not 0 <= emotion < c.n_emotions:
            raise ParameterError(f"emotion={emotion!r} must be an id in [0, {c.n_emotions})")
        inputs["emotion"] = np.array([emotion], "int32")
    elif emotion not in (None, 0):
        raise ParameterError(f"emotion={emotion!r}: this model has no emotion input (n_emotions=1)")
    mel, durations, _ = model.infer(inputs, speed=speed)
    return ops.convert_to_numpy(mel)[0], ops.convert_to_numpy(durations)[0]
