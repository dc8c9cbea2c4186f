"""Losses for GAN vocoders: adversarial (hinge, least squares), feature matching, STFT.

Introduced in ``notebooks/03_melgan_vocoder.ipynb`` (used by ``voicelab.models.melgan``).

A discriminator's output here is a list with one ``(feature_maps, score)`` pair per
scale, as :class:`voicelab.models.melgan.MultiScaleDiscriminator` returns it. Every
loss is in ``keras.ops``, so it runs on the TensorFlow and PyTorch backends.

- Hinge (MelGAN's): the discriminator pushes real scores above +1 and fake ones below
  -1 and stops caring beyond; the generator raises the fake scores.
- Least squares (``"lsgan"``; Parallel WaveGAN, HiFi-GAN): scores regress to 1 / 0.
- Feature matching (MelGAN eq. 5): L1 distance between the discriminator's feature
  maps of real and generated audio, a perceptual-ish reconstruction loss.
- Multi-resolution STFT (Yamamoto et al. 2020): spectral convergence + log-magnitude
  L1 at several FFT sizes, so neither time nor frequency resolution is favoured.

Example
-------
>>> import numpy as np
>>> outputs = [([np.ones((1, 4, 2), "float32")], np.zeros((1, 2, 1), "float32"))]
>>> float(discriminator_loss(outputs, outputs))  # hinge, scores 0: relu(1) + relu(1)
2.0
"""

from __future__ import annotations

from keras import ops

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
