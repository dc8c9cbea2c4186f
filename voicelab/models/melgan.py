"""MelGAN: a GAN vocoder that turns a log-mel spectrogram into a waveform.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``. Kumar et al., "MelGAN:
Generative Adversarial Networks for Conditional Waveform Synthesis", NeurIPS 2019.

- **Generator**: conv(k=7) -> [leaky ReLU -> transposed conv (x r) -> residual stack
  (dilations 1, 3, 9)] per upsampling factor r -> leaky ReLU -> conv(k=7) -> tanh.
  The factors multiply to ``hop_length`` (256 = 8*8*2*2), so every mel frame becomes
  ``hop_length`` samples. Padding is reflection-style, as in the paper.
- **Frame alignment**: mel frame ``t`` is centred on sample ``t * hop_length`` (centred
  STFT), but a transposed-conv stack writes frame ``t`` into samples
  ``[t * hop, (t + 1) * hop)``, half a hop (8 ms at 16 kHz) late. With
  ``centre_frames`` (default) the generator reads one mirrored frame past the end and
  drops its first ``hop_length // 2`` samples, so frame ``t``'s samples are centred on
  ``t * hop_length`` as the features are (the official MelGAN and HiFi-GAN get the same
  by padding the audio by ``(n_fft - hop) / 2`` before an uncentred STFT).
- **Discriminator**: the same small conv net at three scales (raw audio, average-pooled
  x2 and x4); strided grouped convs keep it cheap. Each scale returns its feature maps
  and a score map.
- **Losses** (``voicelab.models.losses``): hinge adversarial loss (the paper's),
  feature matching (L1 between the discriminator's feature maps of real and generated
  audio, weight 10, each of the ``scales x layers`` terms weighted as the official code does,
  see :attr:`MelGANConfig.feature_matching_scale`), and our tweak, a multi-resolution STFT loss (Yamamoto et al. 2020,
  Parallel WaveGAN), switched by ``MelGANConfig.ablation``: ``"paper"`` is plain
  MelGAN, ``"paper+stft"`` adds it.

Layouts: mel ``[batch, frames, n_mels]`` (time-major natural-log mel, floored at 1e-5,
as ``voicelab.dsp.features`` computes it); audio ``[batch, frames * hop_length, 1]``.
The gradient step is backend-specific and lives in ``voicelab.train.backend_steps``.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
from keras import ops

from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.layers import TwoNetworkGAN
from voicelab.models.losses import (
    ADVERSARIAL_LOSSES,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    multi_resolution_stft_loss,
)
from voicelab.models.weight_norm import WeightNormConv1D, remove_weight_norm
from voicelab.train import backend_steps

ABLATIONS = ("paper", "paper+stft")
LOSS_NAMES = ("d_loss", "g_loss", "adv_loss", "fm_loss", "stft_loss")


def upsample_factors_for(hop_length: int, *, stages: int = 4,
                         max_factor: int = 8) -> tuple[int, ...]:
    """Split ``hop_length`` into at most ``stages`` factors, largest first, each <= ``max_factor``.

    Early stages take as much as they can while leaving every later stage a factor.

    Example
    -------
    >>> upsample_factors_for(256)
    (8, 8, 2, 2)
    >>> upsample_factors_for(200)
    (5, 5, 4, 2)
    """
    primes, n = [], hop_length
    for p in range(2, hop_length + 1):
        while n % p == 0:
            primes.append(p)
            n //= p
    if primes and max(primes) > max_factor:
        raise ParameterError(
            f"hop_length={hop_length} needs a prime factor > {max_factor}; "
            "pass upsample_factors explicitly"
        )
    primes.sort(reverse=True)
    factors = []
    while primes:
        factor, later = primes.pop(0), stages - len(factors) - 1
        while primes and len(primes) > later and factor * primes[-1] <= max_factor:
            factor *= primes.pop()
        factors.append(factor)
    if len(factors) > stages:
        raise ParameterError(
            f"hop_length={hop_length} does not fit in {stages} stages <= {max_factor}")
    return tuple(sorted(factors, reverse=True))


@dataclasses.dataclass(frozen=True)
class MelGANConfig:
    """Every MelGAN hyper-parameter; the defaults are the paper's unless said otherwise.

    Parameters
    ----------
    audio : AudioConfig
        Sample rate, hop and mel bands of the features the generator reads.
    generator_channels : int
        Channels after the first conv (512); halved at every upsampling stage.
    upsample_factors : tuple of int or None
        Transposed-conv strides; ``None`` derives them from ``audio.hop_length``.
    residual_dilations : tuple of int
        Dilations of the residual stack after each upsampling (1, 3, 9).
    discriminator_scales, discriminator_channels, discriminator_max_channels : int
        3 scales; 16 channels in the first layer, growing x4 per downsampling to 1024.
    discriminator_downsamples : tuple of int
        Stride of each strided grouped conv (4, 4, 4, 4).
    discriminator_group_size : int
        Input channels per group in the strided convs (4).
    adversarial : {"hinge", "lsgan"}
        Hinge is the paper's loss; least squares (HiFi-GAN's) is there for exercises.
    feature_matching_weight : float
        The paper's lambda for feature matching (10). The official code also weights
        each layer's L1 term by ``4 / (n_layers + 1)`` and each scale's by
        ``1 / n_scales`` (``4/5 * 1/3`` for the paper's discriminator), which
        :attr:`feature_matching_scale` applies: the 18 terms weigh ``10 * 4/15 = 2.67``
        each, not 10.
    ablation : {"paper", "paper+stft"}
        ``"paper"`` is plain MelGAN; ``"paper+stft"`` (default, ours) also trains on the
        multi-resolution STFT loss. That loss is reported in both, for comparison.
    stft_weight : float
        Weight of the STFT loss (2.5; ours). It leads the first, CPU-sized minutes of
        training; the adversarial terms shape the detail after that.
    stft_resolutions : tuple of (n_fft, hop_length, win_length)
        Parallel WaveGAN's three resolutions.
    learning_rate, adam_betas : float, (float, float)
        Adam for both networks (1e-4, (0.5, 0.9)).
    warmup_learning_rate, warmup_betas : float, (float, float)
        The generator's Adam during the warm-up (ours: 5e-4, (0.9, 0.999)). The warm-up
        is plain regression on the STFT loss, not a game, so it takes regression's
        usual Adam: on one harmonic window (``tests/test_vocoder_recipe.py``) Adam(5e-4,
        0.9, 0.999) fell below a spectral convergence of 0.1 in 50 steps, while with the
        GAN's betas (0.5, 0.9) at 3e-4 and 2e-3 it swung between 0.15 and 0.9.
        Rate and betas return to ``learning_rate`` and ``adam_betas`` when the
        discriminator joins.
    centre_frames : bool
        Centre each frame's samples on ``frame * hop_length``, where the features'
        frames are centred (see the module docstring). False: the raw transposed-conv
        stack, half a hop late.
    output_gain : float
        Scale of ``conv_out``'s initial weight norm ``g``. The untrained generator then
        starts near speech level instead of at several times it, which the first steps
        would otherwise spend turning the volume down (ours: 1.0, the paper's; the kit's
        CPU recipe picks a smaller one).
    """

    audio: AudioConfig = dataclasses.field(default_factory=AudioConfig)
    generator_channels: int = 512
    upsample_factors: tuple[int, ...] | None = None
    residual_dilations: tuple[int, ...] = (1, 3, 9)
    discriminator_scales: int = 3
    discriminator_channels: int = 16
    discriminator_max_channels: int = 1024
    discriminator_downsamples: tuple[int, ...] = (4, 4, 4, 4)
    discriminator_group_size: int = 4
    adversarial: str = "hinge"
    feature_matching_weight: float = 10.0
    ablation: str = "paper+stft"
    stft_weight: float = 2.5
    stft_resolutions: tuple[tuple[int, int, int], ...] = (
        (512, 50, 240), (1024, 120, 600), (2048, 240, 1200))
    learning_rate: float = 1e-4
    adam_betas: tuple[float, float] = (0.5, 0.9)
    warmup_learning_rate: float = 5e-4
    warmup_betas: tuple[float, float] = (0.9, 0.999)
    centre_frames: bool = True
    output_gain: float = 1.0

    def __post_init__(self) -> None:
        factors = self.factors
        if int(np.prod(factors)) != self.audio.hop_length:
            raise ParameterError(
                f"upsample_factors={factors} multiply to {int(np.prod(factors))}, "
                f"not hop_length={self.audio.hop_length}")
        if self.generator_channels % 2 ** len(factors):
            raise ParameterError(f"generator_channels={self.generator_channels} must be divisible "
                                 f"by 2**{len(factors)} (channels halve at every stage)")
        if self.ablation not in ABLATIONS:
            raise ParameterError(f"ablation={self.ablation!r} is not one of {ABLATIONS}")
        if self.adversarial not in ADVERSARIAL_LOSSES:
            raise ParameterError(
                f"adversarial={self.adversarial!r} is not one of {ADVERSARIAL_LOSSES}")
        for n_fft, hop, win in self.stft_resolutions:
            if not 0 < hop <= win <= n_fft:
                raise ParameterError(
                    f"stft resolution {(n_fft, hop, win)} needs 0 < hop <= win <= n_fft")
        for name in ("learning_rate", "warmup_learning_rate", "output_gain"):
            if not getattr(self, name) > 0:
                raise ParameterError(f"{name}={getattr(self, name)} must be positive")

    @property
    def feature_matching_scale(self) -> float:
        """Weight of each feature-matching L1 term: ``lambda * 4 / (n_layers + 1) / n_scales``.

        Example
        -------
        >>> round(MelGANConfig().feature_matching_scale, 3)      # 10 * 4/5 * 1/3
        2.667
        """
        return (self.feature_matching_weight * 4.0 / (len(self.discriminator_downsamples) + 1)
                / self.discriminator_scales)

    @property
    def factors(self) -> tuple[int, ...]:
        """The upsampling factors actually used."""
        return tuple(self.upsample_factors or upsample_factors_for(self.audio.hop_length))


# ---------------------------------------------------------------------------- layers
@keras.saving.register_keras_serializable(package="voicelab")
class ReflectionPad1D(keras.layers.Layer):
    """Pad the time axis by mirroring ``padding`` samples at each end (no edge clicks).

    ``padding`` is one number (both ends) or ``(before, after)``.
    """

    def __init__(self, padding: int | tuple[int, int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.padding = padding
        self._sides = tuple(padding) if isinstance(padding, (tuple, list)) else (padding, padding)

    def call(self, x):
        return ops.pad(x, [[0, 0], list(self._sides), [0, 0]], mode="reflect")

    def compute_output_shape(self, shape):
        return (shape[0], None if shape[1] is None else shape[1] + sum(self._sides), shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="voicelab")
class Crop1D(keras.layers.Layer):
    """Drop ``start`` samples at the beginning and ``end`` at the end of the time axis."""

    def __init__(self, start: int, end: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start, self.end = start, end

    def call(self, x):
        return x[:, self.start:ops.shape(x)[1] - self.end]

    def compute_output_shape(self, shape):
        return (shape[0], None if shape[1] is None else shape[1] - self.start - self.end, *shape[2:])

    def get_config(self) -> dict:
        return {**super().get_config(), "start": self.start, "end": self.end}


def build_generator(config: MelGANConfig, *, name: str = "melgan_generator") -> keras.Model:
    """MelGAN's generator, a functional model: ``[B, frames, n_mels] -> [B, frames*hop, 1]``.

    Needs at least 4 frames (reflection padding of the first conv). With
    ``config.centre_frames`` the output sample ``t * hop_length`` is the centre of frame
    ``t``, as in the features.

    Example
    -------
    >>> from voicelab.dsp.features import AudioConfig
    >>> cfg = MelGANConfig(audio=AudioConfig(n_fft=64, hop_length=16, win_length=64, n_mels=8),
    ...                    generator_channels=16, upsample_factors=(4, 4))
    >>> tuple(build_generator(cfg)(np.zeros((2, 10, 8), "float32")).shape)
    (2, 160, 1)
    """
    def leaky():
        return keras.layers.LeakyReLU(negative_slope=0.2)

    mel = keras.Input((None, config.audio.n_mels), name="log_mel")
    hop = config.audio.hop_length
    x = ReflectionPad1D((0, 1), name="centre_pad")(mel) if config.centre_frames else mel  # + 1 frame
    x = ReflectionPad1D(3)(x)
    channels = config.generator_channels
    x = WeightNormConv1D(channels, 7, name="conv_in")(x)
    for stage, r in enumerate(config.factors, start=1):
        channels //= 2
        x = leaky()(x)
        x = WeightNormConv1D(channels, 2 * r, strides=r, padding="same", transpose=True,
                             name=f"upsample{stage}_x{r}")(x)
        for d in config.residual_dilations:   # residual block: receptive field grows 2*d
            y = leaky()(x)
            y = ReflectionPad1D(d)(y)
            y = WeightNormConv1D(channels, 3, dilation_rate=d, name=f"res{stage}_d{d}_conv")(y)
            y = WeightNormConv1D(channels, 1, name=f"res{stage}_d{d}_mix")(leaky()(y))
            skip = WeightNormConv1D(channels, 1, name=f"res{stage}_d{d}_skip")(x)
            x = keras.layers.Add()([skip, y])
    x = ReflectionPad1D(3)(leaky()(x))
    conv_out = WeightNormConv1D(1, 7, name="conv_out")
    x = conv_out(x)
    conv_out.g.assign(conv_out.g * config.output_gain)   # start near speech level
    if config.centre_frames:          # frame t's block [t*hop, (t+1)*hop) -> centred on t*hop
        x = Crop1D(hop // 2, hop - hop // 2, name="centre_frames")(x)
    return keras.Model(mel, keras.layers.Activation("tanh")(x), name=name)


def impulse_response(config: MelGANConfig) -> tuple[int, int]:
    """First and last output sample, relative to ``frame * hop_length``, one frame reaches.

    Computed by following an interval through the layers. With the defaults it is
    ``(-1553, 1552)``: one frame shapes 3106 samples (0.19 s at 16 kHz), centred on its
    own sample, so each output sample hears about 12 frames (``(-1425, 1680)``, half a
    hop late, without ``centre_frames``).
    """
    first, last = -3, 3                                   # conv_in, k=7
    for r in config.factors:                              # transposed conv k=2r, crop r//2
        first, last = first * r - r // 2, last * r + 2 * r - 1 - r // 2
        first -= sum(config.residual_dilations)           # k=3 convs, dilation d: +-d
        last += sum(config.residual_dilations)
    shift = config.audio.hop_length // 2 if config.centre_frames else 0
    return first - 3 - shift, last + 3 - shift            # conv_out, k=7; the centring crop


class ScaleDiscriminator(keras.layers.Layer):
    """One scale of the discriminator: returns ``(feature_maps, score)``."""

    def __init__(self, channels: int, max_channels: int, downsamples, group_size: int = 4,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.convs = [WeightNormConv1D(channels, 15, name="conv_in")]
        for i, s in enumerate(downsamples):   # grouped: group_size input channels per group
            out = min(channels * s, max_channels)
            self.convs.append(WeightNormConv1D(out, 10 * s + 1, strides=s, padding="same",
                                               groups=max(channels // group_size, 1),
                                               name=f"down{i + 1}"))
            channels = out
        self.convs.append(WeightNormConv1D(min(2 * channels, max_channels), 5, padding="same",
                                           name="conv_mix"))
        self.convs.append(WeightNormConv1D(1, 3, padding="same", name="score"))

    def build(self, input_shape) -> None:
        shape = (input_shape[0], None, input_shape[-1])
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)

    def call(self, audio):
        x, features = ops.pad(audio, [[0, 0], [7, 7], [0, 0]], mode="reflect"), []
        for conv in self.convs[:-1]:
            x = ops.leaky_relu(conv(x), negative_slope=0.2)
            features.append(x)
        return features, self.convs[-1](x)


class MultiScaleDiscriminator(keras.layers.Layer):
    """``audio [B, T, 1] -> [(features, score) for raw, pooled x2, pooled x4]``."""

    def __init__(self, config: MelGANConfig, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scales = [ScaleDiscriminator(config.discriminator_channels,
                                          config.discriminator_max_channels,
                                          config.discriminator_downsamples,
                                          config.discriminator_group_size, name=f"scale{i}")
                       for i in range(config.discriminator_scales)]

    def build(self, input_shape) -> None:
        for scale in self.scales:
            scale.build(input_shape)

    def call(self, audio):
        outputs = []
        for i, scale in enumerate(self.scales):
            if i:  # paper: AvgPool1d(4, stride 2, padding 1, count_include_pad=False)
                audio = ops.average_pool(audio, pool_size=4, strides=2, padding="same")
            outputs.append(scale(audio))
        return outputs


# ----------------------------------------------------------------------------- model
class MelGAN(TwoNetworkGAN):
    """Generator + multi-scale discriminator trained with ``fit`` on TensorFlow or PyTorch.

    ``fit`` takes ``(mel, audio)`` batches or dicts with ``"mel"`` and ``"audio"``
    (what ``voicelab.data.AudioSegments`` yields): ``mel [B, frames, n_mels]``, audio
    ``[B, frames * hop_length]`` (or ``[..., 1]``), frame ``t`` covering samples
    ``t * hop_length ...``. Each step updates the discriminator, then the generator
    against the updated discriminator (as the paper's code). Logs: running means of
    ``d_loss g_loss adv_loss fm_loss stft_loss`` over the epoch, and this step's
    global gradient norms ``g_grad_norm d_grad_norm``. ``evaluate`` (and
    ``validation_data``) reports the same losses without updating anything.

    With ``warming_up = True`` (set between ``fit`` calls: setting it drops the traced
    step, so the next ``fit`` traces the right one) each step updates the generator
    alone on the STFT loss, as Parallel WaveGAN's warm-up: the discriminator joins
    once the generator already makes speech-like audio. Logs ``d_loss adv_loss
    fm_loss`` as 0 and no ``d_grad_norm`` then.

    Example
    -------
    >>> gan = MelGAN(MelGANConfig())       # the paper's sizes: 4.27 M + 16.9 M parameters
    >>> gan.generator.count_params(), gan.discriminator.count_params()
    (4265570, 16924086)
    >>> gan.compile()                      # two Adam(1e-4, 0.5, 0.9) optimizers
    """

    def __init__(self, config: MelGANConfig | None = None, **kwargs) -> None:
        super().__init__(**{"name": "melgan", **kwargs})
        self.config = config or MelGANConfig()
        self.generator = build_generator(self.config)
        self.discriminator = MultiScaleDiscriminator(self.config, name="discriminator")
        self.discriminator.build((None, None, 1))
        self.trackers = [keras.metrics.Mean(name=name) for name in LOSS_NAMES]
        self._warming_up = False
        self.built = True

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs) -> None:
        """Adam(lr 1e-4, betas 0.5/0.9) for each network unless given; builds their state."""
        lr, (b1, b2) = self.config.learning_rate, self.config.adam_betas
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(lr, beta_1=b1, beta_2=b2)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(lr, beta_1=b1, beta_2=b2)
        super().compile(optimizer=self.g_optimizer, **kwargs)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def discriminator_loss(self, real_outputs, fake_outputs):
        return discriminator_loss(real_outputs, fake_outputs, kind=self.config.adversarial)

    def generator_loss(self, audio, fake, real_outputs, fake_outputs):
        """Total generator loss and its parts ``adv_loss, fm_loss, stft_loss``."""
        cfg = self.config
        adv = generator_adversarial_loss(fake_outputs, kind=cfg.adversarial)
        fm = feature_matching_loss(real_outputs, fake_outputs)
        stft = multi_resolution_stft_loss(audio, fake, cfg.stft_resolutions)
        total = adv + cfg.feature_matching_scale * fm
        if cfg.ablation == "paper+stft":
            total = total + cfg.stft_weight * stft
        else:
            stft = ops.stop_gradient(stft)  # reported only
        return total, {"adv_loss": adv, "fm_loss": fm, "stft_loss": stft}

    def _unpack(self, data):
        """``(mel, audio [B, T, 1])`` from a ``(mel, audio)`` pair or a dict batch."""
        mel, audio = (data["mel"], data["audio"]) if isinstance(data, dict) else data[:2]
        if len(audio.shape) == 2:
            audio = ops.expand_dims(audio, -1)
        hop, frames, samples = self.config.audio.hop_length, mel.shape[1], audio.shape[1]
        if frames is not None and samples is not None and samples != frames * hop:
            raise ParameterError(f"audio has {samples} samples, expected frames * hop_length = "
                                 f"{frames} * {hop} = {frames * hop}")
        return mel, audio

    def _track(self, logs: dict) -> dict:
        for tracker in self.trackers:
            tracker.update_state(logs[tracker.name])
        return {t.name: t.result() for t in self.trackers}

    @property
    def warming_up(self) -> bool:
        """True: ``train_step`` updates the generator alone, on :meth:`warmup_loss`."""
        return self._warming_up

    @warming_up.setter
    def warming_up(self, value: bool) -> None:
        if value and self.config.ablation != "paper+stft":
            raise ParameterError(f"a warm-up trains on the STFT loss, which ablation={self.config.ablation!r} "
                                 "leaves out: use ablation='paper+stft' or no warm-up")
        if bool(value) != self._warming_up:
            self.train_function = None   # a compiled step was traced for the other mode
        self._warming_up = bool(value)

    PHASES = ("warmup", "gan")

    def set_phase(self, name: str) -> None:
        """``"warmup"`` (generator alone on the STFT loss) or ``"gan"``: what
        :func:`voicelab.train.train_or_load` calls before each :class:`~voicelab.train.Phase`.

        The generator's Adam takes the config's ``warmup_learning_rate`` and
        ``warmup_betas`` in the warm-up, ``learning_rate`` and ``adam_betas`` in the GAN
        phase (set again on every call, so a resumed run gets the right ones; the
        step is traced again after a change of phase).
        """
        if name not in self.PHASES:
            raise ParameterError(f"phase={name!r} is not one of {self.PHASES}")
        self.warming_up = name == "warmup"
        cfg = self.config
        rate, betas = ((cfg.warmup_learning_rate, cfg.warmup_betas) if self.warming_up
                       else (cfg.learning_rate, cfg.adam_betas))
        self.g_optimizer.learning_rate = rate
        self.g_optimizer.beta_1, self.g_optimizer.beta_2 = betas

    def warmup_loss(self, audio, fake):
        """The warm-up's generator loss: the weighted STFT loss alone (needs ``"paper+stft"``)."""
        stft = multi_resolution_stft_loss(audio, fake, self.config.stft_resolutions)
        zero = ops.zeros_like(stft)
        return self.config.stft_weight * stft, {"adv_loss": zero, "fm_loss": zero, "stft_loss": stft}

    def train_step(self, data):
        mel, audio = self._unpack(data)
        if self.warming_up:
            logs = backend_steps.generator_train_step(self, mel, audio)
            return {**self._track({"d_loss": ops.zeros_like(logs["g_loss"]), **logs}),
                    "g_grad_norm": logs["g_grad_norm"]}
        logs = backend_steps.gan_train_step(self, mel, audio)
        return {**self._track(logs),
                "g_grad_norm": logs["g_grad_norm"], "d_grad_norm": logs["d_grad_norm"]}

    def test_step(self, data):
        mel, audio = self._unpack(data)
        fake = self.generator(mel, training=False)
        real_outputs = self.discriminator(audio, training=False)
        fake_outputs = self.discriminator(fake, training=False)
        g_loss, parts = self.generator_loss(audio, fake, real_outputs, fake_outputs)
        return self._track({"d_loss": self.discriminator_loss(real_outputs, fake_outputs),
                            "g_loss": g_loss, **parts})


# ------------------------------------------------------------------ inference + files
def vocode(generator: keras.Model, mel) -> np.ndarray:
    """Waveform(s) for ``mel [frames, n_mels]`` (-> ``[samples]``) or ``[B, frames, n_mels]``."""
    mel = np.asarray(mel, dtype="float32")
    if mel.ndim not in (2, 3) or mel.shape[-2] < 4:
        raise ParameterError(f"mel of shape {mel.shape}: need [frames, n_mels] or "
                             "[batch, frames, n_mels] with at least 4 frames")
    audio = ops.convert_to_numpy(generator(mel[None] if mel.ndim == 2 else mel, training=False))
    return audio[0, :, 0] if mel.ndim == 2 else audio[..., 0]


def save_generator(generator: keras.Model, path: str | os.PathLike) -> keras.Model:
    """Fold weight norm into plain kernels and save the generator as a ``.keras`` file.

    Returns the folded generator (what was saved).
    """
    if not str(path).endswith(".keras"):
        raise ParameterError(f"path={str(path)!r} must end with .keras")
    plain = remove_weight_norm(generator)
    plain.save(path)
    return plain


def load_generator(path: str | os.PathLike) -> keras.Model:
    """Load a generator written by :func:`save_generator` (voicelab's layers registered)."""
    if not os.path.isfile(path):
        raise ParameterError(f"no generator file at {str(path)!r}")
    return keras.saving.load_model(path)
