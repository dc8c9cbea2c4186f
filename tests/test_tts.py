"""The CNN + BiLSTM TTS model: blocks, masking, length regulator, training, saving.

Tiny sizes and synthetic data; run under both backends (``KERAS_BACKEND=tensorflow``
and ``KERAS_BACKEND=torch``, see the Makefile's ``test`` target).
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import pytest
from keras import ops

from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.layers import BiLSTM, reverse_sequences
from voicelab.models.losses import duration_loss, masked_mel_loss
from voicelab.models.tts import (
    Decoder,
    DurationPredictor,
    ReferenceEncoder,
    TextEncoder,
    TTSConfig,
    build_tts,
    fold_frames,
    length_regulate,
    symbol_positions,
    unfold_frames,
    synthesize_mel,
    warm_start,
)

pytestmark = [pytest.mark.backend, pytest.mark.usefixtures("one_torch_thread")]



V, N_MELS, N_SPEAKERS = 10, 8, 3
AUDIO = AudioConfig(n_fft=64, win_length=64, hop_length=16, n_mels=N_MELS, fmax=None)
TINY = {"vocab_size": V, "n_speakers": N_SPEAKERS, "embed_dim": 16, "encoder_filters": 16, "encoder_units": 8,
            "voice_dim": 8, "reference_filters": 16, "reference_units": 8, "duration_filters": 16,
            "decoder_filters": 16, "decoder_units": 16, "postnet_filters": 16, "dropout": 0.0}


def numpy(x):
    return ops.convert_to_numpy(x)


def make_batch(rng, lengths, *, max_duration=4, frames=None):
    """A padded dict batch whose mel is a function of (symbol, speaker, frame-in-symbol)."""
    table = np.random.default_rng(7).normal(size=(V, N_MELS)).astype("float32")
    voices = np.random.default_rng(8).normal(size=(N_SPEAKERS, N_MELS)).astype("float32")
    B, L = len(lengths), max(lengths)
    tokens = np.zeros((B, L), "int32")
    durations = np.zeros((B, L), "int32")
    speaker = rng.integers(0, N_SPEAKERS, B).astype("int32")
    for b, n in enumerate(lengths):
        tokens[b, :n] = rng.integers(1, V, n)
        durations[b, :n] = rng.integers(1, max_duration + 1, n)
    mel_length = durations.sum(1).astype("int32")
    mel = np.full((B, frames or mel_length.max(), N_MELS), np.log(1e-5), "float32")  # pipeline's pad
    for b in range(B):
        rows = np.repeat(table[tokens[b]], durations[b], axis=0)
        ramp = np.concatenate([np.linspace(0, 1, d) for d in durations[b] if d])[:, None]
        mel[b, :mel_length[b]] = -5 + rows + 0.5 * ramp + voices[speaker[b]]
    return {"tokens": tokens, "token_length": np.array(lengths, "int32"), "durations": durations,
            "mel": mel, "mel_length": mel_length, "speaker": speaker}


def item(batch, b):
    """Item ``b`` of a batch, alone and cut to its own lengths (no padding)."""
    n, f = batch["token_length"][b], batch["mel_length"][b]
    return {"tokens": batch["tokens"][b:b + 1, :n], "token_length": batch["token_length"][b:b + 1],
            "durations": batch["durations"][b:b + 1, :n], "mel": batch["mel"][b:b + 1, :f],
            "mel_length": batch["mel_length"][b:b + 1], "speaker": batch["speaker"][b:b + 1]}


@pytest.fixture(scope="module", params=["speaker", "reference"])
def model(request):
    keras.utils.set_random_seed(0)
    return build_tts(TTSConfig(voice=request.param, **TINY), AUDIO)


# ----------------------------------------------------------------- config and blocks
def test_config_defaults_and_errors():
    from voicelab.text import SYMBOLS

    assert TTSConfig().vocab_size == len(SYMBOLS)
    with pytest.raises(ParameterError, match="voice='robot'"):
        TTSConfig(voice="robot")
    with pytest.raises(ParameterError, match="n_speakers=0"):
        TTSConfig(n_speakers=0)
    with pytest.raises(ParameterError, match="dropout=1.0"):
        TTSConfig(dropout=1.0)
    with pytest.raises(ParameterError, match="mel_loss='l3'"):
        TTSConfig(mel_loss="l3")
    with pytest.raises(ParameterError, match="AudioConfig"):
        build_tts(TTSConfig(**TINY), {"n_mels": 8})


def test_every_int_field_is_checked_whatever_the_annotations():
    for name in ("n_speakers", "decoder_blocks", "decoder_reduction"):
        with pytest.raises(ParameterError, match=f"{name}=0 must be a positive integer"):
            TTSConfig(**{name: 0})
    with pytest.raises(ParameterError, match="encoder_units=True"):
        TTSConfig(encoder_units=True)
    # make_dataclass annotates with the type itself, not the string "int"
    extended = dataclasses.make_dataclass("ExtendedConfig", [("extra_blocks", int, 2)], bases=(TTSConfig,),
                                          frozen=True)
    assert extended().extra_blocks == 2
    with pytest.raises(ParameterError, match="extra_blocks=0 must be a positive integer"):
        extended(extra_blocks=0)


def test_length_regulate_matches_numpy_repeat(rng):
    B, L, C = 3, 5, 4
    x = rng.normal(size=(B, L, C)).astype("float32")
    durations = rng.integers(0, 4, (B, L)).astype("int32")
    durations[2, 3:] = 0  # padding
    n_frames = int(durations.sum(1).max()) + 2  # longer than any item: zero rows after
    frames, alignment = length_regulate(x, durations, n_frames)
    frames, alignment = numpy(frames), numpy(alignment)
    assert frames.shape == (B, n_frames, C) and alignment.shape == (B, n_frames, L)
    for b in range(B):
        expected = np.repeat(x[b], durations[b], axis=0)
        np.testing.assert_allclose(frames[b, :len(expected)], expected, rtol=1e-6)
        assert not frames[b, len(expected):].any()
        np.testing.assert_array_equal(alignment[b].sum(0), durations[b])


def test_reverse_sequences_within_length():
    x = np.arange(2 * 4, dtype="float32").reshape(2, 4, 1)
    out = numpy(reverse_sequences(x, np.array([4, 2])))[..., 0]
    assert out.tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]


def test_block_shapes(rng):
    batch = make_batch(rng, [5, 3])
    B, L = batch["tokens"].shape
    F = batch["mel"].shape[1]
    h = TextEncoder(V, 16, 16, 5, units=8)(batch["tokens"], batch["token_length"])
    assert tuple(h.shape) == (B, L, 16)
    assert tuple(BiLSTM(6)(numpy(h), batch["token_length"]).shape) == (B, L, 12)
    voice = ReferenceEncoder(16, 8, voice_dim=4)(batch["mel"], batch["mel_length"])
    assert tuple(voice.shape) == (B, 4) and np.abs(numpy(voice)).max() <= 1  # tanh
    mask = (batch["tokens"] > 0).astype("float32")
    assert tuple(DurationPredictor(16, 3)(numpy(h), mask).shape) == (B, L)
    frames, _ = length_regulate(h, batch["durations"], F)
    before, after = Decoder(N_MELS, 16, 5, 8, postnet=True, postnet_filters=16)(frames, batch["mel_length"])
    assert tuple(before.shape) == tuple(after.shape) == (B, F, N_MELS)
    conv_only = Decoder(N_MELS, 16, 5, 8, postnet_filters=16, blocks=5, lstm=False)
    before, after = conv_only(frames, batch["mel_length"])
    assert tuple(before.shape) == tuple(after.shape) == (B, F, N_MELS)
    assert conv_only.lstm is None and len(conv_only.convs) == 5
    assert not any("lstm" in w.path for w in conv_only.weights)


def test_model_outputs_and_loss_terms(model, rng):
    batch = make_batch(rng, [6, 4, 2])
    out = model(batch)
    B, L = batch["tokens"].shape
    F = batch["mel"].shape[1]
    assert tuple(out["mel"].shape) == tuple(out["mel_before_postnet"].shape) == (B, F, N_MELS)
    assert tuple(out["log_durations"].shape) == (B, L)
    loss = float(numpy(model.compute_loss(batch, None, out)))
    assert np.isfinite(loss) and loss > 0


def test_padding_does_not_change_real_outputs(model, rng):
    batch = make_batch(rng, [7, 2, 4])
    out = {k: numpy(v) for k, v in model(batch, training=False).items()}
    for b in range(3):
        alone = {k: numpy(v) for k, v in model(item(batch, b), training=False).items()}
        n, f = batch["token_length"][b], batch["mel_length"][b]
        np.testing.assert_allclose(out["mel"][b, :f], alone["mel"][0], atol=1e-5)
        np.testing.assert_allclose(out["log_durations"][b, :n], alone["log_durations"][0], atol=1e-5)
        assert not out["log_durations"][b, n:].any()


def test_losses_ignore_padding():
    true = np.zeros((2, 5, 3), "float32")
    pred = np.ones((2, 5, 3), "float32")
    pred[0, 2:] = 100.0  # padding of item 0 (length 2)
    # error 1 everywhere real: MSE 1 + MAE 1
    assert float(masked_mel_loss(true, pred, np.array([2, 5]))) == pytest.approx(2.0)
    durations = np.array([[3, 1, 0], [2, 2, 2]])
    pred_log = np.log1p(durations).astype("float32") + np.array([[1, 1, 50], [1, 1, 1]], "float32")
    assert float(duration_loss(durations, pred_log, np.array([2, 3]))) == pytest.approx(1.0)


# ----------------------------------------------------------------- training
@pytest.mark.parametrize("voice,mel_loss", [("speaker", "mse+mae"), ("reference", "mse+mae"), ("speaker", "mae")])
def test_overfits_one_batch(voice, mel_loss, rng):
    keras.utils.set_random_seed(1)
    model = build_tts(TTSConfig(voice=voice, mel_loss=mel_loss, **TINY), AUDIO, learning_rate=3e-3)
    batch = make_batch(rng, [6, 5, 3, 4])
    first = model.train_on_batch(batch, return_dict=True)
    for _ in range(60):
        last = model.train_on_batch(batch, return_dict=True)
    # the absolute error alone falls as the error does; with the square added it falls faster
    factor = 3 if mel_loss == "mae" else 5
    assert last["mel_loss"] < first["mel_loss"] / factor, (first, last)
    assert last["duration_loss"] < first["duration_loss"] / 5, (first, last)


def overfit_save_and_load(model, batch, path):
    """60 steps on ``batch`` cut the mel loss five times; the model saved to ``path`` loads with the same output."""
    first = model.train_on_batch(batch, return_dict=True)
    for _ in range(60):
        last = model.train_on_batch(batch, return_dict=True)
    assert last["mel_loss"] < first["mel_loss"] / 5, (first, last)
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(numpy(again(batch, training=False)["mel"]), numpy(model(batch, training=False)["mel"]),
                               atol=1e-5)
    return again


def test_a_convolution_only_decoder_overfits_saves_and_loads(rng, tmp_path):
    keras.utils.set_random_seed(1)
    model = build_tts(TTSConfig(**TINY, decoder_blocks=4, decoder_lstm=False), AUDIO, learning_rate=3e-3)
    again = overfit_save_and_load(model, make_batch(rng, [6, 5, 3, 4]), tmp_path / "conv.keras")
    assert again.config.decoder_lstm is False and again.config.decoder_blocks == 4


@pytest.mark.parametrize("n_frames", [6, 7, 8])
def test_folded_frames_unfold_to_the_same_frames(n_frames, rng):
    x = rng.normal(size=(2, n_frames, 3)).astype("float32")
    folded = numpy(fold_frames(x, 3))
    assert folded.shape == (2, -(-n_frames // 3), 9)
    np.testing.assert_array_equal(folded[:, 0, 3:6], x[:, 1])          # frame 1 is step 0's second
    np.testing.assert_array_equal(numpy(unfold_frames(folded, 3, n_frames)), x)


def test_symbol_positions_rise_through_each_symbol(rng):
    batch = make_batch(rng, [5, 3])
    _, alignment = length_regulate(np.ones((2, 5, 1), "float32"), batch["durations"], batch["mel"].shape[1])
    positions = numpy(symbol_positions(batch["durations"], alignment))[..., 0]
    for b in range(2):
        d = batch["durations"][b, :batch["token_length"][b]]
        expected = np.concatenate([(np.arange(n) + 0.5) / n for n in d])
        np.testing.assert_allclose(positions[b, :d.sum()], expected, rtol=1e-6)
        assert not positions[b, d.sum():].any()


@pytest.mark.parametrize("options", [{"decoder_reduction": 2}, {"decoder_reduction": 3, "symbol_position": True}])
def test_a_folding_decoder_ignores_padding_overfits_saves_and_loads(options, rng, tmp_path):
    keras.utils.set_random_seed(1)
    model = build_tts(TTSConfig(**TINY, **options), AUDIO, learning_rate=3e-3)
    batch = make_batch(rng, [6, 5, 3, 4])
    out = numpy(model(batch, training=False)["mel"])
    for b in range(4):   # odd and even lengths: a last step half real, half padding
        f = batch["mel_length"][b]
        np.testing.assert_allclose(out[b, :f], numpy(model(item(batch, b), training=False)["mel"])[0], atol=1e-5)
        np.testing.assert_array_equal(out[b, f:], model.config.mel_mean)   # zero before de-normalising
    again = overfit_save_and_load(model, batch, tmp_path / "folded.keras")
    assert again.config == model.config
    mel, durations = synthesize_mel(again, [2, 4, 6], speaker=1)
    assert mel.shape == (durations.sum(), N_MELS) and np.isfinite(mel).all()


# ----------------------------------------------------------------- warm start and schedules
def test_warm_start_copies_the_shared_parts_and_leaves_the_new_ones(rng):
    keras.utils.set_random_seed(2)
    source = build_tts(TTSConfig(**TINY), AUDIO)
    source.train_on_batch(make_batch(rng, [6, 5, 3]))   # weights no fresh model has
    keras.utils.set_random_seed(3)
    model = build_tts(TTSConfig(voice="reference", **TINY), AUDIO)
    fresh = [numpy(w).copy() for w in model.reference_encoder.weights]
    assert warm_start(model, source) == ["encoder", "duration_predictor", "decoder"]
    for part in ("encoder", "duration_predictor", "decoder"):
        for new, old in zip(getattr(model, part).weights, getattr(source, part).weights, strict=True):
            np.testing.assert_array_equal(numpy(new), numpy(old))
    for new, before in zip(model.reference_encoder.weights, fresh, strict=True):
        np.testing.assert_array_equal(numpy(new), before)


def test_a_warm_started_emotion_model_speaks_as_its_source_whatever_the_emotion(rng):
    """The layers that read the emotion get zeros for it: the source's output, until training moves them."""
    keras.utils.set_random_seed(2)
    source = build_tts(TTSConfig(**TINY), AUDIO)
    source.train_on_batch(make_batch(rng, [6, 5, 3]))
    model = build_tts(TTSConfig(**TINY, n_emotions=4), AUDIO)
    assert warm_start(model, source) == ["encoder", "speaker_embedding", "duration_predictor", "decoder"]
    mel, durations = synthesize_mel(source, [3, 5, 7, 2], speaker=1)
    for emotion in range(4):
        mel_e, durations_e = synthesize_mel(model, [3, 5, 7, 2], speaker=1, emotion=emotion)
        np.testing.assert_array_equal(durations_e, durations)
        np.testing.assert_allclose(mel_e, mel, atol=1e-5)
    model.train_on_batch({**make_batch(rng, [6, 5, 3]), "emotion": np.array([1, 2, 3], "int32")})
    moved = [synthesize_mel(model, [3, 5, 7, 2], speaker=1, emotion=e)[0] for e in (1, 2)]
    assert np.abs(moved[0] - moved[1]).max() > 1e-4   # trained, the emotion is heard


def test_warm_start_refuses_another_architecture():
    source = build_tts(TTSConfig(**TINY), AUDIO)
    with pytest.raises(ParameterError, match="decoder"):
        warm_start(build_tts(TTSConfig(**TINY, decoder_lstm=False), AUDIO), source)
    with pytest.raises(ParameterError, match="wider"):
        warm_start(build_tts(TTSConfig(**{**TINY, "decoder_units": 24}), AUDIO), source)
    with pytest.raises(ParameterError, match="two TTS models"):
        warm_start(source, object())


def test_a_cosine_schedule_trains_saves_and_loads(rng, tmp_path):
    keras.utils.set_random_seed(1)
    rate = keras.optimizers.schedules.CosineDecay(3e-3, 60, alpha=0.05)
    model = build_tts(TTSConfig(**TINY), AUDIO, learning_rate=rate)
    batch = make_batch(rng, [6, 5, 3, 4])
    first = model.train_on_batch(batch, return_dict=True)
    for _ in range(60):
        last = model.train_on_batch(batch, return_dict=True)
    assert last["mel_loss"] < first["mel_loss"] / 5, (first, last)
    assert float(numpy(model.optimizer.learning_rate)) == pytest.approx(3e-3 * 0.05, rel=1e-3)
    model.save(tmp_path / "cosine.keras")
    again = keras.models.load_model(tmp_path / "cosine.keras")
    np.testing.assert_allclose(numpy(again(batch, training=False)["mel"]), numpy(model(batch, training=False)["mel"]),
                               atol=1e-5)
    with pytest.raises(ParameterError, match="positive"):
        build_tts(TTSConfig(**TINY), AUDIO, learning_rate=0.0)


# ----------------------------------------------------------------- inference and saving
def test_synthesize_mel(model, rng):
    tokens = [3, 1, 4, 1, 5]
    kwargs = ({"speaker": 2} if model.config.voice == "speaker"
              else {"reference_mel": make_batch(rng, [4])["mel"][0]})
    bias = model.duration_predictor.out.bias
    saved = numpy(bias)
    bias.assign(saved + np.log1p(3.0))  # an untrained predictor says ~0 frames: make it ~3
    try:
        mel, durations = synthesize_mel(model, tokens, **kwargs)
        _, slow = synthesize_mel(model, tokens, speed=0.5, **kwargs)
        _, fast = synthesize_mel(model, tokens, speed=2.0, **kwargs)
    finally:
        bias.assign(saved)
    assert mel.shape == (durations.sum(), N_MELS) and durations.shape == (5,)
    assert durations.min() >= 1 and np.isfinite(mel).all()
    assert fast.sum() < durations.sum() < slow.sum()
    assert np.abs(slow - 2 * durations).max() <= 1 and np.abs(fast - durations / 2).max() <= 1
    with pytest.raises(ParameterError, match="0 is padding"):
        synthesize_mel(model, [3, 0, 4], **kwargs)
    with pytest.raises(ParameterError, match="speed=0"):
        synthesize_mel(model, tokens, speed=0, **kwargs)
    if model.config.voice == "speaker":
        with pytest.raises(ParameterError, match="3 speakers"):
            synthesize_mel(model, tokens)
        with pytest.raises(ParameterError, match="speaker=3"):
            synthesize_mel(model, tokens, speaker=3)
    else:
        with pytest.raises(ParameterError, match="reference_mel"):
            synthesize_mel(model, tokens, reference_mel=np.zeros((10, N_MELS + 1)))


def test_compiled_inference_equals_the_eager_model_at_every_length(model, rng):
    """``infer`` runs compiled (TensorFlow) and must give the eager encode/decode's mel exactly."""
    kwargs = ({"speaker": np.array([1], "int32")} if model.config.voice == "speaker"
              else {"reference_mel": make_batch(rng, [4])["mel"][:1], "reference_length": np.array([4], "int32")})
    for length in (3, 7, 12):            # new lengths must not need a new model or give stale graphs
        inputs = {"tokens": rng.integers(1, 10, (1, length)).astype("int32"),
                  "token_length": np.array([length], "int32"), **kwargs}
        mel, durations, _ = model.infer(inputs)
        h, mask, _ = model.encode(inputs, training=False)
        mel_length = ops.sum(durations, axis=1)
        _, eager, _ = model.decode(h, durations, mel_length, int(numpy(ops.max(mel_length))), training=False)
        np.testing.assert_allclose(numpy(mel), numpy(eager), atol=1e-5)


def test_inference_gives_the_same_bits_whatever_was_spoken_before(model, rng):
    """A dataset made by any number of workers is the same only if a sentence does not depend on the
    sentences its worker spoke before (notebook 06's kit-tts voices)."""
    kwargs = ({"speaker": np.array([1], "int32")} if model.config.voice == "speaker"
              else {"reference_mel": make_batch(rng, [4])["mel"][:1], "reference_length": np.array([4], "int32")})

    def say(length, seed):
        tokens = np.random.default_rng(seed).integers(1, 10, (1, length)).astype("int32")
        return numpy(model.infer({"tokens": tokens, "token_length": np.array([length], "int32"), **kwargs})[0])

    first = say(6, 0)
    for length in (2, 9, 15, 4, 23):
        say(length, length)
    assert np.array_equal(say(6, 0), first)


def test_save_load_round_trip(model, rng, tmp_path):
    path = tmp_path / f"tts_{model.config.voice}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.config == model.config and loaded.audio_config == model.audio_config
    batch = make_batch(rng, [5, 2])
    for key, value in model(batch).items():
        np.testing.assert_allclose(numpy(loaded(batch)[key]), numpy(value), atol=1e-6)
    kwargs = ({"speaker": 1} if model.config.voice == "speaker"
              else {"reference_mel": batch["mel"][0]})
    mel, durations = synthesize_mel(model, [2, 4, 6], **kwargs)
    mel2, durations2 = synthesize_mel(loaded, [2, 4, 6], **kwargs)
    np.testing.assert_array_equal(durations, durations2)
    np.testing.assert_allclose(mel, mel2, atol=1e-6)


def test_backend_is_the_one_requested():
    # `make test` sets KERAS_BACKEND for each pass; unset, Keras's default is TensorFlow
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")
