"""Listening tests: trials, hidden reference, randomisation, the CSV and its summary."""

from __future__ import annotations

import numpy as np
import pytest

from voicelab.errors import ParameterError
from voicelab.ui.listening import (
    HIDDEN_REFERENCE,
    RatingLog,
    abx_trials,
    listening_test,
    mushra_trials,
    read_ratings,
    summarize,
)


@pytest.fixture
def clips(rng):
    return {
        f"s{i}": {name: rng.standard_normal(160).astype(np.float32) for name in ("real", "melgan", "griffin_lim")}
        for i in range(12)
    }


def test_mushra_trials_hide_the_reference_and_shuffle(clips):
    trials = mushra_trials(clips, reference="real", seed=3)
    assert len(trials) == 12
    for trial in trials:
        assert set(trial.systems) == {"melgan", "griffin_lim", HIDDEN_REFERENCE}
        assert np.array_equal(trial.clips[HIDDEN_REFERENCE], clips[trial.item]["real"])
        assert "real" not in trial.systems
    orders = {trial.systems for trial in trials}
    assert len(orders) > 1, "the order of systems must vary between trials"
    assert [t.item for t in trials] != sorted(clips), "the order of items must be shuffled"
    again = mushra_trials(clips, reference="real", seed=3)
    assert [(t.item, t.systems) for t in again] == [(t.item, t.systems) for t in trials]


def test_abx_answers_are_balanced_and_recorded(clips, tmp_path):
    trials = abx_trials(clips, a="melgan", b="griffin_lim", seed=0)
    answers = [t.answer for t in trials]
    assert set(answers) == {"melgan", "griffin_lim"}
    for t in trials:
        assert np.array_equal(t.clips["X"], clips[t.item][t.answer])
    log = RatingLog(tmp_path / "abx.csv", listener="ana", test="abx")
    right = sum(log.choose(t, t.answer) for t in trials[:6]) + sum(log.choose(t, "melgan") for t in trials[6:])
    summary = summarize(tmp_path / "abx.csv")
    assert summary["melgan/griffin_lim"]["n"] == 12
    assert summary["melgan/griffin_lim"]["mean"] == pytest.approx(100 * right / 12)


def test_ratings_csv_and_summary(clips, tmp_path):
    trials = mushra_trials(clips, reference="real", seed=0)
    log = RatingLog(tmp_path / "ratings.csv", listener="ana")
    scores = {"melgan": 70.0, "griffin_lim": 40.0, HIDDEN_REFERENCE: 98.0}
    for k, trial in enumerate(trials):
        for system in trial.systems:
            log.rate(trial, system, scores[system] + (k % 3) - 1)
    rows = read_ratings(tmp_path / "ratings.csv")
    assert len(rows) == 36 and rows[0]["listener"] == "ana"
    summary = summarize(tmp_path / "ratings.csv")
    assert summary["melgan"]["mean"] == pytest.approx(70.0)
    assert summary[HIDDEN_REFERENCE]["mean"] > summary["melgan"]["mean"] > summary["griffin_lim"]["mean"]
    assert 0 < summary["melgan"]["ci95"] < 1.0
    # A second log on the same file appends instead of overwriting.
    RatingLog(tmp_path / "ratings.csv").rate(trials[0], "melgan", 50)
    assert len(read_ratings(tmp_path / "ratings.csv")) == 37


def test_bad_ratings_and_inputs(clips, tmp_path):
    trials = mushra_trials(clips, reference="real", seed=0)
    log = RatingLog(tmp_path / "r.csv")
    with pytest.raises(ParameterError, match="rating=120 must be between 0 and 100"):
        log.rate(trials[0], "melgan", 120)
    with pytest.raises(ParameterError, match="system 'wavenet' is not in trial 0"):
        log.rate(trials[0], "wavenet", 50)
    with pytest.raises(ParameterError, match="is not an A/B/X trial"):
        log.choose(trials[0], "melgan")
    with pytest.raises(ParameterError, match="item 's0' has no clip for system\\(s\\) ground_truth"):
        mushra_trials(clips, reference="ground_truth")
    with pytest.raises(ParameterError, match="clips is empty"):
        abx_trials({}, a="x", b="y")


def test_widget_records_a_page_per_click(clips, tmp_path):
    widgets = pytest.importorskip("ipywidgets")
    trials = mushra_trials(dict(list(clips.items())[:2]), reference="real", seed=0)
    log = RatingLog(tmp_path / "w.csv")
    box = listening_test(trials, log, sr=16000)
    for _ in trials:
        button = [c for c in box.children if isinstance(c, widgets.Button)][0]
        button.click()
    assert len(read_ratings(tmp_path / "w.csv")) == 2 * 3
    assert "Done" in box.children[0].value
