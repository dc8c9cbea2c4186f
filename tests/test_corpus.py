"""The offline corpus: complete, parallel, split by sentence, deterministic, atomic, honest."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import time

import numpy as np
import pytest
import soundfile as sf

import voicelab.data.corpus as corpus
import voicelab.data.speakers as speakers
from voicelab.__main__ import main
from voicelab.data import Manifest, build_corpus, read_build_info, read_manifest
from voicelab.data.emotion import EMOTIONS, analyze
from voicelab.data.speakers import SPEAKERS, Speaker, check_speaker, derived_speakers, speak
from voicelab.errors import AudioError, DatasetError, ParameterError

SMALL = {"speakers": ["kal16"], "emotions": ["neutral", "sad"], "n_sentences": 4, "progress": False}
"""A corpus built in about a second: the fastest flite voice, one WORLD style."""


def small(out, **overrides) -> Manifest:
    return build_corpus(out, **{"workers": 1, **SMALL, **overrides})


# ------------------------------------------------------------------ the smoke corpus


def test_smoke_corpus_is_complete_and_parallel(smoke_corpus):
    speakers_ = {"awb", "rms", "slt", "kal16"}
    assert set(smoke_corpus.speakers) == speakers_ and smoke_corpus.emotions == sorted(EMOTIONS)
    sentences = {u.sentence_id for u in smoke_corpus}
    assert len(sentences) == 12
    have = {(u.sentence_id, u.speaker, u.emotion) for u in smoke_corpus}
    assert have == set(itertools.product(sentences, speakers_, EMOTIONS))
    assert read_build_info(smoke_corpus.root)["skipped"] == []


def test_rows_are_complete_and_files_decode(smoke_corpus):
    for utt in smoke_corpus:
        assert utt.id == f"{utt.speaker}_{utt.sentence_id}_{utt.emotion}"
        assert utt.path == f"wav/{utt.speaker}/{utt.id}.wav"
        assert utt.text and utt.phonemes and utt.sr == 16000 and utt.oov == ()
        expected = f"flite:{utt.speaker}"
        assert utt.source == (expected if utt.emotion == "neutral" else f"world:{utt.emotion}<-{expected}")
        info = sf.info(str(smoke_corpus.audio_path(utt)))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert info.frames / 16000 == pytest.approx(utt.duration, abs=1e-3)
        assert 0.5 <= utt.duration <= 20
    # rows sharing a sentence share its text and phonemes
    for sentence_id in {u.sentence_id for u in smoke_corpus}:
        rows = smoke_corpus.filter(sentence_id=sentence_id)
        assert len({(u.text, u.phonemes, u.split) for u in rows}) == 1


def test_audio_is_trimmed_and_normalised(smoke_corpus):
    from voicelab.dsp.audio import loudness

    for utt in smoke_corpus.filter(emotion="neutral")[::5]:
        y, sr = sf.read(smoke_corpus.audio_path(utt), dtype="float32")
        pad = int(corpus.PAD_SECONDS * sr)
        edges = np.concatenate([y[: pad // 2], y[-pad // 2:]])
        assert np.sqrt(np.mean(edges**2)) < 0.05 * np.sqrt(np.mean(y**2)), utt.id  # silence kept short
        assert np.sqrt(np.mean(y[pad: 3 * pad] ** 2)) > 0.05 * np.sqrt(np.mean(y**2)), utt.id  # speech right after
        assert loudness(y, sr=sr) == pytest.approx(corpus.TARGET_LUFS, abs=1.0) or np.abs(y).max() > 0.98


def test_splits_are_disjoint_by_sentence(smoke_corpus):
    split_of = {}
    for utt in smoke_corpus:
        assert split_of.setdefault(utt.sentence_id, utt.split) == utt.split
    counts = {s: sum(v == s for v in split_of.values()) for s in ("train", "valid", "test")}
    assert counts == {"train": 10, "valid": 1, "test": 1}
    train_text = {u.text for u in smoke_corpus.filter(split="train")}
    assert not train_text & {u.text for u in smoke_corpus.filter(split="test")}


def test_readme_and_build_info(smoke_corpus):
    readme = (smoke_corpus.root / "README.md").read_text()
    info = read_build_info(smoke_corpus.root)
    for name in smoke_corpus.speakers:
        assert f"| {name} | flite |" in readme
    assert "| sad | 0.85 | 0.6 | 0.85 | -4 |" in readme and "seed 0" in readme
    assert info["params"]["seed"] == 0 and info["params"]["n_sentences"] == 12
    assert info["counts"]["utterances"] == len(smoke_corpus) == 192
    assert [e["name"] for e in info["params"]["emotions"]] == list(EMOTIONS)


def test_rebuild_with_same_parameters_is_a_no_op(smoke_corpus):
    wav = smoke_corpus.audio_path(smoke_corpus[0])
    before = wav.stat().st_mtime_ns
    started = time.perf_counter()
    again = build_corpus(smoke_corpus.root, profile="smoke", seed=0, progress=False)
    assert time.perf_counter() - started < 5
    assert list(again) == list(smoke_corpus) and wav.stat().st_mtime_ns == before


def test_cli_prints_the_summary(smoke_corpus, capsys):
    assert main(["corpus", "--profile", "smoke", "--out", str(smoke_corpus.root), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "utterances: 192" in out and "already built" in out and "skipped:    0" in out
    assert main(["corpus", "--profile", "smoke", "--seed", "1", "--out", str(smoke_corpus.root), "--quiet"]) == 1
    assert "seed" in capsys.readouterr().err


# ------------------------------------------------------------------ small corpora


def test_same_seed_same_files_different_seed_different_sentences(tmp_path):
    a, b = small(tmp_path / "a"), small(tmp_path / "b", workers=2)
    assert (a.root / "manifest.jsonl").read_bytes() == (b.root / "manifest.jsonl").read_bytes()
    for utt in a:
        assert a.audio_path(utt).read_bytes() == b.audio_path(utt).read_bytes()
    c = small(tmp_path / "c", seed=1)
    assert {u.text for u in c} != {u.text for u in a}


def test_other_parameters_into_a_corpus_folder(tmp_path):
    out = tmp_path / "corpus"
    small(out)
    with pytest.raises(DatasetError, match="n_sentences differ"):
        small(out, n_sentences=3)
    replaced = small(out, n_sentences=3, overwrite=True)
    assert len({u.sentence_id for u in replaced}) == 3
    assert read_build_info(out)["params"]["n_sentences"] == 3
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not a voicelab corpus"):
        small(tmp_path / "other", overwrite=True)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert len(small(tmp_path / "empty")) == 8


def test_a_crash_leaves_no_partial_corpus(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash")

    stale = tmp_path / ".corpus.building-999999999"  # left by a killed build: that pid is gone
    stale.mkdir()
    monkeypatch.setattr(corpus, "_write_readme", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        small(tmp_path / "corpus")
    assert list(tmp_path.iterdir()) == []


def test_failed_clips_are_reported_and_left_out(tmp_path, monkeypatch, caplog):
    real = corpus.speak
    texts = [s.text for s in corpus.corpus_sentences(4, seed=0)]
    silent, broken = corpus.normalize_text(texts[1]), corpus.normalize_text(texts[2])

    def flaky(speaker, text, *, sr):
        if text == silent:
            return np.zeros(sr, np.float32)
        if text == broken:
            raise AudioError("flite -voice kal16 ... failed with exit code 1: simulated")
        return real(speaker, text, sr=sr)

    monkeypatch.setattr(corpus, "speak", flaky)
    with caplog.at_level(logging.WARNING, logger="voicelab.data.corpus"):
        manifest = small(tmp_path / "corpus")
    ids = {s.sentence_id for s in corpus.corpus_sentences(4, seed=0)[1:3]}
    assert len(manifest) == 4 and not ids & {u.sentence_id for u in manifest}
    skipped = {s["id"]: s["reason"] for s in read_build_info(manifest.root)["skipped"]}
    assert len(skipped) == 4 and all(f"kal16_{i}_{e}" in skipped for i in ids for e in ("neutral", "sad"))
    assert sum("silent" in r for r in skipped.values()) == 2 and sum("simulated" in r for r in skipped.values()) == 2
    readme = (manifest.root / "README.md").read_text()
    assert all(f"`{uid}`" in readme for uid in skipped)
    assert sum("skipped kal16_" in m for m in caplog.messages) == 4


def test_nothing_made_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "speak", lambda speaker, text, *, sr: np.zeros(sr, np.float32))
    with pytest.raises(DatasetError, match="no clip could be made"):
        small(tmp_path / "corpus")
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"profile": "huge"}, "profile='huge'"), ({"speakers": ["nobody"]}, "speaker='nobody'"),
     ({"emotions": ["bored"]}, "emotion='bored'"), ({"n_sentences": 0}, "n_sentences=0"),
     ({"seed": -1}, "seed=-1"), ({"workers": 0}, "workers=0"), ({"emotions": ["sad", "sad"]}, "distinct"),
     ({"derived": -1}, "derived=-1"), ({"world_neutral": "yes"}, "world_neutral='yes'")],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        small(tmp_path / "corpus", **kwargs)
    assert not (tmp_path / "corpus").exists()


def test_voicelab_workers_sets_the_default_workers(tmp_path, monkeypatch):
    seen = []

    def stop(folder, speakers_, styles, n, seed, workers, *rest):
        seen.append(workers)
        raise RuntimeError("stopped before rendering")

    monkeypatch.setattr(corpus, "_build", stop)
    monkeypatch.setenv("VOICELAB_WORKERS", "3")
    with pytest.raises(RuntimeError, match="stopped before rendering"):
        build_corpus(tmp_path / "corpus", **SMALL)
    assert seen == [3]
    monkeypatch.setenv("VOICELAB_WORKERS", "two")
    with pytest.raises(ParameterError, match="VOICELAB_WORKERS='two'"):
        build_corpus(tmp_path / "corpus", **SMALL)


# ------------------------------------------------------------------ speakers


def test_engines_and_voices_are_checked(monkeypatch):
    with pytest.raises(AudioError, match="no voice 'nosuchvoice'"):
        check_speaker(Speaker("x", "flite", "nosuchvoice", "male", "flite would fall back to kal silently"))
    with pytest.raises(AudioError, match="voice does not exist"):
        check_speaker(Speaker("x", "espeak", "xx-nosuchvoice", "male", ""))
    speakers._flite_voices.cache_clear()
    monkeypatch.setattr(speakers.shutil, "which", lambda program: None)
    with pytest.raises(AudioError, match="apt-get install flite espeak-ng"):
        check_speaker("slt")
    speakers._flite_voices.cache_clear()


def test_text_reaches_the_engine_verbatim():
    y = speak("kal16", "-v --help; $(rm -rf /tmp/x) 'quoted'")  # no shell, not an option
    assert y.dtype == np.float32 and len(y) > 16000


def test_espeak_and_derived_speakers():
    f3 = speak("espeak_f3", "please call stella.")
    assert f3.dtype == np.float32 and 0.8 < len(f3) / 16000 < 3
    base, deep = speak("slt", "please call stella."), speak("slt_vtl0.9", "please call stella.")
    f0 = [analyze(y, sr=16000).f0 for y in (base, deep)]
    ratio = np.median(f0[1][f0[1] > 0]) / np.median(f0[0][f0[0] > 0])
    assert ratio == pytest.approx(SPEAKERS["slt_vtl0.9"].f0_scale, rel=0.08)
    assert SPEAKERS["slt_vtl0.9"].source == "world:vtl0.9,f0x0.75<-flite:slt"
    assert {s.engine for s in SPEAKERS.values()} == {"flite", "espeak", "derived"} and len(SPEAKERS) >= 8


def test_derived_speakers_in_a_corpus(tmp_path):
    manifest = small(tmp_path / "corpus", speakers=["slt_vtl0.9", "espeak_m3"], n_sentences=3)
    assert len(manifest) == 12 and read_manifest(manifest.root / "manifest.jsonl").speakers == ["espeak_m3", "slt_vtl0.9"]
    sources = {u.source for u in manifest.filter(speaker="slt_vtl0.9")}
    assert sources == {"world:vtl0.9,f0x0.75<-flite:slt", "world:sad<-world:vtl0.9,f0x0.75<-flite:slt"}
    assert json.loads((manifest.root / "build.json").read_text())["params"]["versions"]["espeak"]


def test_derived_speakers_are_distinct_reproducible_and_in_range():
    voices = derived_speakers(12, seed=3)
    assert len({v.name for v in voices}) == 12 and all(len(v.name) <= 8 for v in voices)
    assert [v.voice for v in voices[:4]] == ["awb", "rms", "slt", "awb"] and {v.engine for v in voices} == {"derived"}
    assert not {v.name for v in voices} & set(SPEAKERS)
    assert derived_speakers(12, seed=3) == voices and derived_speakers(5, seed=3) == voices[:5]
    other = derived_speakers(12, seed=4)
    assert [(v.alpha, v.f0_scale) for v in other] != [(v.alpha, v.f0_scale) for v in voices]
    many = derived_speakers(200, seed=0)
    assert all(0.85 <= v.alpha <= 1.2 and 0.7 <= v.f0_scale <= 1.6 for v in many)
    assert len({(v.alpha, v.f0_scale) for v in many}) == 200
    assert np.median([v.f0_scale for v in many]) == pytest.approx(np.sqrt(0.7 * 1.6), rel=0.1)  # log-uniform
    for v in many:
        base = SPEAKERS[v.voice].gender
        flipped = v.f0_scale >= 1.3 if base == "male" else v.f0_scale <= 1 / 1.3
        assert v.gender == ({"male": "female", "female": "male"}[base] if flipped else base), v
        assert f"x{v.alpha:g}" in v.description and v.source.startswith(f"world:vtl{v.alpha:g},")


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n": 0}, "n=0"), ({"n": -2}, "n=-2"), ({"n": 2.0}, "n=2.0"), ({"n": True}, "n=True"), ({"n": "3"}, "n='3'"),
     ({"n": 2, "seed": -1}, "seed=-1"), ({"n": 2, "bases": ("nobody",)}, "nobody"),
     ({"n": 2, "bases": ("slt_vtl0.9",)}, "not derived"), ({"n": 2, "bases": ()}, "bases")],
)
def test_derived_speakers_bad_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        derived_speakers(**kwargs)


def test_world_neutral_sends_every_clip_through_world_once(tmp_path):
    from voicelab.dsp.audio import loudness

    plain = small(tmp_path / "plain", n_sentences=3)
    world = small(tmp_path / "world", n_sentences=3, world_neutral=True)
    assert all(u.source.startswith("world:") for u in world)
    assert {u.source for u in world.filter(emotion="neutral")} == {"world:neutral<-flite:kal16"}
    assert [u.id for u in world] == [u.id for u in plain]
    for utt in world.filter(emotion="neutral"):
        (y, sr), (raw, _) = (sf.read(m.audio_path(utt), dtype="float32") for m in (world, plain))
        assert len(y) != len(raw) or not np.allclose(y, raw, atol=1e-3), utt.id
        assert len(y) == pytest.approx(len(raw), rel=0.02)
        assert loudness(y, sr=sr) == pytest.approx(loudness(raw, sr=sr), abs=1.0)
    for utt in world.filter(emotion="sad"):  # made from the engine's output, not from the WORLD neutral clip
        assert world.audio_path(utt).read_bytes() == plain.audio_path(utt).read_bytes()
    assert read_build_info(world.root)["params"]["world_neutral"] is True
    readme, old_readme = ((m.root / "README.md").read_text() for m in (world, plain))
    assert "exactly\nonce" in readme and "--world-neutral --out" in readme and "Caveat" not in readme
    assert "Caveat" in old_readme and "`world_neutral=True`" in old_readme


def test_corpus_built_without_the_options_is_still_recognised(tmp_path):
    out = tmp_path / "corpus"
    manifest = small(out, n_sentences=3)
    params = read_build_info(out)["params"]
    assert set(params) == {"format", "seed", "n_sentences", "sr", "speakers", "emotions", "trim", "target_lufs",
                           "duration_limits", "versions"}  # as built before the options existed
    wav = manifest.audio_path(manifest[0])
    before = wav.stat().st_mtime_ns
    assert list(small(out, n_sentences=3, world_neutral=False, derived=0)) == list(manifest)
    assert wav.stat().st_mtime_ns == before
    with pytest.raises(DatasetError, match="world_neutral differ"):
        small(out, n_sentences=3, world_neutral=True)
    with pytest.raises(DatasetError, match="speakers differ"):
        small(out, n_sentences=3, derived=1)


def test_cli_builds_with_derived_speakers_and_world_neutral(tmp_path, monkeypatch, capsys):
    import voicelab.data

    def tiny(out, **kwargs):
        return build_corpus(out, **{**kwargs, "speakers": ["kal16"], "emotions": ["neutral", "sad"]})

    monkeypatch.setattr(voicelab.data, "build_corpus", tiny)
    argv = ["corpus", "--out", str(tmp_path / "corpus"), "--sentences", "2", "--workers", "1", "--quiet"]
    assert main([*argv, "--derived", "2", "--world-neutral"]) == 0
    assert "utterances: 12" in capsys.readouterr().out
    manifest = read_manifest(tmp_path / "corpus" / "manifest.jsonl")
    assert manifest.speakers == ["kal16", "v00_awb", "v01_rms"]
    assert all(u.source.startswith("world:") for u in manifest)
    params = read_build_info(manifest.root)["params"]
    assert [s["name"] for s in params["speakers"]] == manifest.speakers and params["world_neutral"] is True
    assert params["speakers"][1:] == [dataclasses.asdict(s) for s in derived_speakers(2, seed=0)]
    assert main([*argv, "--derived", "-1"]) == 1 and "derived=-1" in capsys.readouterr().err


def test_held_out_sentences_are_in_no_corpus_and_every_word_is_known():
    from voicelab import text
    from voicelab.data.grammar import corpus_sentences
    from voicelab.data.sentences_data import HELD_OUT

    spoken = {s.text.lower() for seed in (0, 1) for s in corpus_sentences(600, seed=seed)}
    assert len(HELD_OUT) == 30 and not {s.lower() for s in HELD_OUT} & spoken
    assert not text.oov_report(list(HELD_OUT))
    lengths = [len(s.split()) for s in HELD_OUT]
    assert min(lengths) <= 3 and max(lengths) >= 15   # shorter and longer than most corpus sentences


def test_speak_sentences_speaks_every_text_once(tmp_path):
    from voicelab.data import speak_sentences

    texts = ["Turn left.", "The train leaves at 6:45."]
    m = speak_sentences(tmp_path, texts, speakers=["slt", "awb"], progress=False)
    assert len(m) == 4 and {u.text for u in m} == set(texts) and set(m.speakers) == {"slt", "awb"}
    assert {u.split for u in m} == {"test"} and len({u.sentence_id for u in m}) == 2
    assert [u.id for u in read_manifest(tmp_path / "manifest.jsonl")] == [u.id for u in m]
    for u in m:
        y, sr = sf.read(m.audio_path(u))
        assert sr == 16000 and abs(len(y) / sr - u.duration) < 1e-3 and np.abs(y).max() > 0.05
    made = {u.id: m.audio_path(u).stat().st_mtime_ns for u in m}
    again = speak_sentences(tmp_path, texts[:1], speakers=["slt"], progress=False)   # read, not spoken again
    assert len(again) == 1 and again[0].id in made
    assert again.audio_path(again[0]).stat().st_mtime_ns == made[again[0].id]
    with pytest.raises(ParameterError, match="nothing to speak"):
        speak_sentences(tmp_path, [], speakers=["slt"])
    with pytest.raises(ParameterError, match="is not one of"):
        speak_sentences(tmp_path, texts, speakers=["nobody"])
