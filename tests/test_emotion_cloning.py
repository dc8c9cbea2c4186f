"""Notebook 05's recipe on the smoke corpus: the batches SpeechSplit trains on, the judge, swaps, scoring,
VoiceGAN, CodeGAN's codes and renditions.

The models themselves are tested in ``tests/test_speechsplit.py``, ``tests/test_wgan.py`` and
``tests/test_codegan.py``;
their kill -9 resume in ``tests/test_train_run.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from voicelab.errors import ParameterError
from voicelab.evaluation.emotion import METRICS, confusion, f0_agreement, judge_table
from voicelab.models.emotion import classify
from voicelab.data.batches import CodeBatches, ProsodyCodes, SplitBatches
from voicelab.recipes import speechsplit as ss
from voicelab.recipes import speechsplit_eval as scoring
from voicelab.vocoders import griffin_lim_vocoder

pytestmark = pytest.mark.backend


@pytest.fixture(scope="module")
def data(emotional_corpus, data_dir):
    return ss.prepare(ss.recipe("smoke"), data_dir=data_dir, corpus=emotional_corpus, progress=False)


def test_prepare_stores_the_mel_and_f0_of_every_training_and_validation_clip(data):
    assert data.features.fill([*data.train, *data.valid], kinds=("mel", "f0"), workers=1) == 0


def test_code_batches_pad_their_first_two_batches_to_different_lengths():
    # TensorFlow fixes each dimension the first two batches agree on: a later, shorter batch would fail
    in_order = [42] * 64 + [38] * 32 + [42] * 32              # batches 0, 1 and 3 pad to 42, batch 2 to 38
    shuffled = np.random.default_rng(0).integers(30, 50, 320).tolist()
    for lengths, shuffle in ((in_order, False), (shuffled, False), (shuffled, True)):
        table = ProsodyCodes([np.zeros((n, 34), "float32") for n in lengths], np.zeros(len(lengths), "int32"),
                                [str(i) for i in range(len(lengths))])
        batches = CodeBatches(table, batch_size=32, shuffle=shuffle)
        padded = [batches[i]["codes"].shape[1] for i in range(len(batches))]
        assert len(set(padded)) > 1 and padded[0] != padded[1]
        assert sorted(np.concatenate(batches.batches).tolist()) == list(range(len(lengths)))   # every clip once an epoch


def test_recipe_names_its_variants_and_refuses_unknown_fields():
    r = ss.recipe("smoke")
    assert r.run_name("speechsplit") == "speechsplit-smoke"
    changed = dataclasses.replace(r, content_dim=4, rate=4, epochs=9)
    assert changed.run_name("speechsplit") == "speechsplit-smoke-c4-x4-e9"
    assert changed.run_name("codegan") == "codegan-smoke-c4-x4-e9"     # CodeGAN learns that SpeechSplit's codes
    assert changed.run_name("judge") == "emotion-judge-smoke" and changed.run_name("voicegan") == "voicegan-smoke"
    assert ss.recipe("smoke", judge_epochs=1).run_name("speechsplit") == "speechsplit-smoke"
    with pytest.raises(ParameterError, match="SpeechSplitRecipe has no field 'bottleneck'"):
        ss.recipe("smoke", bottleneck=3)


def test_the_corpus_has_many_voices_and_every_clip_went_through_world(data):
    assert len(data.speakers) == 8 and data.emotions == ["angry", "happy", "neutral", "sad"]
    assert all(u.source.startswith("world:") for u in data.corpus)
    assert set(data.voices) == set(data.speakers)
    assert all(abs(np.linalg.norm(v) - 1.0) < 1e-5 for v in data.voices.values())


def test_split_batches_resample_the_content_and_the_pitch_but_not_the_target(data):
    train = SplitBatches(data.batches["train"], f0_stats=data.f0_stats, voices=data.voices, seed=0)
    batch = train[0]
    assert batch["content_mel"].shape == batch["mel"].shape and batch["pitch"].shape == batch["mel"].shape[:2]
    assert batch["embedding"].shape == (len(batch["mel"]), 256)
    row = int(np.argmax(batch["mel_length"]))
    n = int(batch["mel_length"][row])
    assert np.abs(batch["content_mel"][row, :n] - batch["mel"][row, :n]).mean() > 0.05
    assert 0 <= batch["pitch"].min() and batch["pitch"].max() <= 256 and (batch["pitch"][row, :n] > 0).any()
    again = SplitBatches(data.batches["train"], f0_stats=data.f0_stats, voices=data.voices, seed=0)[0]
    np.testing.assert_array_equal(again["content_mel"], batch["content_mel"])      # reproducible
    train.on_epoch_end()
    assert not np.array_equal(train[0]["content_mel"], batch["content_mel"]) or len(train) == 1
    plain = SplitBatches(data.batches["valid"], f0_stats=data.f0_stats, voices=data.voices, resample=False)[0]
    np.testing.assert_array_equal(plain["content_mel"], plain["mel"])
    first = data.batches["valid"].utterances(0)[0]
    n = int(plain["mel_length"][0])
    np.testing.assert_array_equal(plain["pitch"][0, :n], ss.pitch_classes(data, first)[:n])


def test_the_judge_is_above_chance_on_the_smoke_test_sentences(data, tmp_path):
    r = dataclasses.replace(ss.recipe("smoke"), judge_epochs=10)
    judge = ss.train_or_load_judge(r, data, models_dir=tmp_path, verbose=0).model
    test = list(data.test)
    p = classify(judge, [data.features.mel(u) for u in test])
    accuracy = np.mean([data.emotions[int(i)] == u.emotion for i, u in zip(p.argmax(1), test)])
    assert accuracy > 0.4, accuracy           # chance: 0.25


def test_swaps_evaluation_and_voicegan_end_to_end(data, tmp_path):
    r = ss.recipe("smoke")
    model = ss.train_or_load_speechsplit(r, data, models_dir=tmp_path, verbose=0).model
    judge = ss.train_or_load_judge(r, data, models_dir=tmp_path, verbose=0).model
    neutral = data.test.filter(emotion="neutral")[0]
    sad = data.test.filter(emotion="sad", speaker=neutral.speaker, sentence_id=neutral.sentence_id)[0]
    out = scoring.swap(model, data, content=neutral, rhythm=sad, pitch=sad)
    assert out.shape == data.features.mel(sad).shape
    with pytest.raises(ParameterError, match="not a speaker"):
        scoring.swap(model, data, content=neutral, voice="nobody")

    codes = ss.prosody_codes(model, data, list(data.train)[:5])
    rate, width = model.config.rhythm_rate, model.config.rhythm_dim + model.config.pitch_dim
    assert [c.shape for c in codes.codes] == [(-(-len(data.features.mel(u)) // rate), width)
                                              for u in list(data.train)[:5]]
    batch = CodeBatches(codes, batch_size=4, shuffle=False)[1]
    assert batch["codes"].shape == (1, len(codes.codes[4]), width) and batch["emotion"].tolist() == [codes.emotions[4]]
    codegan_run = ss.train_or_load_codegan(r, data, model, models_dir=tmp_path)
    assert codegan_run.info["steps"] == r.codegan_epochs * (len(data.train) // 32)
    angry = scoring.emotional_rendition(model, codegan_run.model, data, neutral, "angry")
    assert angry.shape == data.features.mel(neutral).shape and np.isfinite(angry).all()
    with pytest.raises(ParameterError, match="bored"):
        scoring.emotional_rendition(model, codegan_run.model, data, neutral, "bored")

    rows = scoring.evaluate(model, judge, r, data, vocoder=griffin_lim_vocoder(n_iter=4),
                       transcriber=lambda audio, sr: "hello", codegan=codegan_run.model)
    assert {row["system"] for row in rows} == set(scoring.SYSTEMS)
    assert len(rows) == 3 + 3 * 7                # neutral: 3 systems; each other emotion: 7
    assert all(row["duration_ratio"] == pytest.approx(len(data.features.audio(neutral)) /
                                                      len(data.features.audio(sad)), abs=0.02)
               for row in rows if row["system"] == "codegan" and row["emotion"] == "sad")  # the neutral's length
    only = scoring.evaluate(model, judge, r, data, vocoder=griffin_lim_vocoder(n_iter=4), codegan=codegan_run.model,
                       systems=("codegan",))
    assert [row["system"] for row in only] == ["codegan"] * 3
    with pytest.raises(ParameterError, match="needs codegan"):
        scoring.evaluate(model, judge, r, data, vocoder=griffin_lim_vocoder(n_iter=4), systems=("codegan",))
    for row in rows:
        if row["system"] == "recording":
            assert row["f0_corr"] == pytest.approx(1.0) and row["mcd"] == 0.0 and row["duration_ratio"] == 1.0
        if row["system"] in ("rhythm", "rhythm+pitch"):
            assert row["duration_ratio"] == pytest.approx(1.0, abs=0.02)   # the rhythm clip sets the length
    table = judge_table(rows, systems=scoring.SYSTEMS, emotions=data.emotions)
    assert [t["system"] for t in table] == list(scoring.SYSTEMS) and all(m in table[0] for m in METRICS)
    assert np.isnan(table[-1]["neutral"])        # no swap targets neutral
    assert confusion(rows, data.emotions, system="recording").sum() == 4

    gan = ss.train_or_load_voicegan(r, data, models_dir=tmp_path).model
    from voicelab.models.voicegan import nearest_speakers, sample_voices

    voices = sample_voices(gan, 3, seed=0)
    assert voices.shape == (3, 256) and len(nearest_speakers(voices, data.voices)) == 3
    assert scoring.same_speaker_similarity(data).shape == (len(data.clip_embeddings),)
    assert scoring.swap(model, data, content=neutral, voice=voices[0]).shape == data.features.mel(neutral).shape


def test_world_cue_check_scores_raw_and_world_passed_neutral_clips(data, smoke_corpus, data_dir, tmp_path):
    r = ss.recipe("smoke")
    plain = ss.plain_corpus_data(r, data_dir=data_dir)
    judge = ss.train_or_load_judge(r, data, models_dir=tmp_path, verbose=0).model
    rows = scoring.world_cue_check({"j": judge}, plain, r)
    assert rows[0]["clips"] == len(plain.test.filter(emotion="neutral"))
    assert 0.0 <= rows[0]["neutral, as made"] <= 1.0 and 0.0 <= rows[0]["neutral, through WORLD"] <= 1.0


def test_f0_agreement_sees_an_octave():
    t = np.arange(16000) / 16000
    a = 0.3 * np.sin(2 * np.pi * (150 * t + 30 * t ** 2))
    b = 0.3 * np.sin(2 * np.pi * (300 * t + 60 * t ** 2))
    corr, cents = f0_agreement(b, a)
    assert corr > 0.95 and cents == pytest.approx(1200, abs=60)
