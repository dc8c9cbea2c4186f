"""The VQ-VAE of notebook 04: shapes, masks, both voice inputs, a tiny overfit, conversion, saving.

The quantiser itself is tested in ``tests/test_vq.py``; the kill -9 resume of the
recipe's model in ``tests/test_train_run.py``.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.errors import ParameterError
from voicelab.models.layers import code_lengths
from voicelab.models.vqvae import VQVAEConfig, build_vqvae, convert, encode

pytestmark = pytest.mark.backend

TINY = VQVAEConfig(n_speakers=3, n_codes=8, code_dim=4, downsample=4, encoder_channels=16, decoder_channels=16,
                   voice_dim=4, decoder_dilations=(1, 2), mel_mean=-5.0, mel_std=2.0)


def batch(rng, lengths=(13, 9), n_mels=80, voice="speaker", embedding_dim=256):
    mel = rng.normal(-5.0, 2.0, (len(lengths), max(lengths), n_mels)).astype("float32")
    out = {"mel": mel, "mel_length": np.array(lengths, "int32")}
    if voice == "speaker":
        out["speaker"] = np.arange(len(lengths), dtype="int32") % 3
    else:
        out["embedding"] = rng.standard_normal((len(lengths), embedding_dim)).astype("float32")
    return out


@pytest.mark.parametrize("downsample", [1, 2, 4, 8])
def test_shapes_follow_the_downsampling(rng, downsample, one_torch_thread):
    model = build_vqvae(dataclasses.replace(TINY, downsample=downsample))
    b = batch(rng)
    out = model(b)
    assert tuple(out["mel"].shape) == b["mel"].shape
    n_codes = -(-13 // downsample)
    assert tuple(out["codes"].shape) == (2, n_codes)
    assert ops.convert_to_numpy(out["code_mask"]).sum(1).tolist() == \
        ops.convert_to_numpy(code_lengths(b["mel_length"], downsample)).tolist()


def test_padding_never_changes_a_real_output(rng, one_torch_thread):
    model = build_vqvae(TINY)
    b = batch(rng, lengths=(12, 12))
    short = {k: v[:1] for k, v in b.items()}
    padded = {k: v[:1] for k, v in b.items()}
    padded["mel"] = np.concatenate([padded["mel"], np.full((1, 8, 80), 3.0, "float32")], axis=1)
    a, p = model(short), model(padded)
    np.testing.assert_allclose(ops.convert_to_numpy(p["mel"])[0, :12], ops.convert_to_numpy(a["mel"])[0], atol=1e-4)
    assert ops.convert_to_numpy(p["codes"])[0, :3].tolist() == ops.convert_to_numpy(a["codes"])[0].tolist()


def test_the_speaker_input_changes_the_output_and_the_codes_do_not_see_it(rng, one_torch_thread):
    model = build_vqvae(TINY)
    mel = rng.normal(-5.0, 2.0, (16, 80)).astype("float32")
    a, b = convert(model, mel, speaker=0), convert(model, mel, speaker=2)
    assert a.shape == (16, 80) and np.abs(a - b).max() > 1e-4
    assert encode(model, mel).tolist() == encode(model, mel).tolist() and encode(model, mel).shape == (4,)


def test_embedding_model_reads_unit_normalised_vectors(rng, one_torch_thread):
    model = build_vqvae(dataclasses.replace(TINY, voice="embedding", embedding_dim=6))
    mel = rng.normal(-5.0, 2.0, (8, 80)).astype("float32")
    e = rng.standard_normal(6).astype("float32")
    np.testing.assert_allclose(convert(model, mel, embedding=e), convert(model, mel, embedding=3 * e), atol=1e-5)
    with pytest.raises(ParameterError, match="embedding"):
        convert(model, mel, speaker=0)
    with pytest.raises(ParameterError, match="6 finite"):
        convert(model, mel, embedding=np.ones(5))


def test_bad_inputs_name_the_problem(rng, one_torch_thread):
    model = build_vqvae(TINY)
    with pytest.raises(ParameterError, match=r"\[frames, 80\]"):
        convert(model, np.zeros((10, 40)), speaker=0)
    with pytest.raises(ParameterError, match="NaN"):
        convert(model, np.full((10, 80), np.nan), speaker=0)
    with pytest.raises(ParameterError, match=r"in \[0, 3\)"):
        convert(model, np.zeros((10, 80)), speaker=3)
    for bad in ({"downsample": 3}, {"voice": "clip"}, {"input_scale": "bark"}, {"n_codes": 0}):
        with pytest.raises(ParameterError):
            VQVAEConfig(**bad)


def test_bits_per_second():
    assert VQVAEConfig(n_codes=256, downsample=4).bits_per_second == pytest.approx(8 * 62.5 / 4)


@pytest.mark.parametrize("input_scale", ["db", "magnitude"])
def test_tiny_model_overfits_one_batch_and_keeps_its_codebook_in_use(rng, input_scale, one_torch_thread):
    """Two utterances with a structure (a band moving up and down) are learned to a small loss."""
    keras.utils.set_random_seed(0)
    t = np.arange(32)
    mel = np.full((2, 32, 80), -8.0, "float32")
    for row, period in enumerate((8, 12)):
        band = (40 + 30 * np.sin(2 * np.pi * t / period)).astype(int)
        mel[row, t, band] = 0.0
        mel[row, t, np.clip(band + 1, 0, 79)] = -1.0
    b = {"mel": mel, "mel_length": np.array([32, 32], "int32"), "speaker": np.array([0, 1], "int32")}
    config = dataclasses.replace(TINY, input_scale=input_scale, n_codes=16, code_dim=8, downsample=2,
                                 encoder_channels=32, decoder_channels=32, mel_mean=float(mel.mean()),
                                 mel_std=float(mel.std()), magnitude_std=float(np.exp(mel).std()))
    model = build_vqvae(config, learning_rate=3e-3)

    class One(keras.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return b

    model.initialize_codebook(One())
    history = model.fit(One(), epochs=150, verbose=0).history
    assert history["mel_loss"][-1] < 0.25 * history["mel_loss"][0], history["mel_loss"][::30]
    assert history["codes_used"][-1] >= 4


def test_saves_and_loads_with_its_codebook(rng, tmp_path, one_torch_thread):
    model = build_vqvae(TINY)
    model.quantizer.initialize(rng.standard_normal((40, 4)).astype("float32"))
    mel = rng.normal(-5.0, 2.0, (12, 80)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(convert(loaded, mel, speaker=1), convert(model, mel, speaker=1), atol=1e-5)
    assert encode(loaded, mel).tolist() == encode(model, mel).tolist()


def test_instance_norm_makes_the_codes_blind_to_an_utterance_wide_spectral_tilt(rng, one_torch_thread):
    """A per-band offset and gain over the whole utterance (a crude timbre change) leaves the encoder's output alone.

    The continuous output before the quantiser is compared, not the codes: a random codebook
    can send every frame to the same code, and then the codes of any two inputs agree.
    """
    model = build_vqvae(dataclasses.replace(TINY, instance_norm=True))
    mel = rng.normal(-5.0, 2.0, (1, 24, 80)).astype("float32")
    tilted = mel * 1.5 + np.linspace(-2.0, 2.0, 80, dtype="float32")
    length = np.array([24], "int32")

    def encoded(m, x):
        return ops.convert_to_numpy(m.encode(x, length)[0])

    np.testing.assert_allclose(encoded(model, tilted), encoded(model, mel), atol=1e-4)
    plain = build_vqvae(TINY)
    plain.set_weights(model.get_weights())
    gap = np.abs(encoded(plain, tilted) - encoded(plain, mel)).max()
    assert gap > 100 * 1e-4, gap
