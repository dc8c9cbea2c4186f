"""The variance adaptor (per-symbol pitch and energy) and the emotion input of the TTS model."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops
from test_tts import AUDIO, TINY, make_batch

from voicelab.errors import ParameterError
from voicelab.models.losses import masked_symbol_mse
from voicelab.models.tts import TTSConfig, build_tts, synthesize_mel
from voicelab.models.variance import VarianceAdaptor, symbol_means

pytestmark = [pytest.mark.backend, pytest.mark.usefixtures("one_torch_thread")]
EMOTIONAL = {**TINY, "n_emotions": 4, "emotion_dim": 4, "variance": True, "variance_filters": 16,
             "pitch_mean": float(np.log(150.0)), "pitch_std": 0.2}


def with_f0(batch, rng):
    """Add ``f0 [B, F]``: a known contour per symbol id (150 Hz * 1.1**id), unvoiced on id 1."""
    f0 = np.zeros(batch["mel"].shape[:2], "float32")
    for b in range(len(f0)):
        hz = np.where(batch["tokens"][b] == 1, 0.0, 150.0 * 1.1 ** batch["tokens"][b])
        frames = np.repeat(hz, batch["durations"][b])
        f0[b, :len(frames)] = frames
    return {**batch, "f0": f0, "emotion": rng.integers(0, 4, len(f0)).astype("int32")}


def numpy(x):
    return ops.convert_to_numpy(x)


def test_symbol_means_weighted_and_empty_symbols():
    alignment = np.zeros((1, 4, 3), "float32")
    alignment[0, [0, 1], 0] = alignment[0, [2, 3], 1] = 1            # symbol 2 has no frame
    values, weights = np.array([[2.0, 4.0, 6.0, 9.0]], "float32"), np.array([[1, 1, 0, 1]], "float32")
    assert numpy(symbol_means(values, alignment)).tolist() == [[3.0, 7.5, 0.0]]
    assert numpy(symbol_means(values, alignment, weights)).tolist() == [[3.0, 9.0, 0.0]]
    assert float(masked_symbol_mse(np.zeros((1, 3), "float32"), np.array([[1.0, 3.0, 50.0]], "float32"),
                                   np.array([2]))) == pytest.approx(5.0)


def test_adaptor_shapes_and_targets_replace_predictions(rng):
    adaptor = VarianceAdaptor(width=12, filters=8)
    h = rng.normal(size=(2, 5, 12)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "float32")
    out, predicted = adaptor(h, mask)
    assert tuple(out.shape) == (2, 5, 12) and tuple(predicted["pitch"].shape) == (2, 5)
    assert not numpy(predicted["energy"])[0, 3:].any()               # padding stays zero
    given, _ = adaptor(h, mask, pitch=np.full((2, 5), 3.0, "float32"), energy=np.zeros((2, 5), "float32"))
    assert not np.allclose(numpy(given), numpy(out))


def test_the_model_recovers_a_known_pitch_contour(rng):
    keras.utils.set_random_seed(3)
    model = build_tts(TTSConfig(voice="speaker", **EMOTIONAL), AUDIO, learning_rate=5e-3)
    batch = with_f0(make_batch(rng, [6, 5, 6, 4]), rng)
    targets = numpy(model(batch)["pitch_target"])
    expected = np.where(batch["tokens"] == 1, 0.0, (np.log(150 * 1.1 ** batch["tokens"]) - np.log(150)) / 0.2)
    mask = np.arange(6)[None] < batch["token_length"][:, None]
    np.testing.assert_allclose(targets[mask], expected[mask], atol=1e-4)
    first = model.train_on_batch(batch, return_dict=True)
    for _ in range(80):
        last = model.train_on_batch(batch, return_dict=True)
    assert {"pitch_loss", "energy_loss", "mel_loss", "duration_loss"} <= set(last)
    assert last["pitch_loss"] < first["pitch_loss"] / 10, (first, last)
    predicted = numpy(model(batch)["pitch"])
    assert np.abs(predicted[mask] - expected[mask]).mean() < 0.35 * np.abs(expected[mask]).mean()


def test_emotions_change_the_output_and_unknown_ones_are_refused(rng):
    from voicelab import synthesis

    keras.utils.set_random_seed(4)
    model = build_tts(TTSConfig(voice="speaker", **{**EMOTIONAL, "vocab_size": None}), AUDIO)
    emotions = ["angry", "happy", "neutral", "sad"]
    emb = model.emotion_embedding.embeddings
    emb.assign(numpy(emb) * 20)                                       # an untrained table is near 0
    mels = [synthesize_mel(model, [2, 3, 4], speaker=0, emotion=e)[0] for e in range(4)]
    assert len({m.tobytes() for m in mels}) == 4                      # four different outputs
    with pytest.raises(ParameterError, match="emotion='bored' is not one of"):
        synthesis.synthesize(model, "Hi.", voice=0, config=AUDIO, n_iter=1, emotion="bored", emotions=emotions)
    with pytest.raises(ParameterError, match="emotion=7 must be an id"):
        synthesize_mel(model, [2, 3], speaker=0, emotion=7)
    y, _, _ = synthesis.synthesize(model, "Hi.", voice=0, config=AUDIO, n_iter=1, emotion="sad", emotions=emotions)
    assert np.isfinite(y).all()
    plain = build_tts(TTSConfig(voice="speaker", **{**TINY, "vocab_size": None}), AUDIO)
    with pytest.raises(ParameterError, match="without an emotion input"):
        synthesis.synthesize(plain, "Hi.", voice=0, config=AUDIO, n_iter=1, emotion="sad", emotions=emotions)


def test_saved_model_with_adaptor_and_emotions_round_trips(rng, tmp_path):
    model = build_tts(TTSConfig(voice="speaker", **EMOTIONAL), AUDIO)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    a, da = synthesize_mel(model, [2, 5, 7], speaker=1, emotion=2)
    b, db = synthesize_mel(loaded, [2, 5, 7], speaker=1, emotion=2)
    np.testing.assert_array_equal(da, db)
    np.testing.assert_allclose(a, b, atol=1e-5)
