"""Notebook 02's recipe: variants, data preparation, and a smoke training of the emotion + variance model."""

from __future__ import annotations

import dataclasses
import warnings

import keras
import numpy as np
import pytest

from voicelab.data import read_build_info
from voicelab.errors import ParameterError
from voicelab.recipes import tts


def test_profiles_variants_and_run_names():
    quick = tts.recipe("quick")
    assert quick.variant("speaker") == "" and quick.run_name("speaker") == "tts-speaker-quick"
    both = tts.recipe("quick", emotions=True, variance=True)
    assert both.variant("speaker") == "emotions-variance"
    assert both.run_name("aligner") == "aligner-quick-emotions"      # the variance adaptor makes no aligner
    config = both.tts_config("speaker", n_speakers=4, mel_mean=-5.0, mel_std=2.0, n_emotions=4)
    assert config.n_emotions == 4 and config.variance
    assert quick.tts_config("speaker", n_speakers=4, mel_mean=-5.0, mel_std=2.0, n_emotions=4).n_emotions == 1
    with pytest.raises(ParameterError, match="profile='slow'"):
        tts.recipe("slow")
    with pytest.raises(ParameterError, match="TTSRecipe has no field 'tts_epoch'"):
        tts.recipe("quick", tts_epoch=3)
    seeded = dataclasses.replace(both, seed=2)
    assert seeded.run_name("aligner") == "aligner-quick-emotions-seed2"
    assert tts.recipe("quick", seed=2).run_name("reference") == "tts-reference-quick-seed2"
    # what only scores a model never renames (or retrains) it
    assert tts.recipe("quick", n_eval=30, gl_iters=8).run_name("speaker") == "tts-speaker-quick"
    assert tts.recipe("quick", reference_epochs=3).run_name("speaker") == "tts-speaker-quick"
    assert tts.recipe("quick", reference_epochs=3).run_name("reference") == "tts-reference-quick-re3"


def test_another_seed_has_its_own_corpus_next_to_the_kits(smoke_corpus, data_dir):
    """A sweep over notebook 02's SEED: seed 1 builds its corpus instead of refusing seed 0's."""
    data = tts.prepare(dataclasses.replace(tts.recipe("smoke"), seed=1), data_dir=data_dir)
    assert data.corpus.root == data_dir / "corpus-smoke-seed1"
    assert smoke_corpus.root == data_dir / "corpus-smoke"
    assert read_build_info(data.corpus.root)["params"]["seed"] == 1
    assert {u.text for u in data.test} != {u.text for u in smoke_corpus.filter(split="test")}


@pytest.mark.backend
def test_emotion_variance_variant_trains_and_speaks_every_emotion(smoke_corpus, data_dir, tmp_path):
    r = dataclasses.replace(tts.recipe("smoke"), emotions=True, variance=True, align_epochs=1, tts_epochs=1)
    data = tts.prepare(r, data_dir=data_dir)
    assert data.emotions == ["angry", "happy", "neutral", "sad"]
    assert len(data.train) == 4 * len(data.train.filter(emotion="neutral"))
    assert set(data.test.emotions) == {"neutral"}
    assert 80 < np.exp(data.pitch_mean) < 250 and 0.05 < data.pitch_std < 1.0   # flite voices, in Hz
    keras.utils.set_random_seed(0)
    aligner = tts.train_or_load_aligner(r, data, models_dir=tmp_path, verbose=0)
    run = tts.train_or_load_tts(r, data, "speaker", durations=tts.durations(aligner.model, data),
                                models_dir=tmp_path, verbose=0)
    assert {"pitch_loss", "energy_loss"} <= set(run.history["epochs"])
    assert run.info["config"]["emotions"] == data.emotions
    lengths = {}
    for emotion in data.emotions:
        from voicelab import synthesis

        y, mel, _ = synthesis.synthesize(run.model, "Set a timer.", voice=data.speakers[0], config=r.audio,
                                         speakers=data.speakers, emotion=emotion, emotions=data.emotions, n_iter=2)
        assert np.isfinite(y).all()
        lengths[emotion] = mel
    assert len({m.tobytes() for m in lengths.values()}) == 4

    # section 7 of notebook 02: each emotion's f0 and duration against the same sentence in neutral
    from voicelab.evaluation.tts import emotion_prosody, emotion_shifts
    from voicelab.ui import tts_widget

    sentence = data.test[0].sentence_id
    clips = data.corpus.filter(split="test", speaker=data.speakers[0]).filter(sentence_id=[sentence])
    rows = emotion_prosody(run.model, clips, speakers=data.speakers, emotions=data.emotions, config=r.audio, n_iter=2)
    assert len(rows) == 2 * 4 and {row["source"] for row in rows} == {"tts", "recording"}
    shifts = {row["emotion"]: row for row in emotion_shifts(rows)}
    assert sorted(shifts) == ["angry", "happy", "sad"]
    # the corpus's styles (voicelab.data.emotion.STYLES): happy x1.25 f0, sad x0.85 and 15 % slower
    assert shifts["happy"]["f0_recording"] > 2 and shifts["sad"]["f0_recording"] < -1
    assert shifts["sad"]["duration_recording"] > 1.05 > 0.97 > shifts["happy"]["duration_recording"]
    assert all(np.isfinite(row["duration_tts"]) for row in shifts.values())
    speaker = data.speakers[0]
    view = tts_widget.synthesis_view(run.model, "Set a timer.", speaker, voices={speaker: speaker}, config=r.audio,
                                     speakers=data.speakers, n_iter=2, emotion="sad", emotions=data.emotions)
    assert view.voice == f"{data.speakers[0]}, sad"
    with pytest.raises(ParameterError, match="pass their names as emotions="):
        tts_widget.tts_widget(run.model, speakers=data.speakers, config=r.audio)


@pytest.mark.backend
def test_reference_and_emotion_models_start_from_the_speaker_model(smoke_corpus, data_dir, tmp_path):
    r = dataclasses.replace(tts.recipe("smoke"), align_epochs=1, tts_epochs=1, reference_epochs=2, cosine_decay=True)
    data = tts.prepare(r, data_dir=data_dir)
    keras.utils.set_random_seed(0)
    aligner = tts.train_or_load_aligner(r, data, models_dir=tmp_path, verbose=0)
    durations = tts.durations(aligner.model, data)
    speaker = tts.train_or_load_tts(r, data, "speaker", durations=durations, models_dir=tmp_path, verbose=0)
    assert speaker.info["epochs"] == 1 and speaker.info["config"]["warm_start"] is False
    steps = len(data.batches["train"])
    assert float(keras.ops.convert_to_numpy(speaker.model.optimizer.learning_rate)) < r.learning_rate   # decayed

    reference = tts.train_or_load_tts(r, data, "reference", durations=durations, models_dir=tmp_path, verbose=0,
                                      start_from=speaker.model)
    assert reference.info["epochs"] == 2 and reference.info["steps"] == 2 * steps
    assert reference.info["config"]["warm_start"] is True

    # the notebook's "RECIPE = dataclasses.replace(RECIPE, ...)": what only scores the model loads it silently,
    # what makes it is another model, in a run folder of its own
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = tts.train_or_load_tts(dataclasses.replace(r, n_eval=3, gl_iters=4, reference_epochs=5), data,
                                     "speaker", durations=durations, models_dir=tmp_path)
    assert same.loaded and same.folder == speaker.folder
    again = tts.train_or_load_tts(dataclasses.replace(r, tts_epochs=3), data, "speaker", durations=durations,
                                  models_dir=tmp_path, verbose=0)
    assert not again.loaded and again.info["epochs"] == 3 and again.folder.name == speaker.folder.name.replace("e1", "e3")

    emotional = r.emotion_variant()
    emotion_data = tts.prepare(emotional, data_dir=data_dir)
    # the variance adaptor's pitch: every training and validation clip's f0 is stored, with its mel
    assert emotion_data.batches["train"].features.fill([*emotion_data.train, *emotion_data.valid],
                                                       kinds=("mel", "f0"), workers=1) == 0
    emotion = tts.train_or_load_tts(emotional, emotion_data, "speaker", durations=tts.durations(aligner.model, emotion_data),
                                    models_dir=tmp_path, verbose=0, start_from=speaker.model)
    config = emotion.model.config
    assert (config.mel_mean, config.mel_std) == (speaker.model.config.mel_mean, speaker.model.config.mel_std)
    assert (emotion_data.mel_mean, emotion_data.mel_std) != (config.mel_mean, config.mel_std)   # every emotion's
    with pytest.raises(ParameterError, match="start_from must be a trained TTS model"):
        tts.train_or_load_tts(r, data, "reference", durations=durations, models_dir=tmp_path / "x",
                              start_from=aligner.model)
