"""Phoneme durations learned inside the kit: a text-mel aligner and monotonic alignment search.

Introduced in ``notebooks/02_tts_cnn_bilstm.ipynb``.

The TTS model needs, for every training sentence, how many mel frames each symbol
lasts. voicelab learns them from the corpus itself, with no external aligner:

1. :class:`Aligner` encodes symbols (keys) and mel frames (queries) and scores every
   (frame, symbol) pair by their negative squared distance; a softmax over the
   sentence's symbols gives a soft alignment ``log_attention [B, F, L]``.
2. It is trained with the **forward-sum loss** (:func:`forward_sum_loss`, from RAD-TTS /
   "One TTS Alignment to Rule Them All"): the likelihood of the mel summed over *all*
   monotonic alignments, computed by CTC (``keras.ops.ctc_loss``) with the symbol
   *positions* ``1..L`` as labels. Fully differentiable, so plain ``fit`` trains it on
   TensorFlow and PyTorch alike.
3. :func:`monotonic_alignment_search` (Glow-TTS's MAS, dynamic programming in numpy)
   picks the single best monotonic path: every frame belongs to exactly one symbol,
   symbols in order, each symbol at least one frame.
4. :func:`durations_from_alignment` counts frames per symbol; they sum exactly to the
   mel length. :func:`extract_durations` does 1-4 for a whole padded batch.

Why this rather than a CTC phoneme recogniser + Viterbi: the aligner is told *which*
symbols the sentence has and only has to tell them apart along time, which a small
model learns from a small corpus; a recogniser must classify all 70+ phones from audio
alone, and CTC's peaky, blank-dominated posteriors place boundaries poorly (blank
frames must then be shared out by a heuristic). MAS instead yields contiguous segments
that tile the mel, so durations sum to the mel length by construction.

Example
-------
>>> log_prob = np.log(np.array([[.9, .1], [.6, .4], [.2, .8]]))   # 3 frames, 2 symbols
>>> path = monotonic_alignment_search(log_prob)
>>> path.tolist(), durations_from_alignment(path).tolist()
([[1, 0], [1, 0], [0, 1]], [2, 1])
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from voicelab.errors import ParameterError
from voicelab.models.layers import ConvBlock, build_convs, compile_for_fit, register, sequence_mask


@dataclasses.dataclass(frozen=True)
class AlignerConfig:
    """Sizes of the aligner.

    Parameters
    ----------
    vocab_size : int or None
        Number of symbols, id 0 = padding; ``None`` means ``len(voicelab.text.SYMBOLS)``.
    embed_dim : int
        Symbol embedding size.
    channels : int
        Size of the shared key/query space the distances are measured in.
    kernel_size : int
        Kernel of the conv blocks of both encoders.
    blank_logprob : float
        Log-probability of CTC's blank in the forward-sum loss (RAD-TTS uses -1).
    mel_mean, mel_std : float
        The mel is normalised as ``(mel - mel_mean) / mel_std`` before the encoder.
    """

    vocab_size: int | None = None
    embed_dim: int = 128
    channels: int = 80
    kernel_size: int = 3
    blank_logprob: float = -1.0
    mel_mean: float = -5.0
    mel_std: float = 2.0

    def __post_init__(self) -> None:
        if self.vocab_size is None:
            from voicelab.text import SYMBOLS

            object.__setattr__(self, "vocab_size", len(SYMBOLS))
        for name in ("vocab_size", "embed_dim", "channels", "kernel_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not self.mel_std > 0:
            raise ParameterError(f"mel_std={self.mel_std} must be positive")


def forward_sum_loss(log_attention, token_length, mel_length, *, blank_logprob=-1.0):
    """Negative log-likelihood of the mel over all monotonic alignments, per symbol.

    CTC over "classes" = ``[blank, symbol 1, ..., symbol L]`` with the target sequence
    ``1, 2, ..., L``: CTC sums over every way to emit the symbols in order, each on one
    or more consecutive frames. ``log_attention [B, F, L]`` must be ``-inf``-like at
    padded symbols (as :class:`Aligner` returns it). Needs ``mel_length >= token_length``.
    Returns the batch mean of ``-log p / token_length``.
    """
    log_attention = ops.convert_to_tensor(log_attention)
    n_symbols = ops.shape(log_attention)[2]
    blank = ops.full_like(log_attention[..., :1], blank_logprob)
    logits = ops.concatenate([blank, log_attention], axis=-1)
    positions = ops.arange(1, n_symbols + 1, dtype="int32")[None, :]
    targets = positions * sequence_mask(token_length, n_symbols, "int32")
    token_length = ops.cast(token_length, "int32")
    nll = ops.ctc_loss(targets, logits, token_length, ops.cast(mel_length, "int32"), mask_index=0)
    return ops.mean(nll / ops.cast(token_length, nll.dtype))


@register
class Aligner(keras.Model):
    """Soft text-mel alignment, trained by ``fit`` with the forward-sum loss.

    ``call`` takes a dict batch with ``tokens``, ``token_length``, ``mel`` (log-mel
    ``[B, F, n_mels]``) and ``mel_length`` and returns ``log_attention [B, F, L]``: for each
    frame, the log-probability of each of the sentence's symbols (padded symbols get
    -1e9). Build it with :func:`build_aligner`.
    """

    def __init__(self, config, n_mels, **kwargs):
        super().__init__(**kwargs)
        self.config = AlignerConfig(**config) if isinstance(config, dict) else config
        self.n_mels = n_mels
        c = self.config
        self.embedding = layers.Embedding(c.vocab_size, c.embed_dim)
        self.key_convs = [ConvBlock(c.channels, c.kernel_size) for _ in range(2)]
        self.key_proj = layers.Dense(c.channels)
        self.query_convs = [ConvBlock(c.channels, c.kernel_size) for _ in range(2)]
        self.query_proj = layers.Dense(c.channels)

    def call(self, inputs, training=None):
        tokens, mel = inputs["tokens"], inputs["mel"]
        token_mask = sequence_mask(inputs["token_length"], ops.shape(tokens)[1])
        frame_mask = sequence_mask(inputs["mel_length"], ops.shape(mel)[1])
        keys = self.embedding(tokens)
        for conv in self.key_convs:
            keys = conv(keys, token_mask, training=training)
        keys = self.key_proj(keys)  # [B, L, C]
        queries = (mel - self.config.mel_mean) / self.config.mel_std
        for conv in self.query_convs:
            queries = conv(queries, frame_mask, training=training)
        queries = self.query_proj(queries)  # [B, F, C]
        # ||q - k||^2 = |q|^2 - 2 q.k + |k|^2, as one matmul: [B, F, L]
        distance = (ops.sum(ops.square(queries), -1)[:, :, None]
                    - 2.0 * ops.matmul(queries, ops.transpose(keys, (0, 2, 1)))
                    + ops.sum(ops.square(keys), -1)[:, None, :])
        logits = -distance / float(self.config.channels) ** 0.5
        logits = logits + (token_mask[:, None, :] - 1.0) * 1e9
        return ops.log_softmax(logits, axis=-1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return forward_sum_loss(y_pred, x["token_length"], x["mel_length"],
                                blank_logprob=self.config.blank_logprob)

    def get_config(self):
        return {"config": dataclasses.asdict(self.config), "n_mels": self.n_mels, "name": self.name}

    def get_build_config(self):
        return {"input_shape": None}  # the sizes are all in the config

    def build(self, input_shape=None):
        """Create every weight from the config alone (no forward pass, no tracing)."""
        c = self.config
        self.embedding.build((None, None))
        self.key_proj.build(build_convs(self.key_convs, (None, None, c.embed_dim)))
        self.query_proj.build(build_convs(self.query_convs, (None, None, self.n_mels)))
        self.built = True


def build_aligner(config: AlignerConfig, n_mels: int, *, learning_rate: float = 1e-3) -> Aligner:
    """Build and compile an :class:`Aligner` (Adam, global gradient norm clipped at 1, no XLA)."""
    if not isinstance(config, AlignerConfig):
        raise ParameterError(f"build_aligner needs an AlignerConfig, got {type(config).__name__}")
    if isinstance(n_mels, bool) or not isinstance(n_mels, int) or n_mels <= 0:
        raise ParameterError(f"n_mels={n_mels!r} must be a positive integer")
    model = Aligner(config, n_mels, name="aligner")
    model.build()
    compile_for_fit(model, learning_rate)
    return model


def _lengths(shape, mel_length, token_length):
    n_frames = shape[0] if mel_length is None else int(mel_length)
    n_symbols = shape[1] if token_length is None else int(token_length)
    if not 1 <= n_symbols <= shape[1] or not 1 <= n_frames <= shape[0]:
        raise ParameterError(f"mel_length={mel_length}, token_length={token_length} must be in "
                             f"[1, {shape[0]}] and [1, {shape[1]}] for an alignment of shape {shape}")
    if n_frames < n_symbols:
        raise ParameterError(f"mel_length={n_frames} < token_length={n_symbols}: "
                             "every symbol needs at least one frame")
    return n_frames, n_symbols


def monotonic_alignment_search(log_prob, *, mel_length=None, token_length=None) -> np.ndarray:
    """The best monotonic hard alignment of frames to symbols (Glow-TTS's MAS).

    Maximises ``sum_t log_prob[t, s(t)]`` over paths ``s`` that start at symbol 0 on
    frame 0, end at the last symbol on the last frame, and at each frame either stay on
    the same symbol or move to the next one. Dynamic programming, vectorised over
    symbols: ``O(F * L)`` work in ``F`` numpy steps (a few ms for a sentence).

    Parameters
    ----------
    log_prob : array ``[F, L]``
        Frame-symbol scores, e.g. one item of :class:`Aligner`'s ``log_attention``.
    mel_length, token_length : int, optional
        Real sizes when ``log_prob`` is padded; the rest of the path stays 0.

    Returns
    -------
    path : ndarray ``[F, L]`` int32, one 1 per real frame.
    """
    lp = np.asarray(log_prob, dtype=np.float64)
    if lp.ndim != 2:
        raise ParameterError(f"log_prob must be [frames, symbols], got shape {lp.shape}")
    n_frames, n_symbols = _lengths(lp.shape, mel_length, token_length)
    lp = lp[:n_frames, :n_symbols]
    value = np.full(n_symbols, -np.inf)
    value[0] = lp[0, 0]
    advanced = np.zeros((n_frames, n_symbols), dtype=bool)  # came from symbol j-1
    for t in range(1, n_frames):
        from_previous = np.concatenate(([-np.inf], value[:-1]))
        advanced[t] = from_previous > value
        value = np.maximum(value, from_previous) + lp[t]
    if not np.isfinite(value[-1]):
        raise ParameterError("log_prob has no finite monotonic path (-inf on every route)")
    path = np.zeros(np.asarray(log_prob).shape, dtype=np.int32)
    j = n_symbols - 1
    for t in range(n_frames - 1, -1, -1):
        path[t, j] = 1
        j -= int(advanced[t, j])
    return path


def durations_from_alignment(alignment, *, mel_length=None, token_length=None) -> np.ndarray:
    """Frames per symbol from an alignment ``[F, L]``, summing exactly to ``mel_length``.

    A hard path (:func:`monotonic_alignment_search`) gives its column counts. A soft
    alignment (rows of probabilities) gives its column sums rounded by largest
    remainder, so the integers still add up to the number of frames exactly.
    Padded symbols (past ``token_length``) get 0.

    Example
    -------
    >>> soft = np.array([[.7, .3, 0], [.4, .6, 0], [0, .5, .5], [0, .1, .9]])
    >>> durations_from_alignment(soft).tolist()
    [1, 2, 1]
    """
    a = np.asarray(alignment, dtype=np.float64)
    if a.ndim != 2:
        raise ParameterError(f"alignment must be [frames, symbols], got shape {a.shape}")
    n_frames, n_symbols = _lengths(a.shape, mel_length, token_length)
    mass = a[:n_frames, :n_symbols].sum(axis=0)
    if not np.all(np.isfinite(mass)) or mass.min() < 0 or mass.sum() <= 0:
        raise ParameterError("alignment must hold finite non-negative weights, not all zero")
    exact = mass * (n_frames / mass.sum())
    durations = np.floor(exact).astype(np.int32)
    short = n_frames - int(durations.sum())
    durations[np.argsort(durations - exact, kind="stable")[:short]] += 1
    out = np.zeros(a.shape[1], dtype=np.int32)
    out[:n_symbols] = durations
    return out


def extract_durations(aligner: Aligner, batch: dict) -> np.ndarray:
    """Durations ``[B, L]`` int32 for a padded dict batch: aligner -> MAS -> counts.

    The result goes into the batch as ``durations`` for :class:`~voicelab.models.tts.TTSModel`.
    Row ``b`` sums to ``mel_length[b]``; padded symbols are 0.
    """
    log_attention = ops.convert_to_numpy(aligner(
        {k: batch[k] for k in ("tokens", "token_length", "mel", "mel_length")}, training=False))
    token_length = np.asarray(batch["token_length"])
    mel_length = np.asarray(batch["mel_length"])
    return np.stack([
        durations_from_alignment(monotonic_alignment_search(
            lp, mel_length=mel_length[b], token_length=token_length[b]),
            mel_length=mel_length[b], token_length=token_length[b])
        for b, lp in enumerate(log_attention)])


def durations_by_id(aligner, batches) -> dict[str, np.ndarray]:
    """Run the aligner + MAS over every batch of ``batches``: utterance id -> durations."""
    result = {}
    for index in range(len(batches)):
        batch = batches[index]
        durations = extract_durations(aligner, batch)
        for row, u in enumerate(batches.utterances(index)):
            result[u.id] = durations[row, :batch["token_length"][row]]
    return result
