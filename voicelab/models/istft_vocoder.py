"""A frame-rate vocoder with an inverse-STFT output head (in the spirit of Vocos / iSTFTNet).

Introduced in ``notebooks/03_melgan_vocoder.ipynb`` as the tweak that converges fastest on a CPU;
it is the kit's default vocoder (``voicelab.recipes.vocoder``).

Instead of upsampling a mel spectrogram to the sample rate with transposed convolutions
(MelGAN, HiFi-GAN), the network stays at the frame rate: a small stack of 1-D
ConvNeXt blocks turns each log-mel frame into the log-magnitude and the phase of one
STFT frame (``n_fft`` bins, hop ``hop_length``, the features' own STFT), and a fixed
inverse STFT (inverse real FFT, Hann synthesis window, overlap-add, division by the
summed squared window) makes the waveform. Every sample-rate operation is an FFT, so
it is cheap on a CPU, and the STFT frames are centred where the mel frames are
(frame ``t`` on sample ``t * hop_length``, as ``voicelab.dsp.features`` computes them):
no alignment has to be learned.

Layers, all in ``keras.ops`` (runs on the TensorFlow and PyTorch backends):

- input normalisation ``(log_mel - mel_mean) / mel_scale``;
- ``Conv1D(channels, 7, same)`` -> LayerNorm;
- ``blocks`` x ConvNeXt block: depthwise ``Conv1D(k=7)`` -> LayerNorm ->
  ``Dense(expansion * channels)`` -> GELU -> ``Dense(channels)`` -> layer scale
  (initialised to ``1 / blocks``) -> residual add;
- LayerNorm -> ``Dense(2 * (n_fft // 2 + 1))``: log-magnitude ``m`` and phase ``p``;
  with ``magnitude_prior`` (:class:`MagnitudePrior`), ``m`` is a correction added to
  the log of the mel's pseudo-inverse, the magnitude Griffin-Lim starts from;
  spectrum ``exp(min(m, max_log_magnitude)) * (cos p + i sin p)``;
- :class:`InverseSTFT`: ``[B, frames, bins]`` complex -> ``[B, frames * hop_length]``.

Layouts: mel ``[batch, frames, n_mels]`` (natural-log mel floored at 1e-5); audio
``[batch, frames * hop_length]``, sample 0 at the centre of frame 0. An utterance of
``n`` samples has ``1 + n // hop`` frames, so the output is up to one hop longer than
the recording: trim it to the recording's length.

Losses (:func:`mel_l1_loss`, :func:`phase_difference_loss`, :func:`vocoder_loss`): L1
distance of log-mels recomputed from the generated and the recorded audio (HiFi-GAN's
reconstruction term), the multi-resolution STFT loss of ``voicelab.models.losses``,
and optionally a magnitude-weighted, anti-wrapped distance of the phase differences
between neighbouring frames and bins (in the spirit of APNet's IAF and GD losses).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import ops

from voicelab.dsp.features import MEL_FLOOR, AudioConfig, hann_window, mel_filterbank
from voicelab.dsp.griffin_lim import mel_pseudo_inverse
from voicelab.errors import ParameterError
from voicelab.models.losses import multi_resolution_stft_loss


@dataclasses.dataclass(frozen=True)
class ISTFTVocoderConfig:
    """Sizes of :func:`build_istft_vocoder` and the weights of :func:`vocoder_loss`.

    Parameters
    ----------
    audio : AudioConfig
        The features' STFT: ``n_fft``, ``hop_length`` and ``win_length`` are also the
        output head's (``n_fft`` must be a multiple of ``hop_length``).
    channels : int
        Width of the ConvNeXt backbone.
    blocks : int
        Number of ConvNeXt blocks.
    kernel_size : int
        Depthwise kernel (frames).
    expansion : int
        Hidden width of each block's pointwise MLP, in multiples of ``channels``.
    max_log_magnitude : float
        Predicted log-magnitudes are clipped here (``log 100``) so ``exp`` stays finite.
    initial_log_magnitude : float
        Bias of the log-magnitude outputs at initialisation: the untrained output's
        level (``-1``: about speech level, output std ~0.03, for a 1024-point Hann window).
    magnitude_prior : bool
        Add the log of the mel's pseudo-inverse (``voicelab.dsp.griffin_lim.mel_to_linear``,
        the magnitude Griffin-Lim starts from) to the predicted log-magnitude, whose
        layer starts at zero: the untrained network already has Griffin-Lim's
        magnitudes, and its budget goes to the phase and to sharpening them. False:
        the magnitudes are learned from scratch.
    mel_mean, mel_scale : float
        Fixed input normalisation of the log-mel.
    mel_weight, stft_weight : float
        Weights of the log-mel L1 and multi-resolution STFT terms in :func:`vocoder_loss`.
    phase_weight : float
        Weight of :func:`phase_difference_loss` (0: not used).
    stft_resolutions : tuple of (n_fft, hop_length, win_length)
        Parallel WaveGAN's three resolutions.
    """

    audio: AudioConfig = dataclasses.field(default_factory=AudioConfig)
    channels: int = 256
    blocks: int = 6
    kernel_size: int = 7
    expansion: int = 3
    max_log_magnitude: float = float(np.log(100.0))
    initial_log_magnitude: float = -1.0
    magnitude_prior: bool = False
    mel_mean: float = -5.0
    mel_scale: float = 3.0
    mel_weight: float = 45.0
    stft_weight: float = 1.0
    phase_weight: float = 0.0
    stft_resolutions: tuple[tuple[int, int, int], ...] = (
        (512, 50, 240), (1024, 120, 600), (2048, 240, 1200))

    def __post_init__(self) -> None:
        if self.audio.n_fft % self.audio.hop_length:
            raise ParameterError(f"n_fft={self.audio.n_fft} must be a multiple of "
                                 f"hop_length={self.audio.hop_length}")
        for name in ("channels", "blocks", "kernel_size", "expansion"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name}={getattr(self, name)} must be >= 1")


@keras.saving.register_keras_serializable(package="voicelab")
class InverseSTFT(keras.layers.Layer):
    """``(real, imag) [B, frames, n_fft//2+1] -> audio [B, frames * hop]``, centred frames.

    Inverse real FFT of each frame, times the Hann synthesis window, overlap-added with
    hop ``hop_length``, divided by the overlap-added squared window (the least-squares
    inverse of ``voicelab.dsp.features.stft``; exact at the clip's edges too). Sample 0 of
    the output is the centre of frame 0.

    Example
    -------
    >>> from voicelab.dsp import features
    >>> cfg = AudioConfig()
    >>> y = np.random.default_rng(0).normal(size=2560).astype("float32")
    >>> spec = features.stft(y, config=cfg)[None]               # 11 frames
    >>> out = ops.convert_to_numpy(InverseSTFT(cfg)((spec.real, spec.imag)))
    >>> out.shape, bool(np.abs(out[0, :2560] - y).max() < 1e-4)
    ((1, 2816), True)
    """

    def __init__(self, audio: AudioConfig | dict | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(audio, dict):
            audio = AudioConfig(**audio)
        self.audio = audio or AudioConfig()
        self.window = hann_window(self.audio).astype("float32")    # [n_fft]

    def _overlap_add(self, frames):
        """``[B, T, n_fft] -> [B, (T + R - 1) * hop]`` with ``R = n_fft // hop``."""
        hop, n_fft = self.audio.hop_length, self.audio.n_fft
        r = n_fft // hop
        batch, t = ops.shape(frames)[0], ops.shape(frames)[1]
        chunks = ops.reshape(frames, (batch, t, r, hop))
        out = 0.0
        for k in range(r):   # chunk k of frame j lands on block j + k
            out = out + ops.pad(chunks[:, :, k, :], [[0, 0], [k, r - 1 - k], [0, 0]])
        return ops.reshape(out, (batch, -1))

    def call(self, spectrum):
        real, imag = spectrum
        hop, n_fft = self.audio.hop_length, self.audio.n_fft
        window = ops.convert_to_tensor(self.window, dtype=real.dtype)
        frames = ops.irfft((real, imag), fft_length=n_fft) * window
        t = ops.shape(frames)[1]
        audio = self._overlap_add(frames)
        envelope = self._overlap_add(ops.ones_like(frames[:1]) * ops.square(window))
        start = n_fft // 2
        audio = audio[:, start:start + t * hop]
        envelope = envelope[:, start:start + t * hop]
        return audio / ops.maximum(envelope, 1e-4)

    def compute_output_shape(self, shape):
        frames = shape[0][1]
        return (shape[0][0], None if frames is None else frames * self.audio.hop_length)

    def get_config(self) -> dict:
        return {**super().get_config(), "audio": dataclasses.asdict(self.audio)}


@keras.saving.register_keras_serializable(package="voicelab")
class ConvNeXtBlock(keras.layers.Layer):
    """Depthwise conv -> LayerNorm -> pointwise MLP (GELU) -> layer scale, residual."""

    def __init__(self, channels: int, kernel_size: int = 7, expansion: int = 3,
                 layer_scale: float = 0.1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.channels, self.kernel_size = channels, kernel_size
        self.expansion, self.layer_scale = expansion, layer_scale
        self.depthwise = keras.layers.DepthwiseConv1D(kernel_size, padding="same", name="depthwise")
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="norm")
        self.up = keras.layers.Dense(expansion * channels, name="up")
        self.down = keras.layers.Dense(channels, name="down")

    def build(self, input_shape) -> None:
        self.depthwise.build(input_shape)
        self.norm.build(input_shape)
        self.up.build(input_shape)
        self.down.build((*input_shape[:-1], self.expansion * self.channels))
        self.gamma = self.add_weight(name="gamma", shape=(self.channels,),
                                     initializer=keras.initializers.Constant(self.layer_scale))

    def call(self, x):
        y = self.down(ops.gelu(self.up(self.norm(self.depthwise(x)))))
        return x + self.gamma * y

    def get_config(self) -> dict:
        return {**super().get_config(), "channels": self.channels, "kernel_size": self.kernel_size,
                "expansion": self.expansion, "layer_scale": self.layer_scale}


@keras.saving.register_keras_serializable(package="voicelab")
class SpectrumHead(keras.layers.Layer):
    """``[B, T, 2 * bins]`` -> ``(real, imag)``: ``exp(min(m, max)) * (cos p, sin p)``."""

    def __init__(self, max_log_magnitude: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_log_magnitude = max_log_magnitude

    def call(self, x):
        log_mag, phase = ops.split(x, 2, axis=-1)
        mag = ops.exp(ops.minimum(log_mag, self.max_log_magnitude))
        return mag * ops.cos(phase), mag * ops.sin(phase)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_log_magnitude": self.max_log_magnitude}


@keras.saving.register_keras_serializable(package="voicelab")
class MagnitudePrior(keras.layers.Layer):
    """``log-mel [B, T, n_mels] -> [B, T, 2 * bins]``: ``log max(exp(mel) @ pinv, floor)``, then zeros.

    The first half is the log-magnitude of the mel's pseudo-inverse (the spectrum
    Griffin-Lim starts from, clipped at ``MEL_FLOOR``); the second half, the phase's
    place, is zero. Added to the head's ``Dense`` output, it makes the network predict
    a correction of that magnitude rather than the magnitude itself.

    Example
    -------
    >>> prior = MagnitudePrior(AudioConfig())(np.full((1, 3, 80), -2.0, "float32"))
    >>> tuple(prior.shape), float(ops.max(prior[..., 513:]))
    ((1, 3, 1026), 0.0)
    """

    def __init__(self, audio: AudioConfig | dict | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(audio, dict):
            audio = AudioConfig(**audio)
        self.audio = audio or AudioConfig()
        self.pinv = mel_pseudo_inverse(self.audio)          # [n_mels, bins]

    def call(self, mel):
        linear = ops.matmul(ops.exp(mel), ops.convert_to_tensor(self.pinv, dtype=mel.dtype))
        log_mag = ops.log(ops.maximum(linear, MEL_FLOOR))
        return ops.concatenate([log_mag, ops.zeros_like(log_mag)], axis=-1)

    def compute_output_shape(self, shape):
        return (*shape[:-1], 2 * (self.audio.n_fft // 2 + 1))

    def get_config(self) -> dict:
        return {**super().get_config(), "audio": dataclasses.asdict(self.audio)}


def build_istft_vocoder(config: ISTFTVocoderConfig = ISTFTVocoderConfig(), *,
                        name: str = "istft_vocoder") -> keras.Model:
    """The vocoder as a functional model: ``[B, frames, n_mels] -> [B, frames * hop]``.

    Example
    -------
    >>> model = build_istft_vocoder(ISTFTVocoderConfig(channels=32, blocks=1))
    >>> tuple(model(np.zeros((2, 10, 80), "float32")).shape)
    (2, 2560)
    """
    audio = config.audio
    bins = audio.n_fft // 2 + 1
    mel = keras.Input((None, audio.n_mels), name="log_mel")
    x = keras.layers.Rescaling(1.0 / config.mel_scale, offset=-config.mel_mean / config.mel_scale,
                               name="normalise")(mel)
    x = keras.layers.Conv1D(config.channels, 7, padding="same", name="embed")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="embed_norm")(x)
    for i in range(config.blocks):
        x = ConvNeXtBlock(config.channels, config.kernel_size, config.expansion,
                          layer_scale=1.0 / config.blocks, name=f"block{i + 1}")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="out_norm")(x)
    if config.magnitude_prior:   # the magnitude starts as the prior's: a zero correction
        head = keras.layers.Dense(2 * bins, name="spectrum")
        x = head(x)
        kernel = np.asarray(ops.convert_to_numpy(head.kernel))
        kernel[:, :bins] = 0.0
        head.kernel.assign(kernel)
        x = keras.layers.Add(name="with_prior")([x, MagnitudePrior(audio, name="magnitude_prior")(mel)])
    else:
        bias = np.concatenate([np.full(bins, config.initial_log_magnitude), np.zeros(bins)]).astype("float32")
        x = keras.layers.Dense(2 * bins, name="spectrum",
                               bias_initializer=keras.initializers.Constant(bias))(x)
    spectrum = SpectrumHead(config.max_log_magnitude, name="polar")(x)
    return keras.Model(mel, InverseSTFT(audio, name="istft")(spectrum), name=name)


# ------------------------------------------------------------------------------ losses
def _stft_ops(audio, config: AudioConfig):
    """``(real, imag)`` of the centred STFT of ``audio [B, T]`` at ``config``'s resolution, in ``keras.ops``."""
    start = (config.n_fft - config.win_length) // 2     # hann_window is centred in n_fft samples
    window = hann_window(config)[start:start + config.win_length].astype("float32")
    return ops.stft(audio, sequence_length=config.win_length, sequence_stride=config.hop_length,
                    fft_length=config.n_fft, window=window, center=True)


def log_mel_ops(audio, config: AudioConfig):
    """Log-mel ``[B, frames, n_mels]`` of ``audio [B, T]`` in ``keras.ops``, as ``voicelab.dsp.features``."""
    real, imag = _stft_ops(audio, config)
    mag = ops.sqrt(ops.maximum(real * real + imag * imag, 1e-10))
    mel = ops.matmul(mag, ops.convert_to_tensor(mel_filterbank(config)))
    return ops.log(ops.maximum(mel, MEL_FLOOR))


def _unit_difference(real, imag, axis: int, eps: float = 1e-9):
    """``z = X[k] * conj(X[k-1])`` along ``axis`` as a unit vector, and ``|z|``."""
    def cut(x, lo):
        return x[:, 1:] if axis == 1 and lo else x[:, :-1] if axis == 1 else \
            x[:, :, 1:] if lo else x[:, :, :-1]
    a_re, a_im, b_re, b_im = cut(real, True), cut(imag, True), cut(real, False), cut(imag, False)
    z_re, z_im = a_re * b_re + a_im * b_im, a_im * b_re - a_re * b_im
    norm = ops.sqrt(z_re * z_re + z_im * z_im + eps)
    return z_re / norm, z_im / norm, norm


def phase_difference_loss(audio, fake, config: AudioConfig):
    """Phase-aware loss at the head's STFT: instantaneous frequency and group delay.

    For the STFT ``X`` of each signal (``config``'s resolution, centred frames), the
    phase advance between neighbouring frames (``X[t] conj(X[t-1])``, the instantaneous
    frequency, as APNet's IAF loss) and between neighbouring bins (``X[f] conj(X[f-1])``,
    the group delay, as APNet's GD loss) are compared as unit vectors:
    ``|u_fake - u_audio| = 2 |sin(dphi / 2)|``, an anti-wrapped phase distance. Each
    bin pair is weighted by the square root of the recording's ``|z|``, so the phase of
    near-silent bins (noise) hardly counts. Returns the sum of the two weighted means.
    """
    total = 0.0
    target, estimate = _stft_ops(audio, config), _stft_ops(fake, config)
    for axis in (1, 2):
        t_re, t_im, t_norm = _unit_difference(*target, axis)
        e_re, e_im, _ = _unit_difference(*estimate, axis)
        weight = ops.stop_gradient(ops.sqrt(t_norm))
        distance = ops.sqrt(ops.square(e_re - ops.stop_gradient(t_re))
                            + ops.square(e_im - ops.stop_gradient(t_im)) + 1e-12)
        total = total + ops.sum(weight * distance) / (ops.sum(weight) + 1e-9)
    return total


def mel_l1_loss(audio, fake, config: AudioConfig):
    """Mean absolute difference of the two signals' log-mels (HiFi-GAN's reconstruction loss)."""
    return ops.mean(ops.abs(log_mel_ops(audio, config) - log_mel_ops(fake, config)))


def vocoder_loss(config: ISTFTVocoderConfig):
    """A Keras loss ``(audio, fake) -> mel_weight * mel L1 + stft_weight * multi-resolution STFT
    + phase_weight * phase differences``."""
    def loss(audio, fake):
        if len(audio.shape) == 3:
            audio, fake = audio[..., 0], fake[..., 0]
        total = config.mel_weight * mel_l1_loss(audio, fake, config.audio)
        if config.stft_weight:
            total = total + config.stft_weight * multi_resolution_stft_loss(
                audio, fake, config.stft_resolutions)
        if config.phase_weight:
            total = total + config.phase_weight * phase_difference_loss(audio, fake, config.audio)
        return total
    return loss


def vocode(model: keras.Model, mel, length: int | None = None) -> np.ndarray:
    """Waveform ``[samples]`` of one ``mel [frames, n_mels]``, trimmed to ``length`` if given."""
    mel = np.asarray(mel, dtype="float32")
    if mel.ndim != 2:
        raise ParameterError(f"mel of shape {mel.shape}: need [frames, n_mels]")
    audio = ops.convert_to_numpy(model(mel[None], training=False))[0]
    return audio if length is None else audio[:length]
