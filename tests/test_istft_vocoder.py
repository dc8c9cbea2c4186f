"""iSTFT vocoder: exact inverse STFT, keras.ops log-mel, shapes, one finite training step.

Runs on whichever backend ``KERAS_BACKEND`` names (TensorFlow and PyTorch in CI).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.dsp import features
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.istft_vocoder import (
    InverseSTFT,
    ISTFTVocoderConfig,
    build_istft_vocoder,
    log_mel_ops,
    vocode,
    vocoder_loss,
)

pytestmark = pytest.mark.backend

TINY_AUDIO = AudioConfig(n_fft=64, hop_length=16, win_length=64, n_mels=8)


def test_inverse_stft_inverts_features_stft(rng):
    y = rng.normal(size=16 * 20).astype("float32")
    spec = features.stft(y, config=TINY_AUDIO)[None]          # 21 centred frames
    out = ops.convert_to_numpy(InverseSTFT(TINY_AUDIO)((spec.real, spec.imag)))[0]
    assert out.shape == (21 * 16,)
    np.testing.assert_allclose(out[: y.size], y, atol=1e-4)


def test_log_mel_ops_matches_features(rng):
    y = rng.normal(size=16 * 20).astype("float32")
    ours = ops.convert_to_numpy(log_mel_ops(y[None], TINY_AUDIO))[0]
    ref = features.log_mel(features.melspectrogram(y, config=TINY_AUDIO))
    # keras pads the ends by reflection, voicelab.features by zeros: compare the interior
    np.testing.assert_allclose(ours[2:-2], ref[2:-2], atol=1e-3)


def test_shapes_and_one_training_step(rng):
    cfg = ISTFTVocoderConfig(audio=TINY_AUDIO, channels=8, blocks=1,
                             stft_resolutions=((64, 8, 32),))
    model = build_istft_vocoder(cfg)
    mel = rng.normal(-5, 1, (2, 6, 8)).astype("float32")
    audio = rng.normal(0, 0.05, (2, 6 * 16)).astype("float32")
    assert tuple(model(mel).shape) == (2, 96)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss=vocoder_loss(cfg))
    assert np.isfinite(float(model.train_on_batch(mel, audio)))
    assert vocode(model, mel[0], length=90).shape == (90,)


def test_config_checks():
    with pytest.raises(ParameterError):
        ISTFTVocoderConfig(audio=AudioConfig(n_fft=1000, hop_length=256, win_length=1000))


def test_magnitude_prior_starts_at_the_mel_pseudo_inverse(rng, tmp_path):
    """Untrained, the network's magnitudes are Griffin-Lim's starting magnitudes, exactly."""
    from voicelab.dsp.griffin_lim import mel_to_linear

    cfg = ISTFTVocoderConfig(audio=TINY_AUDIO, channels=8, blocks=1, magnitude_prior=True)
    model = build_istft_vocoder(cfg)
    mel = rng.normal(-3, 1, (1, 6, 8)).astype("float32")
    head = keras.Model(model.input, model.get_layer("polar").output)    # the spectrum before the iSTFT
    real, imag = (ops.convert_to_numpy(x)[0] for x in head(mel))
    expected = np.clip(mel_to_linear(np.exp(mel[0]), config=TINY_AUDIO), 1e-5, np.exp(cfg.max_log_magnitude))
    np.testing.assert_allclose(np.hypot(real, imag), expected, rtol=1e-4, atol=1e-6)
    # it survives saving: the prior is a registered layer with its config
    model.save(tmp_path / "prior.keras")
    loaded = keras.saving.load_model(tmp_path / "prior.keras")
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(mel)), ops.convert_to_numpy(model(mel)), atol=1e-6)



def test_the_neural_vocoder_feeds_either_input_structure_without_warnings(rng):
    """Vocoders exported from ``model.inputs`` (a list of one) are called as they were built, silently."""
    import warnings

    from voicelab.vocoders import neural_vocoder

    model = build_istft_vocoder(ISTFTVocoderConfig(audio=TINY_AUDIO, channels=8, blocks=1))
    as_list = keras.Model(model.inputs, model.outputs, name="listed")
    mel = rng.normal(-3, 1, (12, 8)).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        outputs = [neural_vocoder(m, TINY_AUDIO)(mel) for m in (model, as_list)]
    assert outputs[0].shape == (TINY_AUDIO.n_samples(12),)
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6)
