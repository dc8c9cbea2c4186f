"""MelGAN model core: shapes, receptive field, losses, weight norm, input checks, saving.

Runs on whichever backend ``KERAS_BACKEND`` names; CI runs the file under
``tensorflow`` and ``torch``. Sizes are tiny (hop 16, 8 mels) so every test is fast.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    multi_resolution_stft_loss,
)
from voicelab.models.melgan import (
    MelGAN,
    MelGANConfig,
    MultiScaleDiscriminator,
    build_generator,
    impulse_response,
    load_generator,
    save_generator,
    upsample_factors_for,
    vocode,
)
from voicelab.models.weight_norm import WeightNormConv1D, remove_weight_norm

pytestmark = pytest.mark.backend   # run under TensorFlow and PyTorch (see Makefile)

TINY_AUDIO = AudioConfig(n_fft=64, hop_length=16, win_length=64, n_mels=8)


def tiny_config(**overrides) -> MelGANConfig:
    """A MelGAN small enough to train a step in well under a second on a CPU."""
    params = {"audio": TINY_AUDIO, "generator_channels": 16, "upsample_factors": (4, 4),
              "discriminator_channels": 4, "discriminator_max_channels": 16,
              "discriminator_downsamples": (4, 4),
              "stft_resolutions": ((64, 16, 64), (32, 8, 32))}
    return MelGANConfig(**{**params, **overrides})


def tiny_batches(rng, n: int, *, batch: int = 2, frames: int = 16) -> dict:
    """``n`` batches of random log-mel and sines, as ``voicelab.data.AudioSegments`` gives."""
    mel = rng.normal(-4.0, 1.0, size=(n * batch, frames, TINY_AUDIO.n_mels)).astype("float32")
    t = np.arange(frames * TINY_AUDIO.hop_length) / TINY_AUDIO.sr
    freqs = rng.uniform(200, 2000, size=(n * batch, 1))
    return {"mel": mel, "audio": (0.5 * np.sin(2 * np.pi * freqs * t)).astype("float32")}


def numpy(x) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(x))


# ----------------------------------------------------------------------- config
def test_upsample_factors_are_derived_from_the_hop():
    assert upsample_factors_for(256) == (8, 8, 2, 2)   # the paper's
    for hop in (64, 128, 200, 240, 300, 512):
        assert int(np.prod(upsample_factors_for(hop))) == hop
    assert MelGANConfig().factors == (8, 8, 2, 2)
    with pytest.raises(ParameterError, match="hop_length=275"):
        upsample_factors_for(275)                       # 11 is no upsampling factor
    with pytest.raises(ParameterError, match="multiply to 32, not hop_length=16"):
        tiny_config(upsample_factors=(8, 4))
    with pytest.raises(ParameterError, match="ablation='none'"):
        tiny_config(ablation="none")


def test_full_size_networks_match_the_paper():
    cfg = MelGANConfig()
    generator = build_generator(cfg)
    discriminator = MultiScaleDiscriminator(cfg)
    discriminator.build((None, None, 1))
    # Paper: 4.26 M generator and 16.9 M discriminator parameters.
    assert generator.count_params() == pytest.approx(4.26e6, rel=0.01)
    assert discriminator.count_params() == pytest.approx(16.9e6, rel=0.01)
    scale = discriminator.scales[0]
    assert [c.filters for c in scale.convs] == [16, 64, 256, 1024, 1024, 1024, 1]
    assert [c.groups for c in scale.convs] == [1, 4, 16, 64, 256, 1, 1]


# -------------------------------------------------------------------- generator
@pytest.mark.parametrize("frames", [4, 9, 32])
def test_generator_outputs_hop_length_samples_per_frame(rng, frames):
    generator = build_generator(tiny_config())
    mel = rng.normal(-4, 2, size=(3, frames, 8)).astype("float32")
    audio = numpy(generator(mel))
    assert audio.shape == (3, frames * 16, 1)
    assert np.all(np.abs(audio) <= 1.0)                 # tanh output
    assert vocode(generator, mel[0]).shape == (frames * 16,)
    with pytest.raises(ParameterError, match="at least 4 frames"):
        vocode(generator, mel[0, :3])


def _positive_constant_weights(generator) -> None:
    """Every kernel constant and positive, biases zero: zero in -> exactly zero out."""
    for layer in generator.layers:
        if isinstance(layer, WeightNormConv1D):
            fan_in = int(np.prod(layer.v.shape)) // layer.filters
            layer.v.assign(np.full(layer.v.shape, 1.0 / fan_in, "float32"))
            layer.g.assign(np.full(layer.filters, 1.0 / np.sqrt(fan_in), "float32"))  # = ||v||


@pytest.mark.parametrize("factors", [(4, 4), (8, 2)])
@pytest.mark.parametrize("centre", [True, False])
def test_receptive_field_matches_the_measured_impulse_response(factors, centre):
    cfg = tiny_config(upsample_factors=factors, centre_frames=centre)
    first, last = impulse_response(cfg)
    generator = build_generator(cfg)
    _positive_constant_weights(generator)
    frames, frame = 48, 24
    mel = np.zeros((1, frames, 8), "float32")
    assert np.all(numpy(generator(mel)) == 0.0)
    mel[0, frame] = 1.0                                  # perturb one frame
    touched = np.flatnonzero(numpy(generator(mel))[0, :, 0])
    assert 0 < touched[0] and touched[-1] < frames * 16 - 1   # clear of the edges
    assert (touched[0] - frame * 16, touched[-1] - frame * 16) == (first, last)
    assert touched.size == last - first + 1              # no gaps inside
    assert impulse_response(MelGANConfig()) == (-1553, 1552)   # 3106 samples, 0.19 s, centred
    assert impulse_response(MelGANConfig(centre_frames=False)) == (-1425, 1680)   # half a hop late


def test_centred_generator_puts_a_frame_on_its_own_sample():
    """A frame's influence is centred on ``frame * hop`` only with ``centre_frames``."""
    for centre, expected in ((True, 0.0), (False, 8.0)):
        first, last = impulse_response(tiny_config(centre_frames=centre))
        assert (first + last) / 2 == pytest.approx(expected, abs=1.0)   # hop 16: half a hop is 8


def test_output_gain_scales_the_untrained_output(rng):
    mel = rng.normal(-4, 2, size=(2, 16, 8)).astype("float32")
    keras.utils.set_random_seed(3)
    loud = numpy(build_generator(tiny_config(output_gain=0.2)).predict_on_batch(mel)).std()
    keras.utils.set_random_seed(3)
    quiet = numpy(build_generator(tiny_config(output_gain=0.05)).predict_on_batch(mel)).std()
    assert quiet == pytest.approx(loud / 4, rel=0.1)        # tanh is near-linear at these levels
    with pytest.raises(ParameterError, match="output_gain=0"):
        tiny_config(output_gain=0.0)


# ----------------------------------------------------------------- discriminator
def test_discriminator_returns_features_and_score_per_scale(rng):
    cfg = tiny_config()
    discriminator = MultiScaleDiscriminator(cfg)
    audio = rng.uniform(-1, 1, size=(2, 1024, 1)).astype("float32")
    outputs = discriminator(audio)
    assert len(outputs) == 3
    for k, (features, score) in enumerate(outputs):
        length = 1024 // 2 ** k                          # raw, pooled x2, pooled x4
        assert [tuple(f.shape) for f in features] == [
            (2, length, 4), (2, length // 4, 16), (2, length // 16, 16), (2, length // 16, 16)]
        assert tuple(score.shape) == (2, length // 16, 1)


# ------------------------------------------------------------------------ losses
def _outputs(features, scores):
    def tensor(x):
        return ops.convert_to_tensor(np.asarray(x, "float32"))

    return [([tensor(f) for f in fs], tensor(s)) for fs, s in zip(features, scores)]


def test_losses_on_hand_computed_inputs():
    real = _outputs([[np.ones((1, 4, 2)), np.zeros((1, 2, 3))], [np.full((1, 3, 1), 2.0)]],
                    [[[[2.0], [0.5]]], [[[1.0]]]])
    fake = _outputs([[np.full((1, 4, 2), 3.0), np.full((1, 2, 3), 0.5)], [np.zeros((1, 3, 1))]],
                    [[[[-2.0], [0.0]]], [[[0.5]]]])
    # |1-3| = 2, |0-0.5| = 0.5 (scale 1); |2-0| = 2 (scale 2): summed over maps and scales
    assert float(numpy(feature_matching_loss(real, fake))) == pytest.approx(4.5)
    # hinge D: scale 1 mean(relu(1-[2, .5])) + mean(relu(1+[-2, 0])) = .25 + .5;
    #          scale 2 relu(1-1) + relu(1+.5) = 1.5
    assert float(numpy(discriminator_loss(real, fake))) == pytest.approx(2.25)
    assert float(numpy(generator_adversarial_loss(fake))) == pytest.approx(1.0 - 0.5)
    # least squares D: scale 1 mean([1, .25]) + mean([4, 0]); scale 2 0 + .25
    assert float(numpy(discriminator_loss(real, fake, kind="lsgan"))) == pytest.approx(2.875)


def test_stft_loss_is_zero_for_identical_audio_and_grows_with_error(rng):
    resolutions = ((256, 64, 256), (128, 32, 128), (64, 16, 64))
    audio = rng.uniform(-0.5, 0.5, size=(2, 2048)).astype("float32")

    def loss(estimate):
        return float(numpy(multi_resolution_stft_loss(audio, estimate.astype("float32"),
                                                      resolutions)))

    assert loss(audio) == pytest.approx(0.0, abs=1e-5)
    assert 0 < loss(0.9 * audio) < loss(0.5 * audio)
    assert loss(audio + rng.normal(0, 0.1, audio.shape)) > 0.05


# ------------------------------------------------------------------- weight norm
def test_removing_weight_norm_keeps_the_outputs(rng):
    generator = build_generator(tiny_config())
    for layer in generator.layers:                      # move g away from ||v||
        if isinstance(layer, WeightNormConv1D):
            layer.g.assign(numpy(layer.g) * rng.uniform(0.5, 2.0, layer.filters))
    plain = remove_weight_norm(generator)
    names = {w.path.split("/")[-1] for w in plain.weights}
    assert "v" not in names and "g" not in names and "kernel" in names
    assert plain.count_params() < generator.count_params()
    mel = rng.normal(-4, 2, size=(2, 12, 8)).astype("float32")
    np.testing.assert_allclose(numpy(plain(mel)), numpy(generator(mel)), atol=1e-6)


def test_weight_norm_folds_a_grouped_strided_conv(rng):
    conv = WeightNormConv1D(8, 9, strides=4, groups=4, padding="same")
    x = rng.normal(size=(2, 64, 8)).astype("float32")
    y = numpy(conv(x))
    conv.g.assign(numpy(conv.g) * 3.0)
    np.testing.assert_allclose(numpy(conv(x)), 3.0 * (y - numpy(conv.bias)) + numpy(conv.bias),
                               rtol=1e-5, atol=1e-6)
    plain = WeightNormConv1D.from_config({**conv.get_config(), "weight_norm": False})
    plain.build(x.shape)
    plain.set_weights([numpy(conv.effective_kernel()), numpy(conv.bias)])
    np.testing.assert_allclose(numpy(plain(x)), numpy(conv(x)), atol=1e-6)


@pytest.mark.parametrize(("strides", "padding", "length"),
                         [(4, "same", 64), (4, "same", 61), (2, "valid", 61), (1, "same", 64)])
def test_grouped_conv_computes_what_keras_conv_computes(rng, strides, padding, length):
    conv = WeightNormConv1D(12, 9, strides=strides, groups=3, padding=padding)
    x = rng.normal(size=(2, length, 6)).astype("float32")
    y = numpy(conv(x))
    expected = numpy(ops.conv(x, conv.effective_kernel(), strides=strides, padding=padding))
    np.testing.assert_allclose(y, expected + numpy(conv.bias), atol=1e-5)
    assert y.shape == conv.compute_output_shape(x.shape)


def test_weight_norm_layer_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="padding='causal'"):
        WeightNormConv1D(4, 3, padding="causal")
    with pytest.raises(ParameterError, match="filters=6 is not divisible by groups=4"):
        WeightNormConv1D(6, 3, groups=4)
    with pytest.raises(ParameterError, match="kernel_size=0"):
        WeightNormConv1D(4, 0)


# ------------------------------------------------------------------ fit inputs
def test_fit_rejects_audio_of_the_wrong_length(rng):
    gan = MelGAN(tiny_config())
    gan.compile()
    batch = tiny_batches(rng, 1)
    mel, audio = batch["mel"], batch["audio"][:, :-16]
    message = "expected frames \\* hop_length = 16 \\* 16 = 256"
    with pytest.raises(ParameterError, match=message):                # (mel, audio) pairs
        gan.fit(mel, audio, batch_size=2, epochs=1, verbose=0)
    with pytest.raises(ParameterError, match=message):                # AudioSegments' dicts
        gan.fit({"mel": mel, "audio": audio}, batch_size=2, epochs=1, verbose=0)


def test_warm_up_trains_the_generator_alone_then_the_gan_trains_both(rng):
    gan = MelGAN(tiny_config())
    gan.compile(run_eagerly=True)
    batch = tiny_batches(rng, 1)

    def snapshot(model):
        return [numpy(w).copy() for w in model.weights]

    def changed(before, model):
        return any(not np.array_equal(a, numpy(b)) for a, b in zip(before, model.weights))

    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.warming_up = True
    logs = gan.fit(batch, batch_size=2, epochs=1, verbose=0).history
    assert changed(g0, gan.generator) and not changed(d0, gan.discriminator)
    assert logs["d_loss"] == [0.0] and logs["stft_loss"][0] > 0 and "d_grad_norm" not in logs
    gan.set_phase("gan")
    assert float(numpy(gan.g_optimizer.learning_rate)) == pytest.approx(gan.config.learning_rate)
    assert (gan.g_optimizer.beta_1, gan.g_optimizer.beta_2) == gan.config.adam_betas
    gan.set_phase("warmup")
    assert float(numpy(gan.g_optimizer.learning_rate)) == pytest.approx(gan.config.warmup_learning_rate)
    assert (gan.g_optimizer.beta_1, gan.g_optimizer.beta_2) == gan.config.warmup_betas
    gan.warming_up = False
    d1 = snapshot(gan.discriminator)
    logs = gan.fit(batch, batch_size=2, epochs=1, verbose=0).history
    assert changed(d1, gan.discriminator) and logs["d_loss"][0] > 0 and "d_grad_norm" in logs


def test_warm_up_needs_the_stft_loss():
    gan = MelGAN(tiny_config(ablation="paper"))
    with pytest.raises(ParameterError, match="warm-up trains on the STFT loss"):
        gan.warming_up = True


# ------------------------------------------------------------------------ saving
def test_saved_generator_loads_without_weight_norm_and_same_outputs(rng, tmp_path):
    generator = build_generator(tiny_config())
    path = tmp_path / "generator.keras"
    save_generator(generator, path)
    loaded = load_generator(path)
    assert not any(getattr(layer, "weight_norm", False) for layer in loaded.layers)
    mel = rng.normal(-4, 2, size=(1, 20, 8)).astype("float32")
    np.testing.assert_allclose(numpy(loaded(mel)), numpy(generator(mel)), atol=1e-6)
    with pytest.raises(ParameterError, match="must end with .keras"):
        save_generator(generator, tmp_path / "generator.h5")
    with pytest.raises(ParameterError, match="no generator file"):
        load_generator(tmp_path / "missing.keras")
