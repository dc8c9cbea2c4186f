"""SpeechSplit and the emotion classifier of notebook 05: bottleneck shapes, masks, swaps, a tiny overfit, saving.

The recipe's data (random resampling in the batches, the emotion judge on the smoke
corpus) is tested in ``tests/test_emotion_cloning.py``; the kill -9 resume in
``tests/test_train_run.py``.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.errors import ParameterError
from voicelab.models.emotion import EmotionConfig, build_emotion_classifier, classify
from voicelab.models.layers import code_lengths
from voicelab.models.speechsplit import (
    SpeechSplitConfig,
    build_speechsplit,
    codes_of,
    decode_codes,
    split_and_swap,
)

pytestmark = pytest.mark.backend

TINY = SpeechSplitConfig(embedding_dim=6, rhythm_dim=1, content_dim=4, pitch_dim=3, rhythm_rate=4, content_rate=2,
                         pitch_rate=8, encoder_channels=8, encoder_blocks=1, decoder_channels=8, voice_dim=4)


def batch(rng, lengths=(21, 13)):
    t = max(lengths)
    mel = rng.normal(-5.0, 2.0, (len(lengths), t, 80)).astype("float32")
    return {"mel": mel, "content_mel": mel[:, ::-1].copy(), "mel_length": np.array(lengths, "int32"),
            "pitch": rng.integers(0, 257, (len(lengths), t)).astype("int32"),
            "embedding": rng.standard_normal((len(lengths), 6)).astype("float32")}


def test_each_code_has_its_own_width_and_rate(rng, one_torch_thread):
    model = build_speechsplit(TINY)
    b = batch(rng)
    out = model(b)
    assert tuple(out["mel"].shape) == b["mel"].shape
    for code, dim, rate in (("rhythm", 1, 4), ("content", 4, 2), ("pitch", 3, 8)):
        assert tuple(out[code].shape) == (2, -(-21 // rate), dim), code
    assert ops.convert_to_numpy(code_lengths(b["mel_length"], 4)).tolist() == [6, 4]
    assert TINY.numbers_per_second("content") == pytest.approx(4 * 62.5 / 2)


def test_padding_never_changes_a_real_output(rng, one_torch_thread):
    model = build_speechsplit(TINY)
    b = batch(rng, lengths=(16, 16))
    short = {k: v[:1] for k, v in b.items()}
    padded = {k: v[:1] for k, v in b.items()}
    for key, fill in (("mel", 3.0), ("content_mel", 3.0), ("pitch", 7)):
        extra = np.full((1, 8, *padded[key].shape[2:]), fill, padded[key].dtype)
        padded[key] = np.concatenate([padded[key], extra], axis=1)
    a, p = model(short), model(padded)
    np.testing.assert_allclose(ops.convert_to_numpy(p["mel"])[0, :16], ops.convert_to_numpy(a["mel"])[0], atol=1e-4)


def test_each_code_sees_only_its_own_input(rng, one_torch_thread):
    """The rhythm code reads the mel, the content code the resampled mel, the pitch code the pitch."""
    model = build_speechsplit(TINY)
    b = batch(rng)
    base = {k: ops.convert_to_numpy(v) for k, v in model.encode(b).items()}
    changes = {"mel": "rhythm", "content_mel": "content", "pitch": "pitch"}
    for key, code in changes.items():
        changed = dict(b)
        changed[key] = b[key][:, ::-1].copy()
        after = {k: ops.convert_to_numpy(v) for k, v in model.encode(changed).items()}
        for other in base:
            moved = np.abs(after[other] - base[other]).max() > 1e-5
            assert moved == (other == code), (key, other)


def test_swaps_follow_the_rhythm_utterances_length_and_the_voice_matters(rng, one_torch_thread):
    model = build_speechsplit(TINY)
    mel = rng.normal(-5.0, 2.0, (30, 80)).astype("float32")
    pitch = rng.integers(0, 257, 30)
    e = rng.standard_normal(6).astype("float32")
    out = split_and_swap(model, content_mel=mel, rhythm_mel=mel[:20], pitch=pitch, embedding=e)
    assert out.shape == (20, 80)
    other = split_and_swap(model, content_mel=mel, rhythm_mel=mel[:20], pitch=pitch, embedding=-e)
    assert np.abs(out - other).max() > 1e-4
    same = split_and_swap(model, content_mel=mel, rhythm_mel=mel[:20], pitch=pitch, embedding=5 * e)
    np.testing.assert_allclose(out, same, atol=1e-5)       # the voice is unit-normalised
    assert {k: v.shape for k, v in codes_of(model, mel, pitch).items()} == \
        {"rhythm": (8, 1), "content": (15, 4), "pitch": (4, 3)}


def test_decoding_an_utterances_own_codes_is_its_reconstruction(rng, one_torch_thread):
    model = build_speechsplit(TINY)
    mel = rng.normal(-5.0, 2.0, (30, 80)).astype("float32")
    pitch, e = rng.integers(0, 257, 30), rng.standard_normal(6).astype("float32")
    for n in (30, 23, 30):      # the compiled decoder serves every length, and the first again
        codes = codes_of(model, mel[:n], pitch[:n])
        np.testing.assert_allclose(decode_codes(model, codes, embedding=e, n_frames=n),
                                   split_and_swap(model, content_mel=mel[:n], rhythm_mel=mel[:n], pitch=pitch[:n],
                                                  embedding=e), atol=1e-4)
    with pytest.raises(ParameterError, match=r"codes\['pitch'\] must be finite \[4, 3\]"):
        decode_codes(model, dict(codes, pitch=codes["pitch"][:3]), embedding=e, n_frames=30)


def test_bad_inputs_name_the_problem(rng, one_torch_thread):
    model = build_speechsplit(TINY)
    mel, pitch, e = np.zeros((10, 80), "float32"), np.zeros(10, "int64"), np.ones(6, "float32")
    with pytest.raises(ParameterError, match="rhythm_mel"):
        split_and_swap(model, content_mel=mel, rhythm_mel=np.zeros((10, 40)), pitch=pitch, embedding=e)
    with pytest.raises(ParameterError, match="pitch"):
        split_and_swap(model, content_mel=mel, rhythm_mel=mel, pitch=np.full(10, 300), embedding=e)
    with pytest.raises(ParameterError, match="embedding"):
        split_and_swap(model, content_mel=mel, rhythm_mel=mel, pitch=pitch, embedding=np.zeros(6))
    for bad in ({"content_dim": 0}, {"decoder_channels": 7}, {"pitch_rate": 1.5}, {"mel_std": 0.0}):
        with pytest.raises(ParameterError):
            SpeechSplitConfig(**bad)


def test_tiny_model_overfits_one_batch(rng, one_torch_thread):
    """Two utterances with a structure (a band moving up and down) are learned to a small loss."""
    keras.utils.set_random_seed(0)
    t = np.arange(32)
    mel = np.full((2, 32, 80), -8.0, "float32")
    for row, period in enumerate((8, 12)):
        band = (40 + 30 * np.sin(2 * np.pi * t / period)).astype(int)
        mel[row, t, band] = 0.0
    b = {"mel": mel, "content_mel": mel, "mel_length": np.array([32, 32], "int32"),
         "pitch": np.tile((t % 5)[None], (2, 1)).astype("int32"),
         "embedding": np.eye(2, 6, dtype="float32")}
    config = dataclasses.replace(TINY, encoder_channels=32, decoder_channels=32, content_dim=8,
                                 mel_mean=float(mel.mean()), mel_std=float(mel.std()))
    model = build_speechsplit(config, learning_rate=3e-3)

    class One(keras.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return b

    history = model.fit(One(), epochs=150, verbose=0).history
    assert history["mel_loss"][-1] < 0.3 * history["mel_loss"][0], history["mel_loss"][::30]


def test_speechsplit_saves_and_loads(rng, tmp_path, one_torch_thread):
    model = build_speechsplit(TINY)
    mel, pitch, e = rng.normal(-5.0, 2.0, (12, 80)).astype("float32"), rng.integers(0, 257, 12), np.ones(6)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(split_and_swap(loaded, content_mel=mel, rhythm_mel=mel, pitch=pitch, embedding=e),
                               split_and_swap(model, content_mel=mel, rhythm_mel=mel, pitch=pitch, embedding=e),
                               atol=1e-5)


def test_emotion_classifier_learns_a_loudness_cue_and_saves(rng, tmp_path, one_torch_thread):
    """Two "emotions" that differ only in level and liveliness are told apart after a short fit."""
    keras.utils.set_random_seed(0)
    n, t = 16, 24
    labels = np.arange(n) % 2
    mel = rng.normal(-6.0, 1.0, (n, t, 80)).astype("float32")
    mel[labels == 1] = mel[labels == 1] * 2.0 + 3.0
    lengths = rng.integers(12, t + 1, n).astype("int32")
    b = {"mel": mel, "mel_length": lengths, "emotion": labels.astype("int32")}
    model = build_emotion_classifier(EmotionConfig(emotions=("calm", "loud"), channels=16, n_convs=2,
                                                   mel_mean=-5.0, mel_std=2.0), learning_rate=3e-3)
    history = model.fit(b, epochs=40, batch_size=8, verbose=0).history
    assert history["accuracy"][-1] == 1.0, history["accuracy"][::10]
    mels = [mel[i, :lengths[i]] for i in range(n)]
    assert (classify(model, mels).argmax(1) == labels).all()
    model.save(tmp_path / "judge.keras")
    loaded = keras.models.load_model(tmp_path / "judge.keras")
    np.testing.assert_allclose(classify(loaded, mels[:3]), classify(model, mels[:3]), atol=1e-5)
    with pytest.raises(ParameterError, match=r"mels\[1\]"):
        classify(model, [mels[0], np.zeros((5, 40))])
    with pytest.raises(ParameterError):
        EmotionConfig(emotions=("only",))


def test_the_envelope_keeps_the_formants_and_drops_the_harmonics():
    from voicelab.models.speechsplit import envelope_projection

    bins = np.arange(80)
    formants = -5.0 + 2.0 * np.exp(-((bins - 20) / 8.0) ** 2) + np.exp(-((bins - 50) / 10.0) ** 2)
    stripes = np.cos(2 * np.pi * bins / 4.0)                # harmonics every 4 bands
    P = envelope_projection(80, 16)
    np.testing.assert_allclose(P @ P, P, atol=1e-5)         # a projection
    assert np.abs(formants @ P - formants).max() < 0.01
    rms = lambda x: float(np.sqrt(np.mean(np.square(x))))
    assert rms(stripes @ P) < 0.1 * rms(stripes)


def test_the_envelope_content_encoder_hardly_sees_the_harmonics(rng, one_torch_thread):
    """Stripes across the mel bands (harmonics) hardly move what the envelope content encoder reads,
    and what it reads is what it encodes."""
    model = build_speechsplit(dataclasses.replace(TINY, content_input="envelope"))
    plain = build_speechsplit(TINY)
    plain.set_weights(model.get_weights())            # the same network, reading the raw mel
    b = batch(rng)
    striped = dict(b, content_mel=b["content_mel"] + 0.5 * np.cos(np.pi * np.arange(80) / 2).astype("float32"))

    def change(m, what):
        return float(np.abs(ops.convert_to_numpy(what(m, striped) - what(m, b))).mean())

    read = lambda m, x: m.encoder_inputs(x)["content"]
    assert change(model, read) < 0.1 * change(plain, read), (change(model, read), change(plain, read))
    code = lambda m, x: m.encode(x)["content"]
    assert 0 < change(model, code) < change(plain, code)
    with pytest.raises(ParameterError):
        SpeechSplitConfig(content_input="cepstrum")


def test_the_centred_content_encoder_reads_no_level_or_tilt(rng, one_torch_thread):
    """A louder, brighter rendition (a constant added per band) reads the same through the centred input."""
    model = build_speechsplit(dataclasses.replace(TINY, content_input="centred"))
    b = batch(rng)
    tilt = (3.0 + 0.02 * np.arange(80)).astype("float32")
    louder = dict(b, content_mel=b["content_mel"] + tilt)
    read = lambda x: ops.convert_to_numpy(model.encoder_inputs(x)["content"])
    np.testing.assert_allclose(read(louder), read(b), atol=1e-4)
    short = read(b)[1, 13:]                                   # padding stays at zero
    assert not short.any()
    plain = build_speechsplit(TINY)
    assert np.abs(ops.convert_to_numpy(plain.encoder_inputs(louder)["content"] - plain.encoder_inputs(b)["content"])).min() > 0.5
