"""End-to-end synthesis: text checks before the model, audio length, voices, the widget's compute, loading."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from voicelab import synthesis
from voicelab.dsp.features import AudioConfig
from voicelab.errors import ParameterError
from voicelab.models.tts import TTSConfig, build_tts
from voicelab.ui import tts_widget

pytestmark = pytest.mark.backend

AUDIO = AudioConfig(n_fft=128, win_length=128, hop_length=32, n_mels=16, fmax=None)
TINY = dict(n_speakers=2, embed_dim=8, encoder_filters=8, encoder_units=4, voice_dim=4,
            reference_filters=8, reference_units=4, duration_filters=8, decoder_filters=8,
            decoder_units=4, postnet_filters=8, dropout=0.0)
SPEAKERS = ["ann", "bob"]
SENTENCES = ["Please call Stella and ask her to bring these things with her from the store.",
             "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.",
             "We also need a small plastic snake and a big toy frog for the kids.",
             "She can scoop these things into three red bags, and we will go meet her Wednesday at the train station.",
             "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.",
             "The rainbow is a division of white light into many beautiful colors."]
PARAGRAPH = " ".join(SENTENCES)  # longer than voicelab.text.MAX_TEXT_CHARS


@pytest.fixture(scope="module", params=["speaker", "reference"])
def model(request):
    keras.utils.set_random_seed(0)
    m = build_tts(TTSConfig(voice=request.param, **TINY), AUDIO)
    bias = m.duration_predictor.out.bias   # untrained: ~0 frames per symbol; make it ~3
    bias.assign(keras.ops.convert_to_numpy(bias) + np.log1p(3.0))
    return m


def voice_of(model, rng):
    if model.config.voice == "speaker":
        return "bob"
    return (0.1 * rng.standard_normal(AUDIO.sr // 2)).astype("float32")


class Exploding:
    """A stand-in model that fails the test if anything reaches it."""

    def __init__(self, model):
        self.config, self.audio_config = model.config, model.audio_config

    def infer(self, *args, **kwargs):
        raise AssertionError("the model ran on text that should have been refused")


@pytest.mark.parametrize("bad, match", [("", "empty"), ("   ", "empty"), ("!!! ...", "no word"),
                                        ("Привет мир", "not Latin"), (42, "must be a str"),
                                        (PARAGRAPH + " Привет мир.", "not Latin")])  # in any sentence
def test_bad_text_raises_before_the_model(model, rng, bad, match):
    with pytest.raises(ParameterError, match=match):
        synthesis.synthesize(Exploding(model), bad, voice=voice_of(model, rng), config=AUDIO,
                             speakers=SPEAKERS, n_iter=2)


@pytest.mark.parametrize("pause", [-0.1, float("nan"), 11, "0.3", True])
def test_bad_pause_raises_before_the_model(model, rng, pause):
    with pytest.raises(ParameterError, match=r"pause=.* must be a number of seconds in \[0, 10\]"):
        synthesis.synthesize(Exploding(model), "Hi.", voice=voice_of(model, rng), config=AUDIO,
                             speakers=SPEAKERS, pause=pause)


def test_a_paragraph_is_its_sentences_spoken_alone_with_pauses_between(model, rng):
    voice = voice_of(model, rng)
    assert len(PARAGRAPH) > synthesis.text.MAX_TEXT_CHARS
    y, mel, durations = synthesis.synthesize(model, PARAGRAPH, voice=voice, config=AUDIO, speakers=SPEAKERS,
                                             n_iter=2, pause=0.25)
    alone = [synthesis.synthesize(model, s, voice=voice, config=AUDIO, speakers=SPEAKERS, n_iter=2)
             for s in SENTENCES]
    silence = np.zeros(round(0.25 * AUDIO.sr / AUDIO.hop_length) * AUDIO.hop_length, np.float32)
    np.testing.assert_allclose(y, np.concatenate([part for a in alone for part in (a[0], silence)][:-1]),
                               atol=1e-5)
    assert y.dtype == np.float32 and np.isfinite(y).all()
    assert mel.shape == (len(y) // AUDIO.hop_length, AUDIO.n_mels) and np.isfinite(mel).all()
    assert durations.sum() == len(mel) and len(durations) == sum(len(a[2]) for a in alone)


def test_short_text_is_one_pass_and_long_text_one_vocoder_call_a_piece(model, rng):
    calls = []

    def vocoder(mel):
        calls.append(len(mel))
        return np.ones(len(mel) * AUDIO.hop_length, np.float32)

    kwargs = dict(voice=voice_of(model, rng), config=AUDIO, speakers=SPEAKERS, vocoder=vocoder)
    synthesis.synthesize(model, "Hello there. How are you?", **kwargs)
    assert len(calls) == 1  # short text: as before, however many sentences
    calls.clear()
    y, mel, _ = synthesis.synthesize(model, PARAGRAPH, pause=0, **kwargs)
    assert len(calls) == len(SENTENCES) and len(mel) == sum(calls) and (y == 1).all()
    calls.clear()
    clauses = "and one more thing, " * 40  # 800 characters and no full stop: cut at its commas
    y, mel, durations = synthesis.synthesize(model, clauses, **kwargs)
    assert len(calls) == 2 and len(y) == len(mel) * AUDIO.hop_length and durations.sum() == len(mel)


def test_audio_is_finite_and_frames_times_hop_long(model, rng):
    y, mel, durations = synthesis.synthesize(model, "Call Anna at 5 pm.", voice=voice_of(model, rng),
                                             config=AUDIO, speakers=SPEAKERS, n_iter=4)
    ids = synthesis.text.text_to_ids("Call Anna at 5 pm.")
    assert durations.shape == ids.shape and durations.min() >= 1
    assert mel.shape == (durations.sum(), AUDIO.n_mels)
    assert y.dtype == np.float32 and y.shape == (len(mel) * AUDIO.hop_length,)
    assert np.isfinite(y).all() and np.abs(y).max() > 0


@pytest.mark.parametrize("extra", [7, -5])
def test_a_vocoder_replaces_griffin_lim_and_is_fitted_to_the_mel(model, rng, extra):
    seen = []

    def vocoder(mel):
        seen.append(mel)
        return np.ones(len(mel) * AUDIO.hop_length + extra, np.float32)

    y, mel, _ = synthesis.synthesize(model, "Hello there.", voice=voice_of(model, rng), config=AUDIO,
                                     speakers=SPEAKERS, vocoder=vocoder)
    assert len(seen) == 1 and np.array_equal(seen[0], mel)
    assert y.shape == (len(mel) * AUDIO.hop_length,)
    kept = len(y) + min(extra, 0)           # a short vocoder output is padded with silence
    assert (y[:kept] == 1).all() and not y[kept:].any()


def test_speed_changes_the_length(model, rng):
    voice = voice_of(model, rng)
    slow, _, _ = synthesis.synthesize(model, "Hello there.", voice=voice, config=AUDIO,
                                      speakers=SPEAKERS, speed=0.5, n_iter=2)
    fast, _, _ = synthesis.synthesize(model, "Hello there.", voice=voice, config=AUDIO,
                                      speakers=SPEAKERS, speed=2.0, n_iter=2)
    assert len(fast) < len(slow)


def test_speaker_name_and_id_are_the_same_voice(model, rng):
    if model.config.voice != "speaker":
        pytest.skip("speaker-embedding model only")
    _, by_name, _ = synthesis.synthesize(model, "Hello.", voice="bob", config=AUDIO, speakers=SPEAKERS, n_iter=1)
    _, by_id, _ = synthesis.synthesize(model, "Hello.", voice=1, config=AUDIO, n_iter=1)
    np.testing.assert_allclose(by_name, by_id, atol=1e-6)


def test_reference_clip_from_a_file(model, rng, tmp_path):
    if model.config.voice != "reference":
        pytest.skip("reference-encoder model only")
    from voicelab.dsp import audio

    clip = voice_of(model, rng)
    path = audio.save(tmp_path / "ref.wav", clip, sr=AUDIO.sr)
    _, from_file, _ = synthesis.synthesize(model, "Hello.", voice=path, config=AUDIO, n_iter=1)
    _, from_array, _ = synthesis.synthesize(model, "Hello.", voice=clip, config=AUDIO, n_iter=1)
    np.testing.assert_allclose(from_file, from_array, atol=1e-3)


def test_bad_voices_and_config(model, rng):
    if model.config.voice == "speaker":
        with pytest.raises(ParameterError, match="'carl' is not one of speakers"):
            synthesis.synthesize(model, "Hi.", voice="carl", config=AUDIO, speakers=SPEAKERS)
        with pytest.raises(ParameterError, match=r"voice=2 must be in \[0, 2\)"):
            synthesis.synthesize(model, "Hi.", voice=2, config=AUDIO)
    else:
        with pytest.raises(ParameterError, match="no audio file"):
            synthesis.synthesize(model, "Hi.", voice="no/such.wav", config=AUDIO)
        with pytest.raises(ParameterError, match="no speaker ids"):
            synthesis.synthesize(model, "Hi.", voice=1, config=AUDIO)
    with pytest.raises(ParameterError, match="not the model's audio_config"):
        synthesis.synthesize(model, "Hi.", voice=voice_of(model, rng), speakers=SPEAKERS)


def test_synthesis_view_is_what_the_widget_shows(model, rng):
    import matplotlib

    matplotlib.use("Agg")
    voices = {"mine": voice_of(model, rng)}
    view = tts_widget.synthesis_view(model, "Set a timer.", "mine", voices=voices, config=AUDIO,
                                    speakers=SPEAKERS, n_iter=2)
    assert len(view.phonemes) == len(view.durations)
    assert len(view.audio) == view.durations.sum() * AUDIO.hop_length
    fig = view.figure()
    bars = next(ax for ax in fig.axes if "duration" in ax.get_title())
    assert [t.get_text() for t in bars.get_xticklabels()] == view.phonemes
    assert [p.get_height() for p in bars.patches] == view.durations.tolist()
    with pytest.raises(ParameterError, match="'other' is not one of"):
        tts_widget.synthesis_view(model, "Hi.", "other", voices=voices, config=AUDIO)
    with pytest.raises(ParameterError, match="trained without an emotion input"):
        tts_widget.synthesis_view(model, "Hi.", "mine", voices=voices, config=AUDIO, speakers=SPEAKERS,
                                  emotion="happy", emotions=["happy"])


def test_emotion_prosody_needs_an_emotion_model(model, smoke_corpus):
    from voicelab.evaluation.tts import emotion_prosody, emotion_shifts

    with pytest.raises(ParameterError, match="emotion input"):
        emotion_prosody(model, smoke_corpus[:1], speakers=SPEAKERS, emotions=["neutral"], config=AUDIO)
    with pytest.raises(ParameterError, match="no 'neutral' clips"):
        emotion_shifts([{"speaker": "a", "sentence_id": 1, "source": "tts", "emotion": "sad", "f0": 1.0,
                         "duration": 1.0}])


def test_load_tts_in_a_fresh_process_and_its_errors(model, tmp_path):
    import json
    import subprocess
    import sys

    from voicelab.artifacts import MissingArtifact, load_tts
    from voicelab.train.run import _modules

    folder = tmp_path / "models" / f"tts-{model.config.voice}-smoke"
    with pytest.raises(MissingArtifact, match="no TTS model .* run notebook 02 \\(make run ONLY=02 PROFILE=smoke\\)"):
        load_tts("smoke", model.config.voice, data_dir=tmp_path)
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    (folder / "run.json").write_text(json.dumps({"config": {"speakers": SPEAKERS}, "modules": _modules(model)}))
    # a new interpreter, as notebook 03 or a script would load it: nothing imported beforehand
    code = ("from voicelab.artifacts import load_tts; m, speakers, run = load_tts('smoke', %r, data_dir=r'%s'); "
            "print(type(m).__name__, speakers, run.loaded)" % (model.config.voice, tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == f"TTSModel {SPEAKERS} True"
