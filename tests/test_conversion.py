"""Conversion scoring (parallel ground truth), codes vs phonemes, the recipe and the widget's compute."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from voicelab.errors import ParameterError
from voicelab.evaluation import conversion as ev
from voicelab.recipes import conversion


def test_codes_vs_phonemes_on_known_labels():
    same = ev.codes_vs_phonemes(np.array([0, 0, 1, 1, 2, 2]), np.array([5, 5, 6, 6, 7, 7]))
    assert same["nmi"] == 1.0 and same["code_purity"] == 1.0 and same["codes_used"] == 3
    # two codes per phoneme: codes are pure, phonemes are split in two
    split = ev.codes_vs_phonemes(np.array([0, 1, 2, 3]), np.array([5, 5, 6, 6]))
    assert split["code_purity"] == 1.0 and split["phoneme_purity"] == 0.5 and 0.5 < split["nmi"] < 1.0
    # independent labels: every code sees every phoneme equally
    independent = ev.codes_vs_phonemes(np.array([0, 0, 1, 1]), np.array([5, 6, 5, 6]))
    assert independent["nmi"] == 0.0 and independent["code_purity"] == 0.5
    with pytest.raises(ParameterError):
        ev.codes_vs_phonemes(np.array([0, 1]), np.array([0]))


def test_frame_labels_repeat_and_cut():
    assert ev.frame_labels(np.array([1, 2, 3]), 4, 10).tolist() == [1] * 4 + [2] * 4 + [3] * 2
    with pytest.raises(ParameterError):
        ev.frame_labels(np.array([1]), 4, 5)


def _source(sid, speaker, sentence, audio):
    return ev.Source(sid, speaker, sentence, "hello", audio, np.zeros((10, 80), "float32"))


def test_evaluate_conversions_scores_against_the_target_recording(monkeypatch):
    """With a fake embedding, recogniser and MCD, each figure is the one the definitions give."""
    voices = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}

    def fake_embedding(y, *, sr):                 # the "voice" is the clip's first sample
        return voices["a"] if y[0] > 0 else voices["b"]

    monkeypatch.setattr(ev.metrics, "speaker_embedding", fake_embedding)
    # the "MCD" of two clips: the distance of their first samples
    monkeypatch.setattr(ev.metrics, "cepstral_analysis", lambda y, *, sr: y)
    monkeypatch.setattr(ev.metrics, "cepstral_distortion", lambda ref, est: float(abs(ref[0] - est[0])))
    a_clip, b_clip = np.full(100, 0.5, "float32"), np.full(100, -0.5, "float32")
    sources = [_source("a1", "a", "s1", a_clip), _source("b1", "b", "s1", b_clip)]
    targets = {"a": {"s1": a_clip}, "b": {"s1": b_clip}}
    # a converter that always produces voice b; the vocoder passes the "mel" through as audio
    convert = lambda mel, target: np.full(100, -0.5, "float32")  # noqa: E731
    vocoder = lambda mel: np.asarray(mel, "float32") if mel.ndim == 1 else np.full(100, 0.5, "float32")  # noqa: E731
    transcriber = lambda y, *, sr: "hello" if y[0] > 0 else "yellow"  # noqa: E731
    rows = ev.evaluate_conversions(sources, targets, convert, vocoder, sr=16000, transcriber=transcriber)
    assert len(rows) == 4
    by = {(r["source"], r["target"]): r for r in rows}
    assert by["a", "b"]["kind"] == "conversion" and by["a", "a"]["kind"] == "reconstruction"
    assert by["a", "b"]["closer_to_target"] == 1.0 and by["a", "b"]["sim_target"] == 1.0
    assert by["b", "a"]["closer_to_target"] == 0.0 and by["b", "a"]["sim_source"] == 1.0
    assert by["a", "b"]["wer"] == 1.0 and by["a", "b"]["source_wer"] == 0.0
    assert by["a", "b"]["mcd_target"] == 0.0 and by["a", "b"]["mcd_source_target"] == 1.0
    table = ev.pair_table(rows)
    assert [r["source"] for r in table] == ["a", "b", "average"]
    assert table[-1]["closer_to_target"] == 0.5
    matrix = ev.pair_matrix(rows, "closer_to_target", sources=["a", "b"], targets=["a", "b"])
    assert matrix.tolist() == [[0.0, 1.0], [0.0, 0.0]]
    with pytest.raises(ParameterError, match="no recording"):
        ev.evaluate_conversions(sources, {"a": {}}, convert, vocoder, sr=16000, transcriber=transcriber)


def test_recipe_names_its_variants():
    r = conversion.recipe("quick")
    assert r.run_name("speaker") == "vqvae-speaker-quick" and r.variant("speaker") == ""
    assert conversion.recipe("quick", downsample=8, code_dim=16).run_name("embedding") == \
        "vqvae-embedding-quick-x8-w16"
    assert conversion.recipe("quick", n_eval=9, eval_sources=1).run_name("speaker") == "vqvae-speaker-quick"
    with pytest.raises(ParameterError, match="ConversionRecipe has no field 'codes'"):
        conversion.recipe("quick", codes=3)
    with pytest.raises(ParameterError, match="model='clip'"):
        r.run_name("clip")


@pytest.mark.backend
def test_smoke_recipe_trains_and_converts(smoke_corpus, data_dir, tmp_path, one_torch_thread):
    """The recipe on the smoke corpus: train, the evaluation's sources and targets, a conversion (scored in the notebook)."""
    r = dataclasses.replace(conversion.recipe("smoke"), epochs=1)
    data = conversion.prepare(r, data_dir=data_dir)
    run = conversion.train_or_load_vqvae(r, data, models_dir=tmp_path, verbose=0)
    assert run.info["steps"] == 5 and "perplexity" in run.history["epochs"]
    sources, targets = conversion.sources_and_targets(r, data)
    assert {s.speaker for s in sources} == set(data.speakers[: r.eval_sources]) and set(targets) == set(data.speakers)
    convert = conversion.converter(run.model, data)
    out = convert(sources[0].mel, data.speakers[-1])
    assert out.shape == sources[0].mel.shape and np.isfinite(out).all()
    with pytest.raises(ParameterError, match="not a training speaker"):
        convert(sources[0].mel, "espeak_m3")


def test_conversion_view_converts_and_checks_its_input():
    from voicelab.ui.conversion_widget import conversion_view

    seen = {}

    def convert(mel, target):
        seen["shape"], seen["target"] = mel.shape, target
        return mel

    y = np.sin(np.arange(16000) / 10).astype("float32") * 0.1
    view = conversion_view(convert, y, "slt", vocoder=lambda mel: np.zeros(len(mel) * 256, "float32"))
    assert seen == {"shape": (63, 80), "target": "slt"} and view.converted.size == 63 * 256
    assert view.target_recording is None
    with pytest.raises(ParameterError, match="too short"):
        conversion_view(convert, y[:100], "slt", vocoder=lambda mel: mel)
