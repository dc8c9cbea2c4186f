"""CodeGAN: the StarGAN losses' shapes, masking, the identity start, learning a synthetic conversion, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.errors import ParameterError
from voicelab.models.codegan import (
    LOSSES,
    CodeGAN,
    CodeGANConfig,
    CodeGenerator,
    codegan_losses,
    convert_codes,
)

pytestmark = [pytest.mark.backend, pytest.mark.usefixtures("one_torch_thread")]

SMALL = CodeGANConfig(code_dim=4, n_emotions=2, channels=16, n_blocks=2, kernel_size=3, learning_rate=1e-3)


def two_emotions(rng, n, steps=12):
    """Codes whose first number is about -1 in emotion 0 and +1 in emotion 1; the rest is noise."""
    emotion = rng.integers(0, 2, n)
    codes = rng.normal(0.0, 0.3, (n, steps, SMALL.code_dim)).astype("float32")
    codes[:, :, 0] += np.where(emotion == 0, -1.0, 1.0)[:, None]
    return {"codes": codes, "length": rng.integers(steps // 2, steps + 1, n).astype("int32"),
            "emotion": emotion.astype("int32")}


class Batches(keras.utils.PyDataset):
    def __init__(self, seed):
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return 10

    def __getitem__(self, index):
        return two_emotions(self.rng, 16)


def test_every_loss_is_one_finite_number_and_the_untrained_generator_is_the_identity(rng):
    gan = CodeGAN(SMALL)
    gan.compile()
    batch = two_emotions(rng, 5)
    terms = codegan_losses(gan.generator, gan.discriminator, batch, np.array([1, 0, 1, 1, 0], "int32"))
    assert set(terms) == {*LOSSES, "real_accuracy", "fake_accuracy"}
    for name, value in terms.items():
        assert tuple(ops.shape(value)) == (), name
        assert np.isfinite(float(ops.convert_to_numpy(value))), name
    assert float(ops.convert_to_numpy(terms["cycle"])) == 0 and float(ops.convert_to_numpy(terms["identity"])) == 0
    score, logits = gan.discriminator({"codes": batch["codes"], "length": batch["length"]})
    assert tuple(score.shape) == (5,) and tuple(logits.shape) == (5, 2)


def test_padding_never_changes_a_real_output(rng):
    gan = CodeGAN(SMALL)
    gan.compile()
    gan.generator.change.set_weights([w + 0.1 for w in gan.generator.change.get_weights()])  # not the identity
    batch = two_emotions(rng, 1, steps=7)
    batch["length"] = np.array([7], "int32")
    padded = dict(batch, codes=np.concatenate([batch["codes"], np.full((1, 5, 4), 9.0, "float32")], axis=1))
    short = ops.convert_to_numpy(gan.generator(dict(batch, emotion=np.array([1]))))
    long = ops.convert_to_numpy(gan.generator(dict(padded, emotion=np.array([1]))))
    np.testing.assert_allclose(long[:, :7], short, atol=1e-5)
    assert np.abs(short - batch["codes"]).max() > 0.05
    for a, b in zip(gan.discriminator(batch), gan.discriminator(padded)):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-5)


def test_learns_to_convert_synthetic_codes_and_keeps_them_for_their_own_emotion(rng):
    keras.utils.set_random_seed(0)
    gan = CodeGAN(SMALL)
    gan.compile()
    history = gan.fit(Batches(0), epochs=20, verbose=0).history
    assert history["fake_accuracy"][-1] > 0.9 > history["fake_accuracy"][0]
    test = two_emotions(rng, 32)
    sad = test["codes"][test["emotion"] == 0]
    moved = np.stack([convert_codes(gan.generator, c, emotion=1) for c in sad])
    kept = np.stack([convert_codes(gan.generator, c, emotion=0) for c in sad])
    assert moved[..., 0].mean() > 0.5                       # emotion 1's region (+1), from -1
    assert abs(kept[..., 0].mean() - sad[..., 0].mean()) < 0.2
    assert np.abs(moved[..., 1:] - sad[..., 1:]).mean() < 0.2    # the rest kept


def test_the_generator_saves_and_loads(rng, tmp_path):
    config = CodeGANConfig(code_dim=4, n_emotions=3, channels=8, n_blocks=1, code_mean=(1, 2, 3, 4),
                           code_std=(1, 1, 2, 2))
    generator = CodeGenerator(config)
    generator.change.set_weights([w + 0.3 for w in generator.change.get_weights()])
    generator.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    codes = rng.normal(size=(6, 4)).astype("float32")
    np.testing.assert_allclose(convert_codes(loaded, codes, emotion=2), convert_codes(generator, codes, emotion=2),
                               atol=1e-5)
    assert loaded.config == config


def test_bad_arguments():
    with pytest.raises(ParameterError, match="n_emotions"):
        CodeGANConfig(code_dim=4, n_emotions=1)
    with pytest.raises(ParameterError, match="code_mean"):
        CodeGANConfig(code_dim=4, n_emotions=2, code_mean=(0.0,))
    generator = CodeGenerator(SMALL)
    with pytest.raises(ParameterError, match="codes must be"):
        convert_codes(generator, np.zeros((3, 5)), emotion=0)
    with pytest.raises(ParameterError, match="emotion=2"):
        convert_codes(generator, np.zeros((3, 4)), emotion=2)
