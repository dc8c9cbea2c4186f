"""Every loss of the kit's models, in ``keras.ops`` (TensorFlow and PyTorch alike).

GAN vocoders (introduced in ``notebooks/03_melgan_vocoder.ipynb``, used by
``voicelab.models.melgan``): adversarial (hinge, least squares), feature matching and
the multi-resolution STFT loss. Acoustic models (introduced in
``notebooks/02_tts_cnn_bilstm.ipynb``, used by ``voicelab.models.tts``): the masked
log-mel loss and the log-duration loss.

A discriminator's output here is a list with one ``(feature_maps, score)`` pair per
scale, as :class:`voicelab.models.melgan.MultiScaleDiscriminator` returns it.

- Hinge (MelGAN's): the discriminator pushes real scores above +1 and fake ones below
  -1 and stops caring beyond; the generator raises the fake scores.
- Least squares (``"lsgan"``; Parallel WaveGAN, HiFi-GAN): scores regress to 1 / 0.
- Feature matching (MelGAN eq. 5): L1 distance between the discriminator's feature
  maps of real and generated audio, a perceptual-ish reconstruction loss.
- Multi-resolution STFT (Yamamoto et al. 2020): spectral convergence + log-magnitude
  L1 at several FFT sizes, so neither time nor frequency resolution is favoured.
- Wasserstein critic and gradient penalty (WGAN-GP, Gulrajani et al. 2017; groundwork of
  notebook 05's VoiceGAN): the critic's norm of input gradient held near 1 on points
  between real and generated examples.

Example
-------
>>> import numpy as np
>>> outputs = [([np.ones((1, 4, 2), "float32")], np.zeros((1, 2, 1), "float32"))]
>>> float(discriminator_loss(outputs, outputs))  # hinge, scores 0: relu(1) + relu(1)
2.0
"""

from __future__ import annotations

import keras
from keras import ops

from voicelab.errors import ParameterError
from voicelab.models.layers import sequence_mask
from voicelab.train.backend_steps import input_gradient_norm

ADVERSARIAL_LOSSES = ("hinge", "lsgan")


def discriminator_loss(real_outputs, fake_outputs, *, kind: str = "hinge"):
    """Sum over scales of the discriminator's adversarial loss (hinge or least squares)."""
    loss = 0.0
    for (_, real), (_, fake) in zip(real_outputs, fake_outputs):
        if kind == "hinge":
            loss += ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))
        else:
            loss += ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake))
    return loss


def generator_adversarial_loss(fake_outputs, *, kind: str = "hinge"):
    """Sum over scales of the generator's adversarial loss."""
    loss = 0.0
    for _, fake in fake_outputs:
        loss += -ops.mean(fake) if kind == "hinge" else ops.mean(ops.square(fake - 1.0))
    return loss


def feature_matching_loss(real_outputs, fake_outputs):
    """Paper eq. (5), unweighted: sum over scales and layers of mean |D(x) - D(G(s))|.

    The real feature maps are targets: no gradient flows into them.
    """
    loss = 0.0
    for (real_features, _), (fake_features, _) in zip(real_outputs, fake_outputs):
        for real, fake in zip(real_features, fake_features):
            loss += ops.mean(ops.abs(ops.stop_gradient(real) - fake))
    return loss


def _stft_magnitude(x, n_fft: int, hop: int, win: int):
    """``|STFT(x)|`` of ``[B, T]`` audio, floored so its log and sqrt keep finite gradients."""
    real, imag = ops.stft(x, sequence_length=win, sequence_stride=hop, fft_length=n_fft,
                          window="hann", center=True)
    return ops.sqrt(ops.maximum(real * real + imag * imag, 1e-7))


def multi_resolution_stft_loss(audio, fake, resolutions):
    """Mean over resolutions of spectral convergence + L1 log-magnitude distance.

    ``audio``, ``fake``: ``[B, T]`` or ``[B, T, 1]``. Zero for identical inputs (up to
    the 1e-6 guard that keeps the gradient of the norm finite), positive otherwise.
    """
    if len(audio.shape) == 3:
        audio, fake = audio[..., 0], fake[..., 0]
    total = 0.0
    for n_fft, hop, win in resolutions:
        target, estimate = (_stft_magnitude(x, n_fft, hop, win) for x in (audio, fake))
        spectral_convergence = (ops.sqrt(ops.sum(ops.square(target - estimate)) + 1e-12)
                                / ops.sqrt(ops.sum(ops.square(target)) + 1e-12))
        log_magnitude = ops.mean(ops.abs(ops.log(target) - ops.log(estimate)))
        total += spectral_convergence + log_magnitude
    return total / len(resolutions)


# ------------------------------------------------------------ acoustic models (TTS)
MEL_LOSSES = ("mse+mae", "mae", "mse")


def masked_mel_loss(mel_true, mel_pred, mel_length, kind: str = "mse+mae"):
    """MSE + MAE (or either alone, ``kind``) over the real frames of a padded batch of mels ``[B, F, n_mels]``.

    Each real value counts once, whatever the padding: the sums are divided by the
    number of real frames times ``n_mels``. The square weighs large errors most (where
    the log-mel is least predictable: quiet bands and noise); the absolute value
    weighs every error alike, and its minimiser is the median rather than the mean.

    Example
    -------
    >>> import numpy as np
    >>> t = np.zeros((1, 4, 2), "float32"); p = t.copy(); p[0, 3] = 9.0  # frame 3 is padding
    >>> float(masked_mel_loss(t, p, np.array([3])))
    0.0
    >>> p[0, 0] = 2.0
    >>> [round(float(masked_mel_loss(t, p, np.array([3]), kind)), 4) for kind in MEL_LOSSES]
    [2.0, 0.6667, 1.3333]
    """
    if kind not in MEL_LOSSES:
        raise ParameterError(f"mel loss kind={kind!r} is not one of {MEL_LOSSES}")
    mel_true = ops.convert_to_tensor(mel_true)
    mask = sequence_mask(mel_length, ops.shape(mel_true)[1])[..., None]
    diff = (ops.convert_to_tensor(mel_pred) - mel_true) * mask
    count = ops.maximum(ops.sum(mask) * ops.cast(ops.shape(mel_true)[2], "float32"), 1.0)
    total = 0.0
    if "mse" in kind:
        total = total + ops.sum(ops.square(diff))
    if "mae" in kind:
        total = total + ops.sum(ops.abs(diff))
    return total / count


def duration_loss(durations, log_durations_pred, token_length):
    """MSE between predicted and true ``log(1 + frames)`` over the real symbols.

    Example
    -------
    >>> import numpy as np
    >>> d = np.array([[3, 1, 0]]); pred = np.log1p(d).astype("float32"); pred[0, 2] = 5.0
    >>> round(float(duration_loss(d, pred, np.array([2]))), 6)
    0.0
    """
    target = ops.log1p(ops.cast(durations, "float32"))
    mask = sequence_mask(token_length, ops.shape(target)[1])
    err = (ops.convert_to_tensor(log_durations_pred) - target) * mask
    return ops.sum(ops.square(err)) / ops.maximum(ops.sum(mask), 1.0)


def masked_symbol_mse(target, prediction, token_length):
    """MSE of per-symbol values ``[B, L]`` (pitch, energy) over the real symbols.

    Example
    -------
    >>> import numpy as np
    >>> t = np.array([[1.0, 2.0, 0.0]], "float32"); p = np.array([[1.0, 4.0, 9.0]], "float32")
    >>> float(masked_symbol_mse(t, p, np.array([2])))
    2.0
    """
    mask = sequence_mask(token_length, ops.shape(target)[1])
    err = (ops.convert_to_tensor(prediction) - ops.stop_gradient(ops.convert_to_tensor(target))) * mask
    return ops.sum(ops.square(err)) / ops.maximum(ops.sum(mask), 1.0)


def wasserstein_critic_loss(real_scores, fake_scores):
    """The critic's WGAN loss: ``mean(fake) - mean(real)`` (it raises real scores, lowers fake ones)."""
    return ops.mean(fake_scores) - ops.mean(real_scores)


def gradient_penalty(critic, real, fake, *, seed=None):
    """WGAN-GP: ``mean((||d critic(x) / d x|| - 1)^2)`` at random points ``x`` between real and fake.

    Each example pair gets one uniform mixing weight; ``seed`` is a ``keras.random``
    seed or ``SeedGenerator``. Differentiable in the critic's weights (see
    :func:`voicelab.train.backend_steps.input_gradient_norm`): add it, times 10 as in
    the paper, to :func:`wasserstein_critic_loss`.
    """
    real, fake = ops.convert_to_tensor(real), ops.stop_gradient(ops.convert_to_tensor(fake))
    shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
    alpha = keras.random.uniform(shape, seed=seed)
    between = alpha * real + (1.0 - alpha) * fake
    return ops.mean(ops.square(input_gradient_norm(critic, between) - 1.0))
