"""A speech recogniser of spoken commands: a CTC transcript and an intent, from one encoder.

Introduced in ``notebooks/06_spoken_command_data.ipynb`` (its recipe:
:mod:`voicelab.recipes.recogniser`). After Graves et al. (2006, CTC) and the
DeepSpeech 2 shape (Amodei et al., 2016): convolutions that subsample time, then
bidirectional recurrent layers, then two heads.

- **Front end**: the normalised log-mel ``[B, F, n_mels]`` (10 ms hop, 40 mels in the
  recipe), right padded, ``mel_length [B]``; 1-D convolutions (LayerNorm, ReLU,
  dropout), the first with stride ``time_stride``: ``F' = ceil(F / time_stride)`` frames.
  Each convolution pads its input by ``kernel_size - 1`` zeros, half before and half
  after, and is then "valid": output frame ``j`` always reads the same input frames,
  whatever the batch's padded length, so padding never changes a real output.
- **Encoder**: ``rnn_layers`` bidirectional GRUs (or LSTMs). The backward direction
  reads each utterance reversed *within its own length*, as
  :class:`voicelab.models.layers.BiLSTM` does: no Keras mask, so the fast kernels run
  (cuDNN on a GPU).
- **CTC head**: ``Dense(len(alphabet) + 1)`` logits per encoder frame; the last class is
  CTC's *blank*. :func:`greedy_decode` takes the best class of each frame, merges
  repeats and drops blanks ("hh-e-ll-llo" -> "hello").
- **Intent head**: the mean of the encoder's real frames -> ``Dense`` (ReLU) -> ``Dense(n_intents)``.

**Why the intent comes from a head and the slots from the transcript.** The intent is
one of a few classes and depends on the whole utterance; a classifier on the pooled
encoder sees all of it, and still answers "weather" when one letter of the transcript
is wrong ("wether in paris"), where a parser of the transcript would fail. A slot
*value* (a contact's name, a town) is open: the test split ``test_values`` holds values
never heard in training, which no classifier over known values could output, but
characters can spell them. So the intent is the head's, and the slots are read from
the transcript by the grammar's parser (:func:`voicelab.data.commands.parse`).

**Frames against letters.** CTC needs at least one output frame per label, plus a
blank between two equal letters in a row ("ll" in "call"). Synthetic speech reads about
15-18 characters a second (flite: 68 characters in 3.9 s); a 10 ms hop with
``time_stride=2`` leaves 50 frames a second, about three per character, so even a voice
twice as fast fits. ``time_stride=4`` (25 a second) leaves little room and a clip read
fast may have no CTC path at all (an infinite loss; the recipe leaves such training
clips out: :func:`ctc_fits`).

The loss is the CTC loss per character of the transcript (mean over the batch) plus
``intent_weight`` times the intent's cross-entropy; ``ctc`` (per character) and
``intent_accuracy`` are logged at every step. Everything is ``keras.ops``: the model
trains on TensorFlow and PyTorch and saves as ``model.keras``.

Example
-------
>>> config = RecogniserConfig(intents=("call", "weather"), conv_channels=(8,), rnn_units=8, rnn_layers=1)
>>> model = build_recogniser(config)
>>> [(type(text).__name__, intent in config.intents, probs.shape)
...  for text, intent, probs in predict(model, [np.zeros((30, 40))])]
[('str', True, (2,))]
>>> encode_text("call", config.alphabet).tolist()
[3, 1, 12, 12]
"""

from __future__ import annotations

import dataclasses
import weakref

import keras
import numpy as np
import scipy.special
from keras import layers, ops

from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.layers import (
    ConfiguredModel,
    code_lengths,
    compile_for_fit,
    register,
    reverse_sequences,
    sequence_mask,
)

ALPHABET = " abcdefghijklmnopqrstuvwxyz'"
"""The characters of a transcript: space, a-z, apostrophe (CTC's blank is one class more)."""

INTENTS = ("call", "set_timer", "weather", "play_music", "lights_on", "lights_off")
"""The home assistant's intents (notebook 06)."""

RECOGNISER_AUDIO = AudioConfig(n_fft=512, hop_length=160, win_length=400, n_mels=40)
"""The recogniser's features: 25 ms windows every 10 ms, 40 mel bands (speech recognition's usual)."""

RNNS = ("gru", "lstm")


@dataclasses.dataclass(frozen=True)
class RecogniserConfig:
    """Sizes of the recogniser.

    Parameters
    ----------
    n_mels : int
        Mel bands of the input (the model's ``audio_config`` must agree).
    alphabet : str
        The characters, one class each; the CTC blank is class ``len(alphabet)``.
    intents : tuple of str
        The intent classes, in the order of their ids.
    n_intents : int, optional
        ``len(intents)`` (given, it must agree).
    conv_channels : tuple of int
        One 1-D convolution per entry; the first subsamples time.
    conv_kernel : int
    time_stride : int
        Input frames per encoder frame (1-4), the first convolution's stride.
    rnn : str
        ``"gru"`` or ``"lstm"``, each layer bidirectional.
    rnn_units, rnn_layers : int
        Units per direction; layers.
    intent_units : int
        Hidden units of the intent head.
    dropout : float
    intent_weight : float
        Weight of the intent's cross-entropy beside the CTC loss per character.
    mel_mean, mel_std : float
        Training-set statistics of the log-mel.
    """

    n_mels: int = 40
    alphabet: str = ALPHABET
    intents: tuple = INTENTS
    n_intents: int | None = None
    conv_channels: tuple = (128, 128)
    conv_kernel: int = 5
    time_stride: int = 2
    rnn: str = "gru"
    rnn_units: int = 128
    rnn_layers: int = 2
    intent_units: int = 64
    dropout: float = 0.1
    intent_weight: float = 1.0
    mel_mean: float = -5.0
    mel_std: float = 2.5

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)   # noqa: E731 (frozen)
        set_("intents", tuple(str(i) for i in self.intents))
        set_("conv_channels", tuple(self.conv_channels))
        if not isinstance(self.alphabet, str) or not self.alphabet or len(set(self.alphabet)) != len(self.alphabet):
            raise ParameterError(f"alphabet={self.alphabet!r} must be a non-empty string of distinct characters")
        if len(set(self.intents)) != len(self.intents):
            raise ParameterError(f"intents={self.intents} must be distinct names")
        if self.n_intents is None:
            set_("n_intents", len(self.intents))
        if isinstance(self.n_intents, bool) or not isinstance(self.n_intents, (int, np.integer)) or self.n_intents < 1:
            raise ParameterError(f"n_intents={self.n_intents!r} must be at least 1 (intents={self.intents})")
        if self.n_intents != len(self.intents):
            raise ParameterError(f"n_intents={self.n_intents} does not match the {len(self.intents)} intents "
                                 f"{self.intents}")
        for name in ("n_mels", "conv_kernel", "rnn_units", "rnn_layers", "intent_units"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not self.conv_channels or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1
                                         for c in self.conv_channels):
            raise ParameterError(f"conv_channels={self.conv_channels!r} must be one or more positive integers")
        if self.time_stride not in (1, 2, 3, 4):
            raise ParameterError(f"time_stride={self.time_stride!r} must be 1, 2, 3 or 4")
        if self.rnn not in RNNS:
            raise ParameterError(f"rnn={self.rnn!r} must be one of {RNNS}")
        if not 0 <= self.dropout < 1 or not self.mel_std > 0 or not self.intent_weight >= 0:
            raise ParameterError(f"need 0 <= dropout < 1, mel_std > 0 and intent_weight >= 0, got "
                                 f"{self.dropout}, {self.mel_std}, {self.intent_weight}")

    @property
    def blank(self) -> int:
        """The CTC blank's class: ``len(alphabet)``."""
        return len(self.alphabet)


@register
class Recogniser(ConfiguredModel):
    """Log-mel -> CTC logits and intent logits; build it with :func:`build_recogniser`.

    ``call`` takes ``{"mel", "mel_length"}`` and returns ``{"logits" [B, F', C],
    "intent" [B, n_intents], "frame_length" [B]}``. ``compute_loss`` takes the targets
    ``{"labels" [B, L] (padded with 0), "label_length" [B], "intent" [B]}``.
    """

    def __init__(self, config, audio_config, **kwargs):
        super().__init__(**kwargs)
        self.config = RecogniserConfig(**config) if isinstance(config, dict) else config
        self.audio_config = AudioConfig(**audio_config) if isinstance(audio_config, dict) else audio_config
        c = self.config
        self.convs = [layers.Conv1D(ch, c.conv_kernel, strides=c.time_stride if i == 0 else 1, padding="valid",
                                    name=f"conv_{i}") for i, ch in enumerate(c.conv_channels)]
        self.norms = [layers.LayerNormalization(name=f"conv_norm_{i}") for i in range(len(c.conv_channels))]
        rnn = layers.GRU if c.rnn == "gru" else layers.LSTM
        self.forward_rnns = [rnn(c.rnn_units, return_sequences=True, name=f"{c.rnn}_{i}_forward")
                             for i in range(c.rnn_layers)]
        self.backward_rnns = [rnn(c.rnn_units, return_sequences=True, name=f"{c.rnn}_{i}_backward")
                              for i in range(c.rnn_layers)]
        self.drop = layers.Dropout(c.dropout)
        self.ctc_logits = layers.Dense(len(c.alphabet) + 1, name="ctc_logits")
        self.intent_hidden = layers.Dense(c.intent_units, activation="relu", name="intent_hidden")
        self.intent_logits = layers.Dense(c.n_intents, name="intent_logits")
        self.ctc_tracker = keras.metrics.Mean(name="ctc")
        self.accuracy_tracker = keras.metrics.Mean(name="intent_accuracy")

    def encode(self, mel, mel_length, training=None):
        """``(encoder frames [B, F', 2 * rnn_units], frame_length [B])``; padding frames are zero."""
        c = self.config
        mel = ops.convert_to_tensor(mel, "float32")
        n = ops.cast(mel_length, "int32")
        h = (mel - c.mel_mean) / c.mel_std * sequence_mask(n, ops.shape(mel)[1])[..., None]
        before = (c.conv_kernel - 1) // 2
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = conv(ops.pad(h, [[0, 0], [before, c.conv_kernel - 1 - before], [0, 0]]))   # ceil(F / stride) frames
            if i == 0:
                n = code_lengths(n, c.time_stride)
            mask = sequence_mask(n, ops.shape(h)[1])[..., None]
            h = self.drop(ops.relu(norm(h)), training=training) * mask
        for forward, backward in zip(self.forward_rnns, self.backward_rnns):
            ahead = forward(h, training=training)
            behind = reverse_sequences(backward(reverse_sequences(h, n), training=training), n)
            h = self.drop(ops.concatenate([ahead, behind], axis=-1), training=training) * mask
        return h, n

    def call(self, inputs, training=None):
        h, n = self.encode(inputs["mel"], inputs["mel_length"], training=training)
        mask = sequence_mask(n, ops.shape(h)[1])[..., None]
        pooled = ops.sum(h, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)
        intent = self.intent_logits(self.drop(self.intent_hidden(pooled), training=training))
        return {"logits": self.ctc_logits(h), "intent": intent, "frame_length": n}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        c = self.config
        label_length = ops.cast(y["label_length"], "int32")
        ctc = ops.ctc_loss(ops.cast(y["labels"], "int32"), y_pred["logits"], label_length,
                           ops.cast(y_pred["frame_length"], "int32"), mask_index=c.blank)
        ctc = ops.mean(ops.cast(ctc, "float32") / ops.cast(ops.maximum(label_length, 1), "float32"))
        intent = ops.cast(y["intent"], "int32")
        cross_entropy = ops.mean(keras.losses.sparse_categorical_crossentropy(intent, y_pred["intent"],
                                                                              from_logits=True))
        correct = ops.equal(ops.cast(ops.argmax(y_pred["intent"], axis=-1), "int32"), intent)
        self.ctc_tracker.update_state(ctc)
        self.accuracy_tracker.update_state(ops.mean(ops.cast(correct, "float32")))
        return ctc + c.intent_weight * cross_entropy

    def build(self, input_shape=None):
        """Create every weight from the config alone (no forward pass)."""
        c = self.config
        channels = c.n_mels
        for conv, norm, width in zip(self.convs, self.norms, c.conv_channels):
            conv.build((None, None, channels))
            norm.build((None, None, width))
            channels = width
        for forward, backward in zip(self.forward_rnns, self.backward_rnns):
            forward.build((None, None, channels))
            backward.build((None, None, channels))
            channels = 2 * c.rnn_units
        self.ctc_logits.build((None, None, channels))
        self.intent_hidden.build((None, channels))
        self.intent_logits.build((None, c.intent_units))
        self.built = True


def build_recogniser(config: RecogniserConfig, audio_config: AudioConfig = RECOGNISER_AUDIO, *,
                     learning_rate: float = 1e-3) -> Recogniser:
    """Build and compile a :class:`Recogniser` (Adam, global gradient norm clipped at 1, no XLA).

    ``audio_config`` is saved with the model, so :func:`voicelab.recipes.recogniser.recognise`
    computes the same features from a sound file.
    """
    if not isinstance(config, RecogniserConfig) or not isinstance(audio_config, AudioConfig):
        raise ParameterError(f"build_recogniser needs a RecogniserConfig and an AudioConfig, got "
                             f"{type(config).__name__} and {type(audio_config).__name__}")
    if audio_config.n_mels != config.n_mels:
        raise ParameterError(f"audio_config.n_mels={audio_config.n_mels} differs from config.n_mels={config.n_mels}")
    if not learning_rate > 0:
        raise ParameterError(f"learning_rate={learning_rate} must be positive")
    model = Recogniser(config, audio_config, name="recogniser")
    model.build()
    compile_for_fit(model, learning_rate)
    return model


# ---------------------------------------------------------------------------- text <-> classes
def encode_text(text: str, alphabet: str = ALPHABET) -> np.ndarray:
    """The class of each character of ``text``, int32 ``[len(text)]``.

    >>> encode_text("hi anna", "abcdefghijklmnopqrstuvwxyz ").tolist()
    [7, 8, 26, 0, 13, 13, 0]
    """
    index = {ch: i for i, ch in enumerate(alphabet)}
    unknown = sorted({ch for ch in text if ch not in index})
    if unknown:
        raise ParameterError(f"text {text!r} has characters not in the alphabet {alphabet!r}: {unknown}")
    return np.array([index[ch] for ch in text], dtype="int32")


def ctc_frames_needed(labels) -> int:
    """Fewest output frames CTC needs for ``labels``: one per label, plus a blank between equal neighbours.

    >>> ctc_frames_needed(encode_text("call"))   # c a l - l
    5
    """
    labels = np.asarray(labels)
    return int(len(labels) + np.sum(labels[1:] == labels[:-1]))


def ctc_fits(text: str, n_frames: int, config: RecogniserConfig) -> bool:
    """True when a clip of ``n_frames`` mel frames has a CTC path for ``text`` after subsampling."""
    return -(-int(n_frames) // config.time_stride) >= ctc_frames_needed(encode_text(text, config.alphabet))


def greedy_decode(logits, lengths, alphabet: str = ALPHABET) -> list[str]:
    """Best path decoding: the best class of each real frame, repeats merged, blanks dropped.

    ``logits`` ``[B, F', len(alphabet) + 1]`` (the blank last), ``lengths`` ``[B]``. Runs
    of spaces become one; leading and trailing spaces are dropped.

    >>> blank = len(ALPHABET)
    >>> frames = np.eye(blank + 1)[[3, 3, blank, 1, 12, blank, 12, 0, 0, blank]][None]
    >>> greedy_decode(frames, [10])
    ['call']
    """
    best = np.argmax(np.asarray(logits), axis=-1)
    blank = len(alphabet)
    out = []
    for row, n in zip(best, np.asarray(lengths).reshape(-1)):
        row = row[: int(n)]
        keep = np.ones(len(row), bool)
        keep[1:] = row[1:] != row[:-1]
        chars = [alphabet[k] for k in row[keep] if k != blank]
        out.append(" ".join("".join(chars).split()))
    return out


# ---------------------------------------------------------------------------- inference
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _forward(model: Recogniser):
    """The model's inference pass, compiled once per model where the backend can."""
    if model not in _COMPILED:
        from voicelab.train.backend_steps import inference_function

        # one trace for every batch size and length (a new length or size is otherwise a new trace)
        _COMPILED[model] = inference_function(lambda mel, n: model({"mel": mel, "mel_length": n}, training=False),
                                              signature=[((None, None, model.config.n_mels), "float32"),
                                                         ((None,), "int32")])
    return _COMPILED[model]


PAD_TO = 32
"""Batches are padded to a multiple of this many frames: fewer shapes, fewer compiled graphs
(TensorFlow traces a function again for every new shape); the padding is masked."""


def padded_frames(n: int) -> int:
    """``n`` frames rounded up to a multiple of :data:`PAD_TO`.

    >>> padded_frames(1), padded_frames(32), padded_frames(33)
    (32, 32, 64)
    """
    return -(-int(n) // PAD_TO) * PAD_TO


def predict(model: Recogniser, mels, *, batch_size: int = 32, decoder=None) -> list[tuple[str, str, np.ndarray]]:
    """``(transcript, intent, intent probabilities [n_intents])`` of each log-mel ``[F_i, n_mels]``.

    Clips are batched by length (little padding); results come back in the order given.
    The transcript is the best path (:func:`greedy_decode`), or with ``decoder`` (a
    :class:`voicelab.models.grammar_decoder.GrammarDecoder`) the likeliest sentence of its
    grammar. The intent is the head's either way.
    """
    c = model.config
    mels = [np.asarray(m, "float32") for m in mels]
    for i, m in enumerate(mels):
        if m.ndim != 2 or m.shape[1] != c.n_mels or len(m) < 1 or not np.isfinite(m).all():
            raise ParameterError(f"mels[{i}] must be a finite [frames, {c.n_mels}] log-mel, got shape {m.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch_size={batch_size!r} must be a positive integer")
    order = np.argsort([len(m) for m in mels], kind="stable")
    out: list = [None] * len(mels)
    forward = _forward(model)
    for start in range(0, len(order), batch_size):
        chunk = order[start: start + batch_size]
        lengths = np.array([len(mels[i]) for i in chunk], "int32")
        padded = np.zeros((len(chunk), padded_frames(lengths.max()), c.n_mels), "float32")
        for row, i in enumerate(chunk):
            padded[row, : lengths[row]] = mels[i]
        result = forward(padded, lengths)
        logits, frames = ops.convert_to_numpy(result["logits"]), ops.convert_to_numpy(result["frame_length"])
        if decoder is None:
            texts = greedy_decode(logits, frames, c.alphabet)
        else:
            log_probs = scipy.special.log_softmax(logits, axis=-1)
            texts = [decoder.decode(log_probs[row, : int(frames[row])])[0] for row in range(len(chunk))]
        probs = ops.convert_to_numpy(ops.softmax(result["intent"], axis=-1))
        for row, i in enumerate(chunk):
            out[i] = (texts[row], c.intents[int(np.argmax(probs[row]))], probs[row])
    return out
